//! A worker that panics holding `lock`'s lock poisons it, in both backends and with every
//! start method: the others find it poisoned and stop, none acquires it and finishes, and
//! the run reports the panic (`--inject panic-worker` makes `t1` panic at its first event,
//! `acquired`, while it holds the lock).

use cross_backend::run_json;

/// The workers, in start order, that emitted `what` in the report's events.
fn who(report: &contract::report::DemoReport, what: &str) -> Vec<String> {
    report
        .events
        .iter()
        .filter(|e| e.what == what)
        .map(|e| e.worker.clone())
        .collect()
}

#[test]
fn a_panic_holding_the_lock_poisons_it_for_every_other_worker() {
    let runs = [
        (
            "processes",
            Some("fork"),
            "t1 exited with code 101 (it panicked)",
        ),
        (
            "processes",
            Some("spawn"),
            "t1 exited with code 101 (it panicked)",
        ),
        (
            "processes",
            Some("forkserver"),
            "t1 exited with code 101 (it panicked)",
        ),
        ("threads", None, "t1 panicked: injected fault panic-worker"),
    ];
    for (backend, start, how) in runs {
        let mut args = vec!["--scale", "0.05", "--count", "1000"];
        if let Some(method) = start {
            args.extend(["--start", method]);
        }
        args.extend(["--inject", "panic-worker", "lock"]);
        let context = format!("{backend} {args:?}");
        // `run_json` fails the test if the run has not ended within a minute.
        let document = run_json(backend, &args, 1);
        let report = &document.demos[0];
        let problem = report.problem.as_deref().unwrap_or_default();
        assert!(problem.starts_with(how), "{context}: {problem}");
        assert_eq!(who(report, "acquired"), ["t1"], "{context}: {report:?}");
        assert_eq!(
            who(report, "lock poisoned"),
            ["t2", "t3", "t4"],
            "{context}: {report:?}"
        );
        assert!(who(report, "done").is_empty(), "{context}: {report:?}");
    }
}
