//! One backend run, measured from outside: the program runs as a child process with `--json`
//! for one demo, while a sampler walks its process tree in /proc; CPU time and context
//! switches come from the rusage of the reaped tree. Its report is read and its outcome
//! checked again with the contract's checker: the backend's own `ok` is never trusted.

use crate::backends::{Backend, describe_kind};
use crate::error::ReportError;
use contract::demos::DemoId;
use contract::domain::BackendKind;
use contract::report::{DemoReport, RunDocument};
use nix::sys::resource::{Usage, UsageWho, getrusage};
use nix::sys::signal::Signal;
use procfs::process::Process;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How often the sampler reads the process tree's memory.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// How often it reads it until it has [`MIN_MEMORY_SAMPLES`] of the backend's program: a run
/// of a few milliseconds (custom-init) would otherwise be seen once, just after its `exec`,
/// with nothing of it loaded yet (a peak of 70 KiB), or not at all. Only the first
/// milliseconds are read this often: each read costs the backend's cores a little, and on
/// one core it would shift what the demo measures.
pub const SAMPLE_EVERY_AT_FIRST: Duration = Duration::from_millis(1);
/// The fewest samples of the backend's program for its peak PSS to count: with fewer, the
/// run ended before its memory could be seen, and the figure is left out, not made up.
pub const MIN_MEMORY_SAMPLES: u32 = 3;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Exit 0, the backend said ok, and the contract's checker passed its outcome.
    Ok,
    /// The backend said its outcome did not check (exit 1), or a worker died; or it said ok
    /// but exited 1.
    OutcomeFailed,
    /// The backend said ok, but the contract's checker refused its outcome.
    OutcomeRejected,
    /// Any other exit code (bad input, a crash of the program itself, an interrupt).
    ExitCode,
    /// Killed by a signal.
    Signal,
    /// No end within `--timeout`; killed.
    TimedOut,
    /// Ended, but stdout was not the JSON document for this demo, with the kind its listing
    /// declared.
    InvalidJson,
    /// The program could not be started.
    NotStarted,
}

/// One run of one backend for one demo, with everything measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    pub backend: String,
    pub index: u32,
    pub status: RunStatus,
    /// What went wrong, for any status but `ok`.
    pub problem: Option<String>,
    /// Wall time of the whole process, from spawn to reap.
    pub process_wall_s: f64,
    /// User and system CPU of the whole tree (rusage of the reaped children).
    pub user_s: f64,
    pub sys_s: f64,
    pub voluntary_switches: i64,
    pub involuntary_switches: i64,
    /// Peak of the sum of PSS over the live tree (shared pages split between sharers).
    pub peak_pss_kib: u64,
    /// Peak RSS of the largest single process (counts shared pages in full).
    pub largest_rss_kib: u64,
    /// Distinct processes and threads the sampler saw (short-lived ones can be missed).
    pub processes_seen: usize,
    pub threads_seen: usize,
    pub samples: u32,
    /// The backend's own report of the demo, when it printed one.
    pub report: Option<DemoReport>,
}

impl Run {
    pub fn succeeded(&self) -> bool {
        self.status == RunStatus::Ok
    }

    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// The demo's own wall time, as the backend measured it.
    pub fn demo_wall_s(&self) -> Option<f64> {
        self.report.as_ref().map(|r| r.wall_s)
    }
}

/// What to run.
pub struct RunSpec<'a> {
    pub backend: &'a Backend,
    pub demo: DemoId,
    pub timeout: Duration,
    /// Arguments for this run only, after the backend's own (a sweep's value).
    pub extra_args: &'a [String],
    /// Raised by Ctrl-C or SIGTERM: the run under way is told to stop (see [`wait_or_kill`]).
    pub interrupted: Option<&'a AtomicBool>,
}

/// Runs the backend once and measures it. Never panics on a bad run: the run says what
/// went wrong.
pub fn measure(spec: &RunSpec, index: u32) -> Run {
    let mut run = Run {
        backend: spec.backend.name().to_string(),
        index,
        status: RunStatus::NotStarted,
        problem: None,
        process_wall_s: 0.0,
        user_s: 0.0,
        sys_s: 0.0,
        voluntary_switches: 0,
        involuntary_switches: 0,
        peak_pss_kib: 0,
        largest_rss_kib: 0,
        processes_seen: 0,
        threads_seen: 0,
        samples: 0,
        report: None,
    };
    let before = children_usage();
    let started = Instant::now();
    let mut command = spec.backend.command(spec.demo);
    command
        .args(spec.extra_args)
        .env("NO_COLOR", "1")
        // A panic's backtrace would be symbolised into the memory figures (tens of MiB).
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let this_program = nix::unistd::getpid();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: prctl and getppid are single system calls, and it
    // allocates nothing (the error is a constant kind).
    unsafe {
        command.pre_exec(move || {
            // If compare dies, even of SIGKILL, the backend is told to stop as by SIGTERM
            // (it stops its workers and ends); compare runs it from its main thread, whose
            // end is the program's.
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from)?;
            if nix::unistd::getppid() != this_program {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            Ok(())
        })
    };
    let child = command.spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            run.problem = Some(format!(
                "cannot start {}: {error}",
                spec.backend.spec.program.display()
            ));
            return run;
        }
    };
    let pid = child.id();
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let (stop_sampling, sampling_stopped) = mpsc::channel::<()>();
    let sampler = thread::spawn(move || sample_tree(pid as i32, sampling_stopped));

    let ended = wait_or_kill(&mut child, spec.timeout, spec.interrupted);
    run.process_wall_s = started.elapsed().as_secs_f64();
    let (status, timed_out) = match ended {
        Ok((status, timed_out)) => (Ok(status), timed_out),
        Err(error) => (Err(error), false),
    };
    let after = children_usage();
    let _ = stop_sampling.send(());
    let peak = sampler.join().unwrap_or_default();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();

    if let (Some(before), Some(after)) = (before, after) {
        run.user_s = seconds(after.user_time()) - seconds(before.user_time());
        run.sys_s = seconds(after.system_time()) - seconds(before.system_time());
        run.voluntary_switches =
            after.voluntary_context_switches() - before.voluntary_context_switches();
        run.involuntary_switches =
            after.involuntary_context_switches() - before.involuntary_context_switches();
    }
    run.peak_pss_kib = peak.pss_kib;
    run.largest_rss_kib = peak.largest_rss_kib;
    run.processes_seen = peak.processes.len();
    run.threads_seen = peak.threads.len();
    run.samples = peak.samples;

    let last_stderr_line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    let status = match status {
        Ok(status) => status,
        Err(error) => {
            run.status = RunStatus::NotStarted;
            run.problem = Some(format!("cannot wait for the backend: {error}"));
            return run;
        }
    };
    if timed_out {
        run.status = RunStatus::TimedOut;
        run.problem = Some(format!(
            "no end within {} s; killed",
            spec.timeout.as_secs_f64()
        ));
        return run;
    }
    if let Some(signal) = status.signal() {
        run.status = RunStatus::Signal;
        let name = Signal::try_from(signal)
            .map_or_else(|_| signal.to_string(), |s| s.as_str().to_string());
        run.problem = Some(format!("killed by signal {name}"));
        return run;
    }
    let code = status.code().unwrap_or(-1);
    if code != 0 && code != 1 {
        run.status = RunStatus::ExitCode;
        run.problem = Some(format!("exit code {code}: {last_stderr_line}"));
        return run;
    }
    match read_report(&stdout, spec.demo, spec.backend.kind()) {
        Ok(report) => {
            let (status, problem) = judge(spec.demo, spec.backend.kind(), &report, code);
            run.status = status;
            run.problem = problem;
            run.report = Some(report);
        }
        Err(problem) => {
            run.status = RunStatus::InvalidJson;
            run.problem = Some(problem.to_string());
        }
    }
    run
}

/// Waits for `child` to end, at most `timeout`, then kills it (SIGKILL; its own children die
/// with it, by their parent-death signal). Returns how it ended, and whether it was killed
/// for its timeout.
///
/// Once `interrupted` is raised (Ctrl-C, or SIGTERM to this program alone, which the child
/// does not see), the child is sent SIGTERM, once: it stops its demo, stops and reaps its
/// workers and ends with 130, and the wait goes on for that end.
///
/// The child has one owner, this call: nothing else waits for it, kills it or reaps it. It
/// is waited for on its pidfd, opened while it is unreaped, and killed through that pidfd,
/// before it is reaped: the kill reaches that process or none, never another that has since
/// been given its pid. A run that ended as its time ran out (the kill then finds a dead
/// child) ended by itself: it is not reported as timed out.
pub fn wait_or_kill(
    child: &mut Child,
    timeout: Duration,
    interrupted: Option<&AtomicBool>,
) -> io::Result<(ExitStatus, bool)> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use rustix::process::{PidfdFlags, pidfd_open, pidfd_send_signal};
    // A child reaped already (by an earlier wait) has no process any more to name.
    if let Some(status) = child.try_wait()? {
        return Ok((status, false));
    }
    let pidfd = pidfd_open(rustix::process::Pid::from_child(child), PidfdFlags::empty())?;
    let deadline = Instant::now() + timeout;
    let mut told_to_stop = false;
    loop {
        if !told_to_stop && interrupted.is_some_and(|flag| flag.load(Ordering::SeqCst)) {
            told_to_stop = true;
            let _ = pidfd_send_signal(&pidfd, rustix::process::Signal::TERM);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        // In turns, so that an interrupt is passed on within one.
        let turn = match interrupted {
            Some(_) if !told_to_stop => left.min(contract::interrupt::TURN),
            _ => left,
        };
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let wait = PollTimeout::try_from(turn).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, wait) {
            // Readable: the child has ended.
            Ok(n) if n > 0 => return Ok((child.wait()?, false)),
            Ok(_) | Err(nix::errno::Errno::EINTR) if !left.is_zero() => continue,
            Ok(_) => break,
            Err(e) => return Err(e.into()),
        }
    }
    // Unreaped, so the pidfd still names this child, running or just ended.
    let _ = pidfd_send_signal(&pidfd, rustix::process::Signal::KILL);
    let status = child.wait()?;
    Ok((status, status.signal() == Some(Signal::SIGKILL as i32)))
}

/// How a run that printed its report ended: the contract's checker has the last word on
/// the outcome, whatever the backend said; the backend's own failure is believed.
fn judge(
    demo: DemoId,
    kind: &BackendKind,
    report: &DemoReport,
    code: i32,
) -> (RunStatus, Option<String>) {
    let check = demo.check_outcome(kind, &report.outcome);
    match (report.ok, check) {
        (false, check) => (
            RunStatus::OutcomeFailed,
            Some(
                report
                    .problem
                    .clone()
                    .or(check.err())
                    .unwrap_or_else(|| "the backend says its outcome does not check".into()),
            ),
        ),
        (true, Err(reason)) => (
            RunStatus::OutcomeRejected,
            Some(format!(
                "the backend says ok, but its outcome does not check: {reason}"
            )),
        ),
        (true, Ok(())) if code != 0 => (
            RunStatus::OutcomeFailed,
            Some(format!("exit code {code}, though its outcome checks")),
        ),
        (true, Ok(())) => (RunStatus::Ok, None),
    }
}

/// The report of `demo` in the backend's `--json` document, which must declare the kind
/// the backend's listing declared.
fn read_report(
    stdout: &str,
    demo: DemoId,
    listed: &BackendKind,
) -> Result<DemoReport, ReportError> {
    let value: serde_json::Value = serde_json::from_str(stdout).map_err(ReportError::NotJson)?;
    if value.get("kind").is_none() {
        return Err(ReportError::NoKind);
    }
    let document: RunDocument = serde_json::from_value(value).map_err(ReportError::NotADocument)?;
    if document.kind != *listed {
        return Err(ReportError::KindChanged {
            found: describe_kind(&document.kind),
            listed: describe_kind(listed),
        });
    }
    let mut demos = document.demos.into_iter();
    match (demos.next(), demos.next()) {
        (Some(report), None) if report.id == demo.id() => Ok(report),
        _ => Err(ReportError::WrongDemo(demo.id().to_string())),
    }
}

fn children_usage() -> Option<Usage> {
    getrusage(UsageWho::RUSAGE_CHILDREN).ok()
}

fn seconds(time: nix::sys::time::TimeVal) -> f64 {
    time.tv_sec() as f64 + time.tv_usec() as f64 / 1e6
}

fn read_all(stream: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_string(&mut text);
        }
        text
    })
}

/// The highest memory figures the sampler saw, and who it saw.
#[derive(Default)]
struct Peak {
    pss_kib: u64,
    largest_rss_kib: u64,
    processes: BTreeSet<i32>,
    threads: BTreeSet<i32>,
    samples: u32,
}

/// Samples the tree under `root` every [`SAMPLE_EVERY_AT_FIRST`] until it has
/// [`MIN_MEMORY_SAMPLES`] of the backend's program, then every [`SAMPLE_EVERY`], until told
/// to stop. Samples are
/// taken only once `root` runs the backend's program: before its exec it is a copy of this
/// one.
fn sample_tree(root: i32, stop: mpsc::Receiver<()>) -> Peak {
    let mut peak = Peak::default();
    let this_program = std::env::current_exe().ok();
    loop {
        let running_backend = Process::new(root)
            .and_then(|process| process.exe())
            .is_ok_and(|exe| Some(exe) != this_program);
        if running_backend {
            let mut pss_sum = 0;
            let mut sampled = false;
            for member in tree(root) {
                if let Some((pss, rss)) = member.memory_kib {
                    sampled = true;
                    pss_sum += pss;
                    peak.largest_rss_kib = peak.largest_rss_kib.max(rss);
                    peak.processes.insert(member.pid);
                    peak.threads.extend(&member.threads);
                }
            }
            if sampled {
                peak.samples += 1;
                peak.pss_kib = peak.pss_kib.max(pss_sum);
            }
        }
        let every = if peak.samples >= MIN_MEMORY_SAMPLES {
            SAMPLE_EVERY
        } else {
            SAMPLE_EVERY_AT_FIRST
        };
        match stop.recv_timeout(every) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            _ => return peak,
        }
    }
}

/// One process of a sampled tree.
struct Member {
    pid: i32,
    /// (PSS, RSS) in KiB, from its smaps_rollup; `None` once it has gone.
    memory_kib: Option<(u64, u64)>,
    threads: Vec<i32>,
}

/// `root` and all its descendants, each with its memory and threads. The children of a
/// process are those of each of its threads (`/proc/<pid>/task/<tid>/children`).
fn tree(root: i32) -> Vec<Member> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        let Ok(process) = Process::new(pid) else {
            continue;
        };
        let mut threads = Vec::new();
        for task in process.tasks().into_iter().flatten().flatten() {
            threads.push(task.tid);
            if let Ok(children) = task.children() {
                queue.extend(children.into_iter().filter_map(|c| i32::try_from(c).ok()));
            }
        }
        found.push(Member {
            pid,
            memory_kib: memory_kib(&process),
            threads,
        });
    }
    found
}

/// (PSS, RSS) of one process in KiB.
fn memory_kib(process: &Process) -> Option<(u64, u64)> {
    let rollup = process.smaps_rollup().ok()?;
    let fields = &rollup.memory_map_rollup.iter().next()?.extension.map;
    // procfs gives these in bytes; the report speaks KiB, as /proc does.
    Some((*fields.get("Pss")? / 1024, *fields.get("Rss")? / 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_threads_and_a_place_in_its_parents_tree() {
        let me = std::process::id() as i32;
        let parent = nix::unistd::getppid().as_raw();
        let members = tree(parent);
        let mine = members
            .iter()
            .find(|m| m.pid == me)
            .expect("this process is in its parent's tree");
        let (pss, rss) = mine.memory_kib.expect("smaps_rollup of this process");
        assert!(pss > 0 && rss >= pss);
        assert!(mine.threads.contains(&nix::unistd::gettid().as_raw()));
    }

    /// Waits until `child` has ended, without reaping it.
    fn until_ended(child: &std::process::Child) {
        use nix::sys::wait::{Id, WaitPidFlag, waitid};
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT).unwrap();
    }

    #[test]
    fn a_run_that_ends_right_at_its_timeout_is_neither_killed_nor_timed_out() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        // It has ended, unreaped, when its time (none) runs out: it ended by itself.
        until_ended(&child);
        let (status, timed_out) = wait_or_kill(&mut child, Duration::ZERO, None).unwrap();
        assert_eq!(status.code(), Some(3));
        assert!(!timed_out);
    }

    #[test]
    fn a_run_ending_at_its_timeout_is_timed_out_only_if_killed() {
        // Runs that end about when their time runs out, one way or the other.
        for i in 0..200 {
            let mut child = std::process::Command::new("sleep")
                .arg("0.01")
                .spawn()
                .unwrap();
            let timeout = Duration::from_micros(9_000 + 10 * i);
            let (status, timed_out) = wait_or_kill(&mut child, timeout, None).unwrap();
            let killed = status.signal() == Some(Signal::SIGKILL as i32);
            assert_eq!(timed_out, killed, "{i}: {status:?}");
        }
    }

    #[test]
    fn a_run_past_its_timeout_is_killed_and_timed_out() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let started = Instant::now();
        let (status, timed_out) =
            wait_or_kill(&mut child, Duration::from_millis(50), None).unwrap();
        assert!(timed_out);
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        assert!(started.elapsed() < Duration::from_secs(5));
        // A run that ends in time is left alone.
        let mut quick = std::process::Command::new("true").spawn().unwrap();
        let (status, timed_out) = wait_or_kill(&mut quick, Duration::from_secs(30), None).unwrap();
        assert!(status.success() && !timed_out);
    }

    fn report(ok: bool, outcome: serde_json::Value) -> DemoReport {
        DemoReport {
            id: "custom-init".into(),
            ok,
            outcome,
            problem: None,
            wall_s: 0.1,
            ideal_wall_s: 0.0,
            events: vec![],
            figures: Default::default(),
        }
    }

    #[test]
    fn the_checker_has_the_last_word_on_an_outcome() {
        let good = serde_json::json!({"values": {"1": 0, "2": 8, "3": 16, "4": 24, "5": 32,
            "6": 40, "7": 48, "8": 56, "9": 64, "10": 72}});
        let mut lying = good.clone();
        lying["values"]["2"] = serde_json::json!(9);
        let demo = DemoId::CustomInit;
        let kind = &BackendKind {
            worker: contract::domain::WorkerKind::Thread,
            isolated: false,
            start_method: None,
            executor: None,
        };
        assert_eq!(
            judge(demo, kind, &report(true, good.clone()), 0),
            (RunStatus::Ok, None)
        );
        let (status, problem) = judge(demo, kind, &report(true, lying), 0);
        assert_eq!(status, RunStatus::OutcomeRejected);
        assert!(problem.unwrap().contains("does not check"));
        assert_eq!(
            judge(demo, kind, &report(true, good.clone()), 1).0,
            RunStatus::OutcomeFailed
        );
        assert_eq!(
            judge(demo, kind, &report(false, good), 1).0,
            RunStatus::OutcomeFailed
        );
    }
}

/// Runs made up for the unit tests of the report.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Run, RunStatus};
    use contract::report::{DemoReport, Figures};

    /// A successful run of `demo` on `backend` whose demo took `wall_s` (of which `ideal_s`
    /// were sleeps), with the measured figures given and `outcome`.
    pub fn ok_run(
        backend: &str,
        index: u32,
        demo: &str,
        (wall_s, ideal_s): (f64, f64),
        measured: &[(&str, f64)],
        outcome: serde_json::Value,
    ) -> Run {
        let mut figures = Figures::default();
        for (key, value) in measured {
            figures.measured.insert(key.to_string(), *value);
        }
        Run {
            backend: backend.into(),
            index,
            status: RunStatus::Ok,
            problem: None,
            process_wall_s: wall_s + 0.01,
            user_s: 0.01 * f64::from(index + 1),
            sys_s: 0.01,
            voluntary_switches: 3,
            involuntary_switches: 1,
            peak_pss_kib: 2048 + u64::from(index),
            largest_rss_kib: 4096,
            processes_seen: 1,
            threads_seen: 2,
            samples: 3,
            report: Some(DemoReport {
                id: demo.into(),
                ok: true,
                outcome,
                problem: None,
                wall_s,
                ideal_wall_s: ideal_s,
                events: Vec::new(),
                figures,
            }),
        }
    }
}
