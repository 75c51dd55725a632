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
use runner::Backend;
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
        Ok(cli) if runs_demos(&cli) => cli,
        // Bad input, `--help`, `--list`: the runner answers them as for every backend.
        _ => return runner::main_with_args::<Cluster>(runner_args()),
    };
    let ranks = 1 + crate::demos::worker_ranks_needed(&cli);
    let mut command = mpirun(ranks, hostfile.as_ref());
    command.arg(current_exe_or_name()).args(&rest);
    let exit_code_file = ExitCodeFile::new();
    command.env(EXIT_CODE_FILE, &exit_code_file.0);
    let code = run_job(command);
    exit_code_file.code().map_or(code, ExitCode::from)
}

/// Where rank 0 leaves its exit code for the launcher: `mpirun` aborts the job and fills
/// stderr with advice when a rank exits other than 0, so rank 0 exits 0 and its code goes here.
const EXIT_CODE_FILE: &str = "CLUSTER_EXIT_CODE_FILE";

/// The exit codes a run may have (`ExitCode` can be compared, not read).
const EXIT_CODES: [u8; 5] = [0, 1, EXIT_BAD_INPUT, EXIT_INTERRUPTED, 141];

/// Rank 0's end: its exit code for the launcher, when a launcher waits for it, and 0 for
/// `mpirun`.
pub fn hand_over_exit_code(code: ExitCode) -> ExitCode {
    let Some(file) = std::env::var_os(EXIT_CODE_FILE) else {
        return code;
    };
    let Some(number) = EXIT_CODES.into_iter().find(|&n| ExitCode::from(n) == code) else {
        return code;
    };
    match std::fs::write(file, number.to_string()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => code,
    }
}

/// A file of this launcher's for rank 0's exit code, removed when dropped.
struct ExitCodeFile(std::path::PathBuf);

impl ExitCodeFile {
    fn new() -> Self {
        let name = format!("cluster-exit-code-{}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        ExitCodeFile(path)
    }

    /// The code rank 0 left, if it left one.
    fn code(&self) -> Option<u8> {
        std::fs::read_to_string(&self.0).ok()?.trim().parse().ok()
    }
}

impl Drop for ExitCodeFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The command line asks to run demos, and is good: the job must start.
fn runs_demos(cli: &Cli) -> bool {
    !cli.list
        && cli.start.is_none()
        && cli.validate(contract::domain::WorkerKind::Rank).is_ok()
        && cli.demos.iter().all(|demo| Cluster::DEMOS.contains(demo))
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

/// `mpirun` for a job that rank 0 of this job starts beside it, on this machine: nothing of
/// this job's MPI environment may reach it, or it would join this job instead.
pub fn mpirun_of_another_job(ranks: usize) -> Command {
    let mut command = mpirun(ranks, None);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if ["OMPI_", "PMIX_", "OPAL_", "ORTE_"]
            .iter()
            .any(|prefix| text.starts_with(prefix))
        {
            command.env_remove(&name);
        }
    }
    command.env_remove(EXIT_CODE_FILE);
    command
}

/// This program's path, for `mpirun` to start it.
pub fn current_exe_or_name() -> OsString {
    std::env::current_exe()
        .map(OsString::from)
        .unwrap_or_else(|_| "cluster".into())
}

/// Starts `mpirun` and ends as it ends, with nothing of the job left: with rank 0's exit
/// code, or 130 on Ctrl-C.
fn run_job(command: Command) -> ExitCode {
    // Every process of the job that outlives its parent (a rank of a job rank 0 started
    // beside this one, whose mpirun has ended) comes back to the launcher, which reaps it.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let code = wait_for_job(command);
    reap_every_descendant();
    code
}

/// Reaps every process that came back to the launcher, until none is left: a rank dies with
/// its `mpirun` (its parent-death signal), so this is short; one still there after five
/// seconds is killed.
fn reap_every_descendant() {
    use nix::errno::Errno;
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let started = std::time::Instant::now();
    loop {
        match waitpid(None::<nix::unistd::Pid>, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::ECHILD) => return,
            Err(Errno::EINTR) => {}
            Err(_) => return,
            Ok(WaitStatus::StillAlive) => {
                if started.elapsed() > Duration::from_secs(5) {
                    kill_children();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(_) => {}
        }
    }
}

/// Sends SIGKILL to every child of the launcher, as `/proc` lists them.
fn kill_children() {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let parent = status
            .lines()
            .find_map(|line| line.strip_prefix("PPid:"))
            .map(str::trim);
        if parent == Some(me.as_str()) {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Starts `mpirun` and waits for it: rank 0's exit code, or 130 on Ctrl-C.
fn wait_for_job(mut command: Command) -> ExitCode {
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

/// What a job of this program's rank 0 prints, once the job has ended well; the job is
/// stopped on Ctrl-C.
pub fn output_of(mut job: Child) -> Result<String, contract::DemoError> {
    use contract::DemoError;
    let mut output = String::new();
    let mut reader = std::io::BufReader::new(job.stdout.take().expect("piped"));
    let read = loop {
        let mut line = String::new();
        match interrupt::read_line(&mut reader, &mut line) {
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(_)) => output.push_str(&line),
            Ok(Err(e)) => break Err(DemoError::system("reading a job's output", e)),
            Err(interrupted) => break Err(interrupted.into()),
        }
    };
    if let Err(error) = read {
        stop(&mut job);
        return Err(error);
    }
    let status = match interrupt::wait_for_exit(&mut job) {
        Ok(status) => status.map_err(|e| DemoError::system("waiting for mpirun", e))?,
        Err(interrupted) => {
            stop(&mut job);
            return Err(interrupted.into());
        }
    };
    if !status.success() {
        return Err(DemoError::System(format!(
            "a job of this program ended with {status}"
        )));
    }
    Ok(output)
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
