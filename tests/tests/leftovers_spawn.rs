//! `processes --start spawn`: each worker is this program started afresh, and no process is
//! left behind: not on success, not when a worker is killed or panics, not on Ctrl-C.
//!
//! A single test, for the reason given in `leftovers.rs`: it makes the test process a child
//! subreaper, so that whatever a run leaves behind comes to it.

use cross_backend::{
    WHOLE_RUN, assert_nothing_left, children_command_lines, interrupt_after_looking, run,
};
use std::time::Duration;

const SPAWN: [&str; 2] = ["--start", "spawn"];

fn spawned(args: &[&str]) -> Vec<String> {
    [&SPAWN[..], args]
        .concat()
        .iter()
        .map(|a| a.to_string())
        .collect()
}

fn run_spawned(args: &[&str]) -> cross_backend::Finished {
    let args = spawned(args);
    run(
        "processes",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

#[test]
fn spawned_workers_are_fresh_programs_and_none_is_left_behind() {
    cross_backend::become_subreaper();

    let finished = run_spawned(&WHOLE_RUN);
    assert_eq!(finished.code(), 0, "{finished:?}");
    assert!(finished.stdout.contains("start spawn"), "{finished:?}");
    assert_nothing_left("spawn, a successful run");

    let killed = run_spawned(&[&WHOLE_RUN[..], &["--inject", "kill-worker"]].concat());
    assert_eq!(killed.code(), 1, "{killed:?}");
    assert!(
        killed.stdout.contains("t1 was killed by signal SIGKILL"),
        "{killed:?}"
    );
    assert_nothing_left("spawn, a worker killed by SIGKILL");

    let panicked = run_spawned(&["--scale", "0.01", "--inject", "panic-worker", "custom-init"]);
    assert_eq!(panicked.code(), 1, "{panicked:?}");
    assert!(
        panicked
            .stdout
            .contains("t1 exited with code 101 (it panicked)"),
        "{panicked:?}"
    );
    assert_nothing_left("spawn, a worker that panicked");

    // While `join`'s five workers sleep: with spawn each is this program run again as a
    // worker with its job's name; with fork each is a copy, with the parent's command line.
    for (method, whole_group) in [("spawn", true), ("spawn", false), ("fork", true)] {
        let mut workers = Vec::new();
        let interrupted = interrupt_after_looking(
            "processes",
            &["--start", method, "join"],
            "t4 sleeping",
            whole_group,
            Duration::from_secs(1),
            |pid| workers = children_command_lines(pid),
        );
        assert_eq!(interrupted.code(), 130, "{method}: {interrupted:?}");
        assert_eq!(workers.len(), 5, "{method}: {workers:?}");
        for worker in &workers {
            let args: Vec<&str> = worker.iter().skip(1).map(String::as_str).collect();
            match method {
                "spawn" => {
                    assert_eq!(
                        args[..2],
                        ["--spawned-worker", "contract::workloads::Sleeper"],
                        "{worker:?}"
                    )
                }
                _ => assert_eq!(args, ["--start", "fork", "join"], "{worker:?}"),
            }
        }
        assert_nothing_left(&format!(
            "{method}, SIGINT to the {}",
            if whole_group { "group" } else { "parent alone" }
        ));
    }
}
