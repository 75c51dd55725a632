// The body of each backend's own tests of its worker bookkeeping (`workers.rs`), included by
// `threads/tests/workers.rs` and `processes/tests/workers.rs` after they define `BACKEND`:
// the workers asked for are the workers made, each one's start is timed, a worker's death is
// reported at once, and every result reaches the demo. Each run is quick, so that these
// tests can run for every mutant of `workers.rs` (see `scripts/mutants`).

use contract::report::{DemoReport, RunDocument};
use contract::trace::Event;
use std::time::Duration;

/// Runs the backend with `--json` and `args`, expecting exit `code`; returns the document.
fn document(args: &[&str], code: i32) -> RunDocument {
    let output = assert_cmd::Command::cargo_bin(BACKEND)
        .unwrap()
        .arg("--json")
        .args(args)
        // A panic's backtrace is symbolised before the thread unwinds: that takes long enough
        // to make a fail-fast join look slow.
        .env("RUST_BACKTRACE", "0")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {output:?}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// The one demo of a run.
fn report(args: &[&str], code: i32) -> DemoReport {
    let mut document = document(args, code);
    assert_eq!(document.demos.len(), 1, "{args:?}");
    document.demos.remove(0)
}

fn said<'a>(events: &'a [Event], worker: &str, what: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.worker == worker && e.what == what)
        .collect()
}

#[test]
fn each_worker_is_counted_once_and_its_start_is_timed() {
    let report = report(&["--scale", "0.01", "custom-init"], 0);
    assert!(report.ok, "{report:?}");
    let figures = &report.figures;
    assert_eq!(figures.workers_created, 10);
    // Workers start in order t1 … t10; each one's first event comes after it was asked for,
    // and starting a worker takes at least a microsecond.
    assert_eq!(figures.spawn_to_first_event_us.len(), 10, "{figures:?}");
    for (k, spawn_us) in figures.spawn_to_first_event_us.iter().enumerate() {
        let worker = format!("t{}", k + 1);
        let first_event_s = said(&report.events, &worker, "started")[0].t_s;
        assert!(
            (1.0..=first_event_s * 1e6).contains(spawn_us),
            "{worker}: {spawn_us} µs from asking to a first event at {first_event_s} s"
        );
    }
}

#[test]
fn a_worker_that_dies_is_reported_without_waiting_for_the_others() {
    // `flag` (the first worker) panics after its first event; `ops` waits for an event that
    // will never be set, and gives up only after 2 × 1.5 + 1 s at this scale.
    let report = report(&["--scale", "0.5", "--inject", "panic-worker", "event"], 1);
    let problem = report.problem.as_deref().unwrap_or_default();
    let how = match BACKEND {
        "processes" => "flag exited with code 101 (it panicked)",
        _ => "flag panicked: injected fault panic-worker",
    };
    assert_eq!(problem, how, "{report:?}");
    // It died right after its first event, as `--inject` says.
    let flag: Vec<&str> = (report.events.iter())
        .filter(|e| e.worker == "flag")
        .map(|e| e.what.as_str())
        .collect();
    assert_eq!(flag, ["counting down"], "{report:?}");
    assert_eq!(
        said(&report.events, "ops", "waiting").len(),
        1,
        "{report:?}"
    );
    assert!(
        said(&report.events, "ops", "gave up").is_empty(),
        "the run waited for ops to give up: {report:?}"
    );
}

#[test]
fn a_killed_worker_is_reported_and_its_siblings_are_not_blocked() {
    let report = report(&["--count", "1000", "--inject", "kill-worker", "lock"], 1);
    let problem = report.problem.as_deref().unwrap_or_default();
    let how = match BACKEND {
        "processes" => "t1 was killed by signal SIGKILL",
        _ => {
            "t1 panicked: injected fault kill-worker (a thread cannot be killed alone, so it panics)"
        }
    };
    assert_eq!(problem, how, "{report:?}");
    let poisoned: Vec<&str> = (report.events.iter())
        .filter(|e| e.what == "lock poisoned")
        .map(|e| e.worker.as_str())
        .collect();
    assert_eq!(poisoned, ["t2", "t3", "t4"], "{report:?}");
}

/// Runs one demo, which must succeed; a scale of 0.2 keeps its sleeps well above the
/// scheduling noise of a loaded machine.
fn succeeds(args: &[&str]) -> DemoReport {
    let mut all = vec!["--scale", "0.2", "--count", "200", "--trials", "20"];
    all.extend_from_slice(args);
    let report = report(&all, 0);
    assert!(report.ok, "{report:?}");
    report
}

#[test]
fn workers_started_one_after_another_run_at_once() {
    let join = succeeds(&["join"]);
    assert_eq!(join.figures.workers_created, 5);
    assert_eq!(join.outcome["overlapped"], true);
}

#[test]
fn each_crash_round_sees_the_doomed_worker_die_and_the_others_finish() {
    succeeds(&["crash"]);
}

#[test]
fn the_result_of_the_second_of_two_workers_reaches_its_demo() {
    // event takes the result of ops, its second worker.
    succeeds(&["event"]);
}

#[test]
fn workers_that_ask_their_parent_and_workers_that_share_a_lock_return_their_results() {
    // queue: every put and get is a request to the parent (processes), and the demo takes
    // the consumer's result, its second worker's.
    succeeds(&["queue"]);
    // Four workers per variant: locked, unlocked and plain.
    assert_eq!(succeeds(&["lock"]).figures.workers_created, 12);
}
