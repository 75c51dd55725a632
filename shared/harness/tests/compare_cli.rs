//! The `compare` binary's own command line. (These tests also make `cargo test --workspace`
//! build the binary that the cross-backend tests run.)

use assert_cmd::Command;

#[test]
fn help_names_the_exports_and_the_pass_through() {
    let output = Command::cargo_bin("compare")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--runs",
        "--scale",
        "--timeout",
        "--export-json",
        "--export-markdown",
        "--export-html",
        "--backend",
        "NAME=COMMAND",
        "--start",
        "BACKEND OPTIONS",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn an_unknown_demo_is_refused_before_anything_runs() {
    let output = Command::cargo_bin("compare")
        .unwrap()
        .arg("nope")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("unknown demo 'nope'")
    );
}
