//! No process is left behind, by either binary: not on success, not when a worker is
//! killed or panics, not on Ctrl-C.
//!
//! This file holds a single test on purpose. It makes the test process a child subreaper,
//! so that anything a binary leaves behind (an orphan still running, or a zombie nobody
//! reaped) is re-parented to this process, where `waitpid(-1)` finds it. A second test in
//! the same process would race for those children.

use cross_backend::{BACKENDS, WHOLE_RUN, assert_nothing_left, interrupt_when, run};
use std::time::Duration;

#[test]
fn no_process_is_left_behind() {
    cross_backend::become_subreaper();

    for backend in BACKENDS {
        let finished = run(backend, &WHOLE_RUN);
        assert_eq!(finished.code(), 0, "{finished:?}");
        assert_nothing_left(&format!("{backend}, a successful run"));
    }

    let killed = run(
        "processes",
        &[&WHOLE_RUN[..], &["--inject", "kill-worker"]].concat(),
    );
    assert_eq!(killed.code(), 1, "{killed:?}");
    assert!(
        killed.stdout.contains("t1 was killed by signal SIGKILL"),
        "{killed:?}"
    );
    assert!(
        killed.stdout.contains("t0 was killed by signal SIGKILL"),
        "join's first worker is t0: {killed:?}"
    );
    assert_nothing_left("processes, a worker killed by SIGKILL");

    let panicked = run(
        "processes",
        &["--scale", "0.01", "--inject", "panic-worker", "custom-init"],
    );
    assert_eq!(panicked.code(), 1, "{panicked:?}");
    assert!(
        panicked
            .stdout
            .contains("t1 exited with code 101 (it panicked)"),
        "{panicked:?}"
    );
    assert_nothing_left("processes, a worker that panicked");

    let thread_panicked = run(
        "threads",
        &["--scale", "0.01", "--inject", "panic-worker", "custom-init"],
    );
    assert_eq!(thread_panicked.code(), 1, "{thread_panicked:?}");
    assert!(
        thread_panicked
            .stdout
            .contains("t1 panicked: injected fault panic-worker"),
        "{thread_panicked:?}"
    );
    assert_nothing_left("threads, a worker that panicked");

    for backend in BACKENDS {
        let crashed = run(backend, &["--scale", "0.01", "crash"]);
        assert_eq!(crashed.code(), 0, "{crashed:?}");
        assert_nothing_left(&format!(
            "{backend}, crash: a worker panics, aborts, is killed"
        ));
    }

    let processes_ctrl_c = interrupt_when(
        "processes",
        &["join"],
        "t4 sleeping",
        true,
        Duration::from_secs(1),
    );
    assert_eq!(processes_ctrl_c.code(), 130, "{processes_ctrl_c:?}");
    assert!(
        processes_ctrl_c.stderr.contains("interrupted"),
        "{processes_ctrl_c:?}"
    );
    assert_nothing_left("processes, Ctrl-C to the process group");

    let parent_only = interrupt_when(
        "processes",
        &["join"],
        "t4 sleeping",
        false,
        Duration::from_secs(1),
    );
    assert_eq!(parent_only.code(), 130, "{parent_only:?}");
    assert_nothing_left("processes, SIGINT to the parent alone");

    let threads_ctrl_c = interrupt_when(
        "threads",
        &["join"],
        "t4 sleeping",
        true,
        Duration::from_secs(1),
    );
    assert_eq!(threads_ctrl_c.code(), 130, "{threads_ctrl_c:?}");
    assert_nothing_left("threads, Ctrl-C");
}
