//! A thousand workers' worth of limits: `join` with 256 workers checks on both backends and
//! leaves no descriptor or process behind, and when the OS refuses a worker (too few open
//! files for the processes' channels, too little address space for the threads' stacks) the
//! run fails with one line naming the limit and how to raise it, and leaves nothing behind.
//!
//! This file holds a single test on purpose: it makes the test process a child subreaper
//! (see `leftovers.rs`).

use cross_backend::{BACKENDS, Finished, assert_nothing_left, binary, finish, run_json};
use std::process::{Command, Stdio};

/// Runs a backend under a shell limit (`ulimit -n 40`), as a user's shell would.
fn limited(limit: &str, backend: &str, args: &[&str]) -> Finished {
    let scratch = tempfile::tempdir().unwrap();
    let mut command = Command::new("sh");
    command
        .args(["-c", &format!("ulimit {limit} && exec \"$0\" \"$@\"")])
        .arg(binary(backend))
        .args(args)
        .env("TMPDIR", scratch.path())
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    finish(command.spawn().unwrap(), cross_backend::DEADLINE)
}

#[test]
fn many_workers_and_the_limits_of_the_os() {
    cross_backend::become_subreaper();

    // 256 sleepers of 1 s: starting them all takes well under the sleep, so they overlap.
    for backend in BACKENDS {
        let document = run_json(backend, &["--scale", "0.2", "--workers", "256", "join"], 0);
        let report = &document.demos[0];
        assert!(report.ok, "{backend}: {:?}", report.problem);
        assert_eq!(report.outcome["workers"], 256, "{backend}");
        assert_eq!(
            report.outcome["finished"].as_array().unwrap().len(),
            256,
            "{backend}"
        );
        assert_eq!(report.figures.workers_created, 256, "{backend}");
        assert_eq!(
            report.figures.measured["descriptors_left_open"], 0.0,
            "{backend}: descriptors left open"
        );
        assert_nothing_left(&format!("{backend} with 256 workers"));
    }

    // Each worker process holds channel ends in the parent: 40 open files run out early.
    // Each thread needs a stack mapped in the address space: 100 MB of it runs out early.
    for (backend, limit, names) in [
        ("processes", "-n 40", "RLIMIT_NOFILE"),
        ("threads", "-v 100000", "RLIMIT_AS"),
    ] {
        let args = ["--json", "--scale", "0.2", "--workers", "256", "join"];
        let refused = limited(limit, backend, &args);
        assert_eq!(refused.code(), 1, "{backend}: {refused:?}");
        let document = refused.document();
        let problem = document.demos[0].problem.clone().unwrap_or_default();
        assert_eq!(problem.lines().count(), 1, "{backend}: {problem}");
        assert!(
            problem.contains(names) && problem.contains("ulimit"),
            "{backend}: {problem}"
        );
        assert_nothing_left(&format!("{backend} refused a worker"));
    }
}
