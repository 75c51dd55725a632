//! `download` leaves no process behind, by either binary: not its workers, not its image
//! server; not on success through faults, not when a worker dies, not on Ctrl-C. And it
//! leaves no partial file in its output folder.
//!
//! This file holds a single test on purpose: it makes the test process a child subreaper
//! (see `leftovers.rs`), so that anything a binary leaves behind is re-parented here.

use cross_backend::{BACKENDS, Finished, assert_nothing_left, interrupt_when, run};
use std::path::Path;
use std::time::Duration;

/// Starts `backend download` with a slow server (each image takes 5 s), waits until the
/// sequential worker is ready, then sends SIGINT to the whole group (Ctrl-C) or to the
/// parent alone, and returns how it ended.
fn interrupt_mid_download(backend: &str, out_dir: &Path, whole_group: bool) -> Finished {
    let out = out_dir.to_str().unwrap();
    let args = [
        "--latency=5000",
        "--image-kib=12",
        "--out-dir",
        out,
        "download",
    ];
    // The first image takes 5 s: ending within two means the signal was obeyed.
    interrupt_when(
        backend,
        &args,
        "seq ready",
        whole_group,
        Duration::from_secs(2),
    )
}

/// Every file in each pass's folder is a whole image (no partial file, ever).
fn assert_only_whole_images(out_dir: &Path, context: &str) {
    let truth = contract::images::generate(12);
    for pass in ["sequential", "concurrent"] {
        let Ok(entries) = std::fs::read_dir(out_dir.join(pass)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let image = truth.iter().find(|i| i.file_name == name);
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                image.is_some_and(|i| i.png == bytes),
                "{context}: {pass}/{name} is not a whole image"
            );
        }
    }
}

#[test]
fn download_leaves_no_process_and_no_partial_file() {
    cross_backend::become_subreaper();

    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().to_str().unwrap();
        let faulty = run(
            backend,
            &[
                "--scale=0.01",
                "--image-kib=12",
                "--server-fault=500:0.15",
                "--server-fault=cut:0.15",
                "--server-fault=stall:0.15",
                "--timeout=0.5",
                "--out-dir",
                out,
                "download",
            ],
        );
        assert_eq!(faulty.code(), 0, "{faulty:?}");
        assert_nothing_left(&format!("{backend}, a run through faults"));
        assert_only_whole_images(out_dir.path(), backend);
    }

    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().to_str().unwrap();
    let killed = run(
        "processes",
        &[
            "--scale=0.01",
            "--image-kib=12",
            "--inject=kill-worker",
            "--out-dir",
            out,
            "download",
        ],
    );
    assert_eq!(killed.code(), 1, "{killed:?}");
    assert!(
        killed.stdout.contains("seq was killed by signal SIGKILL"),
        "{killed:?}"
    );
    assert_nothing_left("processes, a download worker killed");

    let panicked = run(
        "threads",
        &[
            "--scale=0.01",
            "--image-kib=12",
            "--inject=panic-worker",
            "--out-dir",
            out,
            "download",
        ],
    );
    assert_eq!(panicked.code(), 1, "{panicked:?}");
    assert!(panicked.stdout.contains("seq panicked"), "{panicked:?}");
    assert_nothing_left("threads, a download worker panicked");

    for whole_group in [true, false] {
        let context = format!("processes, SIGINT (whole group: {whole_group})");
        let out_dir = tempfile::tempdir().unwrap();
        let interrupted = interrupt_mid_download("processes", out_dir.path(), whole_group);
        assert_eq!(interrupted.code(), 130, "{context}: {interrupted:?}");
        // The parent killed and reaped its workers and its server before it exited.
        assert_nothing_left(&context);
        assert_only_whole_images(out_dir.path(), &context);
    }

    for whole_group in [true, false] {
        let context = format!("threads, SIGINT (whole group: {whole_group})");
        let out_dir = tempfile::tempdir().unwrap();
        let interrupted = interrupt_mid_download("threads", out_dir.path(), whole_group);
        assert_eq!(interrupted.code(), 130, "{context}: {interrupted:?}");
        // The main thread killed and reaped the image server before the process exited.
        assert_nothing_left(&context);
        assert_only_whole_images(out_dir.path(), &context);
    }
}
