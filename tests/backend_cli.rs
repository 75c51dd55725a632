// The body of each backend's own command-line tests, included by `threads/tests/cli.rs`,
// `processes/tests/cli.rs` and `tasks/tests/cli.rs` after they define `BACKEND`. (Those
// files also make `cargo test --workspace` build the binaries that the cross-backend tests
// run.)

use assert_cmd::Command;
use contract::demos::DemoId;

#[test]
fn list_prints_the_catalogue() {
    let output = Command::cargo_bin(BACKEND).unwrap().arg("--list").output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), DemoId::listing());
}

#[test]
fn a_quiet_run_prints_one_verdict_per_demo() {
    let output = Command::cargo_bin(BACKEND)
        .unwrap()
        .args(["--quiet", "--scale", "0.01", "start", "custom-init"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let verdicts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ") && !l.starts_with("   ")).collect();
    assert_eq!(verdicts.len(), 2, "{stdout}");
    assert!(verdicts[0].trim_start().starts_with("start") && verdicts[0].contains(" ok "), "{stdout}");
    assert!(verdicts[1].trim_start().starts_with("custom-init") && verdicts[1].contains(" ok "), "{stdout}");
}
