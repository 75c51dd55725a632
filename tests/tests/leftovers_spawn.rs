//! `processes --start spawn`: each worker is this program started afresh, and no process is
//! left behind: not on success, not when a worker is killed or panics, not on Ctrl-C.
//!
//! A single test, for the reason given in `leftovers.rs`: it makes the test process a child
//! subreaper, so that whatever a run leaves behind comes to it.

use cross_backend::{assert_nothing_left, children_command_lines, interrupt_after_looking};
use std::time::Duration;

#[test]
fn spawned_workers_are_fresh_programs_and_none_is_left_behind() {
    cross_backend::become_subreaper();

    cross_backend::assert_started_by_leaves_nothing("spawn");

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
