//! Built without the `mpi` feature, the program says in one line what to install and how to
//! build it with MPI, and exits 2.
#![cfg(not(feature = "mpi"))]

#[test]
fn without_mpi_the_program_names_the_packages_and_the_build_command() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cluster"))
        .args(["start"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for needed in ["openmpi-bin", "libopenmpi-dev", "--features mpi"] {
        assert!(stderr.contains(needed), "{stderr}");
    }
}
