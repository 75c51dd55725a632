//! `processes --start forkserver`: each worker is a child of the server the program forks
//! when it starts, and no process is left behind: not on success, not when a worker is killed
//! or panics, not on Ctrl-C, not when the program itself is killed outright.
//!
//! A single test, for the reason given in `leftovers.rs`: it makes the test process a child
//! subreaper, so that whatever a run leaves behind comes to it.

use cross_backend::{
    assert_nothing_left, children_command_lines, command, interrupt_after_looking,
};
use nix::sys::wait::waitpid;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

/// The pids of `pid`'s children.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|child| child.parse().unwrap())
        .collect()
}

#[test]
fn forkserved_workers_are_the_server_s_children_and_none_is_left_behind() {
    cross_backend::become_subreaper();

    cross_backend::assert_started_by_leaves_nothing("forkserver");

    // While `join`'s five workers sleep: the program has one child, the server, and the
    // server has the five workers, copies of it with the program's command line.
    for whole_group in [true, false] {
        let (mut program_children, mut workers) = (Vec::new(), Vec::new());
        let interrupted = interrupt_after_looking(
            "processes",
            &["--start", "forkserver", "join"],
            "t4 sleeping",
            whole_group,
            Duration::from_secs(1),
            |pid| {
                program_children = children(pid);
                if let [server] = program_children[..] {
                    workers = children_command_lines(server);
                }
            },
        );
        assert_eq!(interrupted.code(), 130, "{interrupted:?}");
        assert_eq!(program_children.len(), 1, "the server alone");
        assert_eq!(workers.len(), 5, "{workers:?}");
        for worker in &workers {
            assert_eq!(worker[1..], ["--start", "forkserver", "join"], "{worker:?}");
        }
        assert_nothing_left(&format!(
            "forkserver, SIGINT to the {}",
            if whole_group {
                "group"
            } else {
                "program alone"
            }
        ));
    }

    // The program killed outright while its workers sleep: the server sees the request
    // channel close and kills and reaps its workers, or dies of its parent-death signal
    // first and they die of theirs; either way what is left comes to this subreaper.
    let (mut command, _scratch) = command("processes", &["--start", "forkserver", "join"]);
    let mut program = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(program.stdout.take().unwrap()).lines();
    assert!(lines.any(|line| line.unwrap().contains("t4 sleeping")));
    let server = children(program.id());
    assert_eq!(server.len(), 1, "the server alone");
    let workers = children(server[0]);
    assert_eq!(workers.len(), 5, "five workers");
    program.kill().unwrap();
    program.wait().unwrap();
    let (reaped, all_reaped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut ended = Vec::new();
        while let Ok(status) = waitpid(None::<nix::unistd::Pid>, None) {
            ended.extend(status.pid().map(|pid| pid.as_raw() as u32));
        }
        let _ = reaped.send(ended);
    });
    let ended = all_reaped
        .recv_timeout(Duration::from_secs(10))
        .expect("the server and its workers end with the program");
    assert!(ended.contains(&server[0]), "{ended:?}");
    for worker in workers {
        let gone = !std::path::Path::new(&format!("/proc/{worker}")).exists();
        assert!(gone, "worker {worker} is left");
    }
    assert_nothing_left("forkserver, the program killed outright");
}
