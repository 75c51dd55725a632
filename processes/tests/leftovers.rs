//! No worker process outlives its demo unreaped: not on success, not when a worker dies.
//!
//! This file holds a single test on purpose: it makes the test process a child subreaper, so
//! that a worker the binary leaves behind (running, or a zombie nobody reaped) is re-parented
//! here, where `waitpid(-1)` finds it. A second test in the same process would race for it.

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use std::time::Duration;

#[test]
fn every_worker_is_reaped() {
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    for args in [
        &["--scale", "0.01", "custom-init"][..],
        &["--scale", "0.01", "--start", "spawn", "custom-init"],
        // `ops` is left waiting when `flag` dies.
        &["--scale", "0.5", "--inject", "panic-worker", "event"],
        &["--count", "1000", "--inject", "kill-worker", "lock"],
    ] {
        let output = assert_cmd::Command::cargo_bin("processes")
            .unwrap()
            .arg("--json")
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert!(output.status.code().is_some(), "{args:?}: {output:?}");
        match waitpid(None::<nix::unistd::Pid>, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::ECHILD) => {}
            Ok(WaitStatus::StillAlive) => panic!("{args:?}: a worker was left running"),
            other => panic!("{args:?}: a worker was left unreaped: {other:?}"),
        }
    }
}
