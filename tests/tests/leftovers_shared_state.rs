//! A worker killed in `lock`, `queue` or `event`, on each backend: the parent says which
//! worker died and how, the run ends with exit 1 instead of hanging on what the dead worker
//! held (the lock, the queue the consumer waits on, the event `ops` waits for), and no
//! process is left behind.
//!
//! One test in this file on purpose: it makes the test process a child subreaper and reaps
//! with `waitpid(-1)` (see `leftovers.rs`).

use cross_backend::{BACKENDS, assert_nothing_left, run_json};

/// The worker `--fault kill-worker` kills in each demo (the first started), and what it
/// leaves its siblings waiting on; with the demo's options.
const VICTIMS: [(&str, &[&str], &str); 4] = [
    // Killed right after `acquired`: it dies holding the lock.
    ("lock", &[], "t1"),
    // Killed before its first put, while the consumer waits on the empty `ready` queue: in
    // the parent (the owner), or asleep on the shared futex of the queue in shared memory.
    ("queue", &[], "producer"),
    ("queue", &["--queue", "shared-memory"], "producer"),
    // Killed before the set, while `ops` waits for the event.
    ("event", &[], "flag"),
];

#[test]
fn a_killed_worker_is_reported_and_nothing_hangs_or_is_left() {
    cross_backend::become_subreaper();

    for backend in BACKENDS {
        for (demo, options, victim) in VICTIMS {
            let mut args = vec![
                "--scale",
                "0.05",
                "--count",
                "1000",
                "--inject",
                "kill-worker",
            ];
            args.extend(options);
            args.push(demo);
            // `run_json` kills the run and fails the test if it has not ended in 60 s.
            let document = run_json(backend, &args, 1);
            let report = &document.demos[0];
            assert!(!report.ok, "{backend} {demo}: {report:?}");
            let how = match backend {
                "processes" => format!("{victim} was killed by signal SIGKILL"),
                _ => format!("{victim} panicked: injected fault kill-worker"),
            };
            let problem = report.problem.as_deref().unwrap_or_default();
            assert!(problem.starts_with(&how), "{backend} {demo}: {problem}");

            if demo == "lock" {
                // The siblings found the lock poisoned instead of blocking on it forever.
                let poisoned: Vec<&str> = report
                    .events
                    .iter()
                    .filter(|e| e.what == "lock poisoned")
                    .map(|e| e.worker.as_str())
                    .collect();
                assert_eq!(poisoned, ["t2", "t3", "t4"], "{backend}: {report:?}");
            }
            assert_nothing_left(&format!("{backend} {demo}, {victim} killed"));
        }
    }
}
