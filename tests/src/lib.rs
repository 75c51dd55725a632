//! Support for the cross-backend tests: find the backends' binaries, run them as a user would
//! (with a deadline, so that a hang fails the test instead of stalling it), read their JSON.
//!
//! The binaries are the ones `cargo test --workspace` builds for the `threads`, `processes`
//! and `tasks` packages' own integration tests, next to this test's executable.

use contract::report::RunDocument;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Every backend, by binary name.
pub const BACKENDS: [&str; 3] = ["threads", "processes", "tasks"];

/// How long any single run may take in these tests before it counts as hung.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The settings of a test that runs every demo: small counts, and a scale at which `event`'s
/// draw period (25 ms) stays well above scheduling noise on a loaded machine, so that its
/// 10 ± 1 draws hold.
pub const WHOLE_RUN: [&str; 8] = [
    "--scale", "0.05", "--count", "1000", "--trials", "20", "--n", "100000",
];

/// The path of a backend's binary in this build's target directory.
pub fn binary(backend: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/<backend>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let path = profile_dir.join(backend);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds every backend's binary",
        path.display()
    );
    path
}

/// A command for a backend's binary with `args`, its own process group, and no colour.
/// Its temporary files (e.g. `download`'s default output folder) go to a folder of its own
/// under the build's `target/tmp`, not the machine's temporary folder; the folder is removed
/// when the returned guard is dropped, so keep it until the run has ended.
pub fn command(backend: &str, args: &[&str]) -> (Command, TempDir) {
    let scratch = scratch_dir();
    let mut command = Command::new(binary(backend));
    command
        .args(args)
        .env("TMPDIR", scratch.path())
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    (command, scratch)
}

/// A new folder under `target/tmp/backend-runs`, removed when dropped.
fn scratch_dir() -> TempDir {
    let profile_dir = binary("threads")
        .parent()
        .map(PathBuf::from)
        .expect("target/<profile>");
    let dir = profile_dir.join("../tmp/backend-runs");
    std::fs::create_dir_all(&dir).expect("create target/tmp/backend-runs");
    tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&dir)
        .expect("create a folder in target/tmp/backend-runs")
}

/// What a finished run left: its status, its output, how long it took.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// The exit code; panics with the output when the process was killed by a signal.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {self:?}"))
    }

    /// The `--json` document on stdout.
    pub fn document(&self) -> RunDocument {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not the JSON document ({e}): {self:?}"))
    }
}

/// Runs a backend's binary to its end (killing it after [`DEADLINE`]).
pub fn run(backend: &str, args: &[&str]) -> Finished {
    let (mut command, _scratch) = command(backend, args);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the backend binary");
    finish(child, DEADLINE)
}

/// Waits for `child` to end, at most `deadline`; on expiry kills its process group and panics.
pub fn finish(mut child: Child, deadline: Duration) -> Finished {
    let started = Instant::now();
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > deadline {
            kill_group(child.id());
            let _ = child.wait();
            panic!("the run did not end within {deadline:?}");
        }
        thread::sleep(Duration::from_millis(2));
    };
    Finished {
        status,
        elapsed: started.elapsed(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(stream: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_string(&mut text);
        }
        text
    })
}

/// Sends SIGKILL to a whole process group (the test's own cleanup of a hung run).
pub fn kill_group(pgid: u32) {
    let pgid = nix::unistd::Pid::from_raw(pgid as i32);
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
}

/// Runs a backend with `--json` and returns the document, asserting exit code `expected_code`.
pub fn run_json(backend: &str, args: &[&str], expected_code: i32) -> RunDocument {
    let mut all_args = vec!["--json"];
    all_args.extend_from_slice(args);
    let finished = run(backend, &all_args);
    assert_eq!(
        finished.code(),
        expected_code,
        "{backend} {all_args:?}: {finished:?}"
    );
    finished.document()
}

/// Makes this test process the subreaper of everything it starts, so that a process a
/// binary leaves behind is re-parented here and [`assert_nothing_left`] can see it. Use it
/// in a test file that holds a single test: `waitpid(-1)` would race with other tests.
pub fn become_subreaper() {
    nix::sys::prctl::set_child_subreaper(true).expect("become a child subreaper");
}

/// Panics if any process a finished binary made is still around, running or as a zombie.
/// Needs [`become_subreaper`] first.
pub fn assert_nothing_left(context: &str) {
    use nix::errno::Errno;
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    match waitpid(None::<nix::unistd::Pid>, Some(WaitPidFlag::WNOHANG)) {
        Err(Errno::ECHILD) => {}
        Ok(WaitStatus::StillAlive) => panic!("{context}: a process was left running"),
        Ok(status) => panic!("{context}: a process was left unreaped: {status:?}"),
        Err(e) => panic!("{context}: waitpid: {e}"),
    }
}

/// Runs `processes --start METHOD` to its end with `args` (as [`run`] does).
pub fn run_started_by(method: &str, args: &[&str]) -> Finished {
    run("processes", &[&["--start", method][..], args].concat())
}

/// `processes --start METHOD` leaves no process behind after a successful whole run, a worker
/// killed by SIGKILL and a worker that panicked, and reports each as it happened. Needs
/// [`become_subreaper`] first.
pub fn assert_started_by_leaves_nothing(method: &str) {
    let finished = run_started_by(method, &WHOLE_RUN);
    assert_eq!(finished.code(), 0, "{finished:?}");
    assert!(
        finished.stdout.contains(&format!("start {method}")),
        "{finished:?}"
    );
    assert_nothing_left(&format!("{method}, a successful run"));

    let killed = run_started_by(
        method,
        &[&WHOLE_RUN[..], &["--inject", "kill-worker"]].concat(),
    );
    assert_eq!(killed.code(), 1, "{killed:?}");
    assert!(
        killed.stdout.contains("t1 was killed by signal SIGKILL"),
        "{killed:?}"
    );
    assert_nothing_left(&format!("{method}, a worker killed by SIGKILL"));

    let panicked = run_started_by(
        method,
        &["--scale", "0.01", "--inject", "panic-worker", "custom-init"],
    );
    assert_eq!(panicked.code(), 1, "{panicked:?}");
    assert!(
        panicked
            .stdout
            .contains("t1 exited with code 101 (it panicked)"),
        "{panicked:?}"
    );
    assert_nothing_left(&format!("{method}, a worker that panicked"));
}

/// Runs a backend with `--json` for one demo, asserts exit 0 and a checked outcome, and
/// returns that demo's report.
pub fn one_demo(backend: &str, args: &[&str]) -> contract::report::DemoReport {
    let document = run_json(backend, args, 0);
    assert_eq!(document.backend, backend);
    assert_eq!(document.demos.len(), 1, "{backend} {args:?}");
    let report = document.demos.into_iter().next().unwrap();
    assert!(report.ok, "{backend} {args:?}: {report:?}");
    report
}

/// A named measurement of a report; panics if the demo did not record it.
pub fn measured(report: &contract::report::DemoReport, name: &str) -> f64 {
    *report
        .figures
        .measured
        .get(name)
        .unwrap_or_else(|| panic!("{}: no figure {name}: {:?}", report.id, report.figures))
}

/// Starts a backend narrating `args`, waits until a narration line contains `cue`, sends
/// SIGINT to its whole process group (Ctrl-C) or to the binary alone, and returns how it
/// ended; panics if it has not ended within `deadline`.
pub fn interrupt_when(
    backend: &str,
    args: &[&str],
    cue: &str,
    whole_group: bool,
    deadline: Duration,
) -> Finished {
    interrupt_after_looking(backend, args, cue, whole_group, deadline, |_| {})
}

/// Like [`interrupt_when`], and first hands the binary's pid to `look`, which may inspect
/// the running processes (e.g. its workers) before the SIGINT.
pub fn interrupt_after_looking(
    backend: &str,
    args: &[&str],
    cue: &str,
    whole_group: bool,
    deadline: Duration,
    look: impl FnOnce(u32),
) -> Finished {
    use nix::sys::signal::{Signal, kill, killpg};
    use std::io::BufRead;
    let (mut command, _scratch) = command(backend, args);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the backend binary");
    let pid = child.id();
    // The narration is read on a thread of its own, so that the wait for the cue has a
    // deadline: a run that hangs silently fails the test instead of stalling it.
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (seen, cue_seen) = std::sync::mpsc::channel();
    let cue_owned = cue.to_string();
    let reader = thread::spawn(move || {
        let mut told = false;
        for line in lines.map_while(Result::ok) {
            if !told && line.contains(&cue_owned) {
                told = seen.send(()).is_ok();
            }
        }
    });
    // The cue may come late on a loaded machine: it has the suite's own deadline; `deadline`
    // bounds the time from the interrupt to the end.
    if cue_seen.recv_timeout(DEADLINE).is_err() {
        kill_group(pid);
        let _ = child.wait();
        panic!("{backend} {args:?}: the narration did not show {cue:?} within {DEADLINE:?}");
    }
    look(pid);
    let target = nix::unistd::Pid::from_raw(pid as i32);
    if whole_group {
        killpg(target, Signal::SIGINT).expect("killpg");
    } else {
        kill(target, Signal::SIGINT).expect("kill");
    }
    // The reader ends when the last holder of the pipe ends; it is not waited for, so that
    // a process left behind (which the leftovers tests look for) cannot stall this one.
    drop(reader);
    finish(child, deadline)
}

/// The command lines of `pid`'s children (those its main thread started), each as its
/// arguments.
pub fn children_command_lines(pid: u32) -> Vec<Vec<String>> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .expect("read the children of a running binary");
    children
        .split_whitespace()
        .map(|child| {
            let line = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            line.split(|&b| b == 0)
                .filter(|arg| !arg.is_empty())
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect()
        })
        .collect()
}

/// How an interrupt reaches a running binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Ctrl-C at a terminal: SIGINT to the binary's whole process group.
    CtrlC,
    /// `kill -INT` or `kill -TERM`: the signal to the binary alone.
    Kill(nix::sys::signal::Signal),
}

/// What a run interrupted at a cue left.
#[derive(Debug)]
pub struct Interrupted {
    /// How it ended; `elapsed` runs from the delivery of the signal to the end.
    pub finished: Finished,
    /// Processes of the run's process group still present once the binary had ended
    /// (running, or dead and not reaped): what it left behind.
    pub left_behind: bool,
}

/// Starts `command` (made by [`command`]: its own process group), waits until a line of its
/// stdout contains `cue`, delivers the interrupt, and waits for the end, at most `deadline`:
/// then its group is killed, and it is reported as ended by SIGKILL after `deadline`. Stdout
/// goes on being read after the cue, so that the binary never blocks on a full pipe. `Err`
/// when the cue never came.
pub fn interrupt_at_cue(
    mut command: Command,
    cue: &str,
    delivery: Delivery,
    deadline: Duration,
) -> Result<Interrupted, String> {
    use nix::sys::signal::{Signal, kill, killpg};
    use std::io::BufRead;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the backend binary");
    let pid = child.id();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => {
                kill_group(pid);
                let finished = finish(child, deadline);
                return Err(format!(
                    "the cue {cue:?} never came; stdout: {seen}; it ended: {finished:?}"
                ));
            }
            Ok(_) if line.contains(cue) => break,
            Ok(_) => seen.push_str(&line),
        }
    }
    let rest = drain(Some(stdout));
    let target = nix::unistd::Pid::from_raw(pid as i32);
    match delivery {
        Delivery::CtrlC => killpg(target, Signal::SIGINT).expect("killpg"),
        Delivery::Kill(signal) => kill(target, signal).expect("kill"),
    }
    let started = Instant::now();
    let errors = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > deadline {
            kill_group(pid);
            break child.wait().expect("wait");
        }
        thread::sleep(Duration::from_millis(1));
    };
    let elapsed = started.elapsed();
    let left_behind = !group_is_gone(pid);
    if left_behind {
        // What is left may hold the pipes open: it goes before they are read to the end.
        kill_group(pid);
    }
    let finished = Finished {
        status,
        elapsed,
        stdout: format!("{seen}…{cue}…{}", rest.join().expect("stdout reader")),
        stderr: errors.join().expect("stderr reader"),
    };
    Ok(Interrupted {
        finished,
        left_behind,
    })
}

/// True when no process of the process group `pgid` exists any more, not even unreaped.
pub fn group_is_gone(pgid: u32) -> bool {
    let pgid = nix::unistd::Pid::from_raw(pgid as i32);
    nix::sys::signal::killpg(pgid, None) == Err(nix::errno::Errno::ESRCH)
}

/// Keeps this test's thread, and so every process it starts from now on, on one core. With two
/// cores a run's wake-ups either stay on one core or cross to the other, which costs ten times
/// more here, and each run gets one way or the other for all of them (see "Two figures per
/// run" in docs/report.md): three runs against three can then differ by the luck of the draw,
/// not by anything the harness does. On one core there is no draw.
pub fn on_one_core() {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    let this_thread = Pid::from_raw(0);
    let allowed = sched_getaffinity(this_thread).unwrap();
    let first = (0..CpuSet::count())
        .find(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .unwrap();
    let mut one = CpuSet::new();
    one.set(first).unwrap();
    sched_setaffinity(this_thread, &one).unwrap();
}

/// How many CPUs this thread may run on: the placements a channel's round trips are timed in
/// (two cores only with two).
pub fn allowed_cpus() -> usize {
    use nix::sched::{CpuSet, sched_getaffinity};
    let allowed = sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap();
    (0..CpuSet::count())
        .filter(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .count()
}
