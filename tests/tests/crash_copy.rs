//! The copy of the threads program that runs a `crash` round which ends a whole process:
//! it runs only for the program that started it, and ends at once if that program is not
//! its parent (gone before the copy set its parent-death signal, the copy re-parented).

use cross_backend::run;

#[test]
fn a_crash_copy_runs_only_under_the_program_that_started_it() {
    let round = ["crash", "--fault", "panic", "--scale", "0.01"];
    let this_process = std::process::id().to_string();
    let mine = run(
        "threads",
        &[&round[..], &["--crash-copy", &this_process]].concat(),
    );
    assert_eq!(mine.code(), 0, "{mine:?}");
    assert!(mine.stdout.contains("\"what\":\"finished\""), "{mine:?}");

    // Named as its parent: a process that is not (the parent of this test).
    let not_its_parent = std::os::unix::process::parent_id().to_string();
    let orphan = run(
        "threads",
        &[&round[..], &["--crash-copy", &not_its_parent]].concat(),
    );
    assert_eq!(orphan.code(), 1, "{orphan:?}");
    assert!(orphan.stdout.is_empty(), "it ran a round: {orphan:?}");
    assert!(
        orphan
            .stderr
            .contains("the program that started it is gone"),
        "{orphan:?}"
    );
}
