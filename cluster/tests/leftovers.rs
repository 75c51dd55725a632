//! No rank is left behind: after a run whose rank is killed, and after Ctrl-C to the whole
//! group or SIGINT to the launcher alone, nothing the binary started is running or unreaped.
//! One test in this file: it makes the test process a subreaper, so that a process the binary
//! leaves behind comes back here, where `waitpid` sees it.
#![cfg(feature = "mpi")]

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Panics if anything the finished binary started is still around, running or a zombie.
fn assert_nothing_left(context: &str) {
    match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
        Err(Errno::ECHILD) => {}
        Ok(WaitStatus::StillAlive) => panic!("{context}: a process was left running"),
        Ok(status) => panic!("{context}: a process was left unreaped: {status:?}"),
        Err(e) => panic!("{context}: waitpid: {e}"),
    }
}

/// Starts `join` with three sleepers in a process group of its own, waits until the third
/// rank says it sleeps, then sends SIGINT to the group or to the launcher alone.
fn interrupt_a_join(to_the_group: bool) -> i32 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cluster"))
        .args(["join", "--workers", "3", "--scale", "4"])
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let cue = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("t2 sleeping"));
    assert!(cue.is_some(), "the third rank never said it sleeps");
    match to_the_group {
        true => killpg(pid, Signal::SIGINT).unwrap(),
        false => kill(pid, Signal::SIGINT).unwrap(),
    }
    lines.for_each(drop);
    child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn no_rank_is_left_behind_after_a_killed_rank_or_ctrl_c() {
    nix::sys::prctl::set_child_subreaper(true).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_cluster"))
        .args(["crash", "--fault", "kill", "--scale", "0.01", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let seen = document["demos"][0]["outcome"]["rounds"][0]["seen"]
        .as_str()
        .unwrap();
    assert!(seen.contains("SIGKILL"), "{seen}");
    assert_nothing_left("a round whose rank was killed");

    assert_eq!(interrupt_a_join(true), 130, "Ctrl-C to the group");
    assert_nothing_left("Ctrl-C to the group");

    assert_eq!(interrupt_a_join(false), 130, "SIGINT to the launcher alone");
    assert_nothing_left("SIGINT to the launcher alone");
}
