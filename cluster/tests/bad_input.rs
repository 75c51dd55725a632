//! Bad input: one line naming the problem, exit code 2, before any rank starts.
#![cfg(feature = "mpi")]

use std::process::Command;

#[test]
fn bad_input_exits_2_with_one_line() {
    for (args, says) in [
        (&["--scale", "0"][..], "--scale"),
        (
            &["--hostfile", "/no/such/hostfile", "start"],
            "cannot read hostfile /no/such/hostfile",
        ),
        (&["--hostfile"], "--hostfile needs a file"),
        (&["joins"], "unknown demo 'joins'"),
        (&["start", "--start", "fork"], "--start"),
        (&["start", "start"], "named twice"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_cluster"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("cluster: ") && stderr.contains(says),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
