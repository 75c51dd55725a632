//! The launcher: the program as a user runs it. It checks the command line as every backend
//! does (bad input exits 2 before any rank starts; `--list` and `--help` need no rank), then
//! starts this program again under `mpirun` with as many ranks as the demos asked for need,
//! and ends as the job ends.
//!
//! `--hostfile FILE` is this program's own option: it goes to `mpirun`, which places the
//! ranks on the machines the file lists. Without it every rank runs here, more ranks than
//! cores allowed (`--oversubscribe`). As root, `mpirun` needs `--allow-run-as-root`.
//!
//! No rank is left behind: `mpirun` dies with the launcher (`PR_SET_PDEATHSIG`) and each rank
//! with `mpirun`; on Ctrl-C or SIGTERM the launcher asks `mpirun` to end the job (SIGTERM:
//! it kills every rank), reaps it and exits 130.

use crate::Cluster;
use clap::Parser;
use contract::interrupt;
use contract::settings::{EXIT_BAD_INPUT, EXIT_INTERRUPTED};
use runner::cli::Cli;
use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

/// The launcher's own option: the machines to run ranks on.
const HOSTFILE: &str = "--hostfile";

pub fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_else(|| "cluster".into());
    let (hostfile, rest) = match take_hostfile(args.collect()) {
        Ok(split) => split,
        Err(problem) => return bad_input(&problem),
    };
    let runner_args = || std::iter::once(program.clone()).chain(rest.iter().cloned());
    let cli = match Cli::try_parse_from(runner_args()) {
        Ok(cli) if !cli.list && cli.start.is_none() && cli.validate().is_ok() => cli,
        // Bad input, `--help`, `--list`: the runner answers them as for every backend.
        _ => return runner::main_with_args::<Cluster>(runner_args()),
    };
    let ranks = 1 + crate::demos::worker_ranks_needed(&cli);
    let mut command = mpirun(ranks, hostfile.as_ref());
    command.arg(current_exe_or_name()).args(&rest);
    run_job(command)
}

/// Takes `--hostfile FILE` (or `--hostfile=FILE`) out of the arguments; the file must be
/// readable.
fn take_hostfile(args: Vec<OsString>) -> Result<(Option<OsString>, Vec<OsString>), String> {
    let mut hostfile = None;
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        let value = if text == HOSTFILE {
            Some(
                args.next()
                    .ok_or_else(|| format!("error: {HOSTFILE} needs a file"))?,
            )
        } else {
            text.strip_prefix("--hostfile=").map(OsString::from)
        };
        match value {
            Some(file) => {
                if hostfile.is_some() {
                    return Err(format!("error: {HOSTFILE} is given twice"));
                }
                std::fs::read(&file).map_err(|e| {
                    format!(
                        "error: cannot read hostfile {}: {e}",
                        file.to_string_lossy()
                    )
                })?;
                hostfile = Some(file);
            }
            None => rest.push(arg),
        }
    }
    Ok((hostfile, rest))
}

/// `mpirun` with the options every job of this program uses.
pub fn mpirun(ranks: usize, hostfile: Option<&OsString>) -> Command {
    let mut command = Command::new("mpirun");
    command.args(["-np", &ranks.to_string()]);
    match hostfile {
        Some(file) => {
            command.arg("--hostfile").arg(file);
        }
        // Every rank here, more ranks than cores allowed.
        None => {
            command.arg("--oversubscribe");
        }
    }
    // Ranks are not pinned: pinned, two ranks could share one core while the other idles.
    command.args(["--bind-to", "none"]);
    if rustix::process::geteuid().is_root() {
        command.arg("--allow-run-as-root");
    }
    command
}

/// This program's path, for `mpirun` to start it.
pub fn current_exe_or_name() -> OsString {
    std::env::current_exe()
        .map(OsString::from)
        .unwrap_or_else(|_| "cluster".into())
}

/// Starts `mpirun` and ends as it ends: with rank 0's exit code, or 130 on Ctrl-C.
fn run_job(mut command: Command) -> ExitCode {
    interrupt::install();
    let mut job = match start_dying_with_us(&mut command) {
        Ok(job) => job,
        Err(error) => {
            eprintln!("cluster: error: cannot start mpirun: {error}");
            return ExitCode::FAILURE;
        }
    };
    match interrupt::wait_for_exit(&mut job) {
        Ok(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => ExitCode::from(code.clamp(0, 255) as u8),
            (None, Some(signal)) => {
                eprintln!("cluster: mpirun was killed by signal {signal}");
                ExitCode::FAILURE
            }
            (None, None) => ExitCode::FAILURE,
        },
        Ok(Err(error)) => {
            eprintln!("cluster: error: waiting for mpirun: {error}");
            stop(&mut job);
            ExitCode::FAILURE
        }
        Err(interrupt::Interrupted) => {
            stop(&mut job);
            eprintln!("cluster: interrupted; every rank has been stopped");
            ExitCode::from(EXIT_INTERRUPTED)
        }
    }
}

/// Starts `command`, which dies with this process: no `mpirun` outlives its launcher.
pub fn start_dying_with_us(command: &mut Command) -> std::io::Result<Child> {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec and calls only prctl and
    // getppid, which are async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the launcher is gone"));
            }
            Ok(())
        })
    };
    command.stdin(Stdio::null()).spawn()
}

/// Asks `mpirun` to end the job (SIGTERM: it kills every rank), and reaps it; SIGKILL if it
/// has not ended within five seconds.
pub fn stop(job: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(job.id() as i32);
    if let Ok(None) = job.try_wait() {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    for _ in 0..500 {
        if !matches!(job.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = job.kill();
    let _ = job.wait();
}

fn bad_input(line: &str) -> ExitCode {
    eprintln!("cluster: {line}");
    ExitCode::from(EXIT_BAD_INPUT)
}
