//! Ctrl-C and SIGTERM are honoured within a second in every phase of every demo, on both
//! backends and with both start methods: the binary exits 130 and leaves no process behind.
//!
//! Each case starts a binary narrating one demo, waits for a narration line that says the
//! phase has begun (the cue), and delivers the interrupt: SIGINT to the whole process group
//! (Ctrl-C), or SIGINT or SIGTERM to the binary alone (`kill`), whose workers then go on until
//! it stops them. The phases are made long (scales, counts, latencies) so that the signal
//! lands inside them; a demo whose phase may end first is followed by a long one, so that the
//! run is still busy when the signal lands. Nothing waits for time to pass: the cue times the
//! signal, and a deadline only bounds a hang.
//!
//! Cases run a few at a time. What is left behind is looked for by process group (each run
//! has its own), so the runs need not be alone.

use cross_backend::{Delivery, Interrupted, command, interrupt_at_cue};
use nix::sys::signal::Signal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The promise: from the signal to the binary's exit.
const PROMISE: Duration = Duration::from_secs(1);

/// A run that has not ended this long after the signal is killed, and reported.
const HANG: Duration = Duration::from_secs(5);

/// How many cases run at once.
const AT_ONCE: usize = 4;

/// One phase of one demo: the arguments that make it long, and the line that says it began.
struct Phase {
    demo: &'static str,
    phase: &'static str,
    args: &'static [&'static str],
    cue: &'static str,
    /// The image server never says it listens (it sleeps): the wait for its first line.
    silent_server: bool,
}

const fn phase(
    demo: &'static str,
    phase: &'static str,
    args: &'static [&'static str],
    cue: &'static str,
) -> Phase {
    Phase {
        demo,
        phase,
        args,
        cue,
        silent_server: false,
    }
}

/// Every phase of every demo. "start" is cued by the demo's header, printed as its first
/// worker (or its image server) is being started; the later phases by their first event.
const PHASES: &[Phase] = &[
    phase("start", "start", &["--scale", "1", "start"], "== start ("),
    phase(
        "start",
        "main work",
        &["--scale", "1", "start"],
        "t1 sleeping",
    ),
    phase("join", "start", &["--scale", "1", "join"], "== join ("),
    phase(
        "join",
        "main work",
        &["--scale", "1", "join"],
        "main started t2",
    ),
    phase(
        "run-hooks",
        "start",
        &["--scale", "1", "run-hooks"],
        "== run-hooks (",
    ),
    phase(
        "run-hooks",
        "main work",
        &["--scale", "1", "run-hooks"],
        "t4 sleeping",
    ),
    // custom-init takes milliseconds: `start` after it keeps the run busy.
    phase(
        "custom-init",
        "start",
        &["--scale", "0.2", "custom-init", "start"],
        "== custom-init (",
    ),
    phase(
        "custom-init",
        "main work",
        &["--scale", "0.2", "custom-init", "start"],
        "t5 started",
    ),
    phase(
        "lock",
        "start",
        &["--count", "5000000", "lock"],
        "== lock (",
    ),
    phase(
        "lock",
        "main work",
        &["--count", "5000000", "lock"],
        "t1 acquired",
    ),
    phase(
        "lock",
        "timed pass",
        &["--count", "5000000", "--scale", "0.2", "lock", "start"],
        "t1 adding",
    ),
    phase(
        "queue",
        "start",
        &["--count", "1000000", "queue"],
        "== queue (",
    ),
    phase(
        "queue",
        "main work",
        &["--count", "1000000", "queue"],
        "consumer consuming",
    ),
    phase(
        "queue",
        "timed pass",
        &["--count", "1000000", "queue"],
        "timer timing",
    ),
    phase(
        "event",
        "start",
        &["--scale", "0.05", "--trials", "100000", "event"],
        "== event (",
    ),
    phase(
        "event",
        "main work",
        &["--scale", "0.05", "--trials", "100000", "event"],
        "ops waiting",
    ),
    phase(
        "event",
        "timed pass",
        &["--scale", "0.05", "--trials", "100000", "event"],
        "ops timing",
    ),
    phase(
        "download",
        "start",
        &["--image-kib", "12", "download"],
        "== download (",
    ),
    Phase {
        silent_server: true,
        ..phase(
            "download",
            "start (server silent)",
            &["download"],
            "== download (",
        )
    },
    phase(
        "download",
        "main work",
        &["--latency", "5000", "--image-kib", "12", "download"],
        "seq ready",
    ),
    phase(
        "download",
        "timed pass",
        &[
            "--latency",
            "300",
            "--scale",
            "0.1",
            "--image-kib",
            "12",
            "download",
            "start",
        ],
        "main pass concurrent",
    ),
    // At the largest --n, the start is the main flow's sieve (seconds, even optimised).
    phase(
        "cpu",
        "start",
        &["--n", "1000000000", "--workers", "2", "cpu"],
        "== cpu (",
    ),
    phase(
        "cpu",
        "main work",
        &["--n", "1000000", "--workers", "2", "cpu"],
        "t0 counting",
    ),
    phase(
        "cpu",
        "timed pass",
        &["--n", "1000000", "--workers", "2", "cpu"],
        "t1 counting",
    ),
    phase("crash", "start", &["--scale", "0.3", "crash"], "== crash ("),
    phase(
        "crash",
        "main work",
        &["--scale", "0.3", "crash"],
        "t1 sleeping",
    ),
    // In threads, abort and kill rounds run in a copy of the program.
    phase(
        "crash",
        "a round that ends a process",
        &["--scale", "0.3", "crash"],
        "dies by abort",
    ),
    phase("spawn", "start", &["--count", "50", "spawn"], "== spawn ("),
    phase(
        "spawn",
        "timed pass",
        &["--count", "50", "spawn"],
        "touching 0 MiB",
    ),
    phase(
        "channel",
        "start",
        &["--count", "10000000", "channel"],
        "== channel (",
    ),
    phase(
        "channel",
        "main work",
        &["--count", "10000000", "channel"],
        "peer ready",
    ),
];

/// One run of the sweep.
struct Case {
    backend: &'static str,
    start: Option<&'static str>,
    phase: &'static Phase,
    delivery: Delivery,
}

impl Case {
    fn describe(&self) -> String {
        let start = self
            .start
            .map_or(String::new(), |m| format!(" --start {m}"));
        format!(
            "{}{start} {} ({}), {:?}",
            self.backend, self.phase.demo, self.phase.phase, self.delivery
        )
    }
}

/// Each phase on threads and on forked processes, by Ctrl-C and by SIGTERM to the binary
/// alone; on spawned processes by SIGINT to the binary alone; on the forkserver's workers by
/// Ctrl-C.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for phase in PHASES {
        for delivery in [Delivery::CtrlC, Delivery::Kill(Signal::SIGTERM)] {
            for (backend, start) in [("threads", None), ("processes", Some("fork"))] {
                cases.push(Case {
                    backend,
                    start,
                    phase,
                    delivery,
                });
            }
        }
        cases.push(Case {
            backend: "processes",
            start: Some("spawn"),
            phase,
            delivery: Delivery::Kill(Signal::SIGINT),
        });
        cases.push(Case {
            backend: "processes",
            start: Some("forkserver"),
            phase,
            delivery: Delivery::CtrlC,
        });
    }
    cases
}

/// Runs one case: how long it took to end after the signal, or its problem.
fn run_case(
    case: &Case,
    scratch: &std::path::Path,
    silent_server: &std::path::Path,
    n: usize,
) -> Result<Duration, String> {
    let out_dir = scratch.join(format!("out-{n}"));
    let mut args: Vec<String> = Vec::new();
    if let Some(method) = case.start {
        args.extend(["--start".into(), method.into()]);
    }
    if case.phase.demo == "download" {
        args.extend(["--out-dir".into(), out_dir.display().to_string()]);
    }
    args.extend(case.phase.args.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut command, _scratch) = command(case.backend, &args);
    if case.phase.silent_server {
        command.env("IMAGE_SERVER", silent_server);
    }
    let Interrupted {
        finished,
        left_behind,
    } = match interrupt_at_cue(command, case.phase.cue, case.delivery, HANG) {
        Ok(interrupted) => interrupted,
        Err(problem) => return Err(format!("{}: {problem}", case.describe())),
    };
    let mut problems = Vec::new();
    if finished.status.code() != Some(130) {
        problems.push(format!("ended with {:?}, not exit 130", finished.status));
    }
    if finished.elapsed > PROMISE {
        problems.push(format!("ended {:?} after the signal", finished.elapsed));
    }
    if left_behind {
        problems.push("left a process behind".into());
    }
    match problems.is_empty() {
        true => Ok(finished.elapsed),
        false => Err(format!(
            "{}: {}; stderr: {}",
            case.describe(),
            problems.join(", "),
            finished.stderr.trim()
        )),
    }
}

#[test]
fn every_phase_of_every_demo_ends_within_a_second_of_ctrl_c_or_sigterm() {
    let scratch = tempfile::tempdir().unwrap();
    // A server that never says it listens: the demo waits for its first line.
    let silent_server = scratch.path().join("silent-server");
    std::fs::write(&silent_server, "#!/bin/sh\nexec sleep 30\n").unwrap();
    let mut permissions = std::fs::metadata(&silent_server).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&silent_server, permissions).unwrap();

    let cases = cases();
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    let times = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(n) else { break };
                    match run_case(case, scratch.path(), &silent_server, n) {
                        Ok(elapsed) => times.lock().unwrap().push((elapsed, case.describe())),
                        Err(problem) => problems.lock().unwrap().push(problem),
                    }
                }
            });
        }
    });
    // The slowest ends, for whoever runs this with --nocapture.
    let mut times = times.into_inner().unwrap();
    times.sort();
    for (elapsed, case) in times.iter().rev().take(5) {
        eprintln!("{elapsed:>10.1?} from the signal to the end: {case}");
    }
    let problems = problems.into_inner().unwrap();
    assert!(
        problems.is_empty(),
        "{} of {} runs broke the promise:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}
