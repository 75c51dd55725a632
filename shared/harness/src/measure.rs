//! One backend run, measured from outside: the binary runs as a child process with `--json`
//! for one demo, while a sampler walks its process tree in /proc; CPU time and context
//! switches come from the rusage of the reaped tree.

use contract::demos::DemoId;
use contract::report::{DemoReport, RunDocument};
use nix::sys::resource::{Usage, UsageWho, getrusage};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How often the sampler reads the process tree's memory.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Exit 0 and the outcome checked.
    Ok,
    /// Exit 1: the outcome did not check, or a worker died.
    OutcomeFailed,
    /// Any other exit code (bad input, a crash of the binary itself).
    ExitCode,
    /// Killed by a signal.
    Signal,
    /// No end within `--timeout`; killed.
    TimedOut,
    /// Ended, but stdout was not the JSON document for this demo.
    InvalidJson,
    /// The binary could not be started.
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
    pub backend: &'a str,
    pub binary: &'a Path,
    pub demo: DemoId,
    pub args: &'a [String],
    pub timeout: Duration,
}

/// Runs the backend once and measures it. Never panics on a bad run: the run says what
/// went wrong.
pub fn measure(spec: &RunSpec, index: u32) -> Run {
    let mut run = Run {
        backend: spec.backend.to_string(),
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
    let child = Command::new(spec.binary)
        .arg("--json")
        .arg(spec.demo.id())
        .args(spec.args)
        .env("NO_COLOR", "1")
        // A panic's backtrace would be symbolised into the memory figures (tens of MiB).
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            run.problem = Some(format!("cannot start {}: {error}", spec.binary.display()));
            return run;
        }
    };
    let pid = child.id();
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let (stop_sampling, sampling_stopped) = mpsc::channel::<()>();
    let root_name = spec
        .binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sampler = thread::spawn(move || sample_tree(pid, &root_name, sampling_stopped));
    let (reaped, watch) = mpsc::channel::<()>();
    let timeout = spec.timeout;
    let watchdog = thread::spawn(move || {
        if watch.recv_timeout(timeout) == Err(mpsc::RecvTimeoutError::Timeout) {
            // SIGKILL the backend; its own children die with it (PR_SET_PDEATHSIG).
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            true
        } else {
            false
        }
    });

    let status = child.wait();
    run.process_wall_s = started.elapsed().as_secs_f64();
    let _ = reaped.send(());
    let timed_out = watchdog.join().unwrap_or(false);
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
    match parse_report(&stdout, spec.demo) {
        Ok(report) => {
            run.status = if code == 0 && report.ok {
                RunStatus::Ok
            } else {
                RunStatus::OutcomeFailed
            };
            if !report.ok || code != 0 {
                run.problem = Some(
                    report
                        .problem
                        .clone()
                        .unwrap_or_else(|| format!("exit code {code}")),
                );
            }
            run.report = Some(report);
        }
        Err(problem) => {
            run.status = RunStatus::InvalidJson;
            run.problem = Some(problem);
        }
    }
    run
}

fn parse_report(stdout: &str, demo: DemoId) -> Result<DemoReport, String> {
    let document: RunDocument = serde_json::from_str(stdout)
        .map_err(|e| format!("stdout is not the JSON document: {e}"))?;
    let mut demos = document.demos.into_iter();
    match (demos.next(), demos.next()) {
        (Some(report), None) if report.id == demo.id() => Ok(report),
        _ => Err(format!(
            "the JSON document does not hold exactly the demo {demo}"
        )),
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
    processes: BTreeSet<u32>,
    threads: BTreeSet<u32>,
    samples: u32,
}

/// Samples the tree under `root` every [`SAMPLE_EVERY`] until told to stop. Samples are
/// taken only once `root` runs the backend binary (before its exec it is a copy of us).
fn sample_tree(root: u32, root_name: &str, stop: mpsc::Receiver<()>) -> Peak {
    let mut peak = Peak::default();
    let comm: String = root_name.chars().take(15).collect();
    loop {
        let running_backend = std::fs::read_to_string(format!("/proc/{root}/comm"))
            .is_ok_and(|name| name.trim_end() == comm);
        if running_backend {
            let mut pss_sum = 0;
            let mut sampled = false;
            for pid in tree(root) {
                if let Some((pss, rss)) = memory_kib(pid) {
                    sampled = true;
                    pss_sum += pss;
                    peak.largest_rss_kib = peak.largest_rss_kib.max(rss);
                    peak.processes.insert(pid);
                    peak.threads.extend(threads_of(pid));
                }
            }
            if sampled {
                peak.samples += 1;
                peak.pss_kib = peak.pss_kib.max(pss_sum);
            }
        }
        match stop.recv_timeout(SAMPLE_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            _ => return peak,
        }
    }
}

/// `root` and all its descendants, from the parent links in /proc/<pid>/stat.
fn tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(parent) = parent_of(pid) {
                children.entry(parent).or_default().push(pid);
            }
        }
    }
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        if let Some(kids) = children.get(&found[next]) {
            found.extend(kids);
        }
        next += 1;
    }
    found
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// (PSS, RSS) of one process in KiB, from /proc/<pid>/smaps_rollup.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        rollup
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
    };
    Some((field("Pss:")?, field("Rss:")?))
}

fn threads_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_a_parent() {
        let me = std::process::id();
        let (pss, rss) = memory_kib(me).expect("smaps_rollup of this process");
        assert!(pss > 0 && rss >= pss);
        assert_eq!(parent_of(me), Some(nix::unistd::getppid().as_raw() as u32));
        assert!(threads_of(me).contains(&(nix::unistd::gettid().as_raw() as u32)));
        assert!(tree(nix::unistd::getppid().as_raw() as u32).contains(&me));
    }
}
