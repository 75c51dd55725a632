//! A run leaves no data behind: `download` without `--out-dir` removes its temporary folder of
//! images at the end (`--keep` keeps it and says where), and neither does `compare`, whose
//! only files are the exports it is asked for.

use cross_backend::{BACKENDS, binary, command};
use std::path::Path;
use std::process::Stdio;

const QUICK_DOWNLOAD: [&str; 5] = ["--json", "--scale", "0.01", "--image-kib=4", "download"];

/// The names in `folder`, sorted.
fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Runs `backend` with its own empty temporary folder; returns the run's document and what
/// the temporary folder holds afterwards.
fn download_in_fresh_tmp(
    backend: &str,
    extra: &[&str],
) -> (serde_json::Value, Vec<String>, tempfile::TempDir) {
    let args: Vec<&str> = extra.iter().chain(QUICK_DOWNLOAD.iter()).copied().collect();
    let (mut command, scratch) = command(backend, &args);
    let output = command.stderr(Stdio::inherit()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{backend} download");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let left = entries(scratch.path());
    (document, left, scratch)
}

#[test]
fn download_without_out_dir_removes_its_folder_and_keep_keeps_it() {
    for backend in BACKENDS {
        let (document, left, _scratch) = download_in_fresh_tmp(backend, &[]);
        assert_eq!(
            left,
            Vec::<String>::new(),
            "{backend}: left in the temporary folder"
        );
        let events = document["demos"][0]["events"].as_array().unwrap();
        let last = events.last().unwrap();
        assert_eq!(
            last["what"], "temporary folder of images removed",
            "{backend}"
        );

        let (document, left, scratch) = download_in_fresh_tmp(backend, &["--keep"]);
        assert_eq!(left.len(), 1, "{backend} --keep: {left:?}");
        let kept = scratch.path().join(&left[0]);
        assert!(left[0].starts_with("download-"), "{backend}: {left:?}");
        for pass in ["concurrent", "sequential"] {
            assert_eq!(entries(&kept.join(pass)).len(), 14, "{backend} {pass}");
        }
        let demo = &document["demos"][0];
        let last = demo["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["what"], "images kept in", "{backend}");
        assert_eq!(last["detail"], kept.display().to_string(), "{backend}");
        assert_eq!(
            demo["figures"]["notes"]["output_dir"], last["detail"],
            "{backend}"
        );
    }
}

#[test]
fn keep_with_an_out_dir_is_refused_in_one_line() {
    for backend in BACKENDS {
        let (mut command, _scratch) = command(backend, &["--keep", "--out-dir", "x", "download"]);
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{backend}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--keep") && stderr.contains("--out-dir"),
            "{stderr}"
        );
    }
}

#[test]
fn compare_leaves_nothing_in_the_temporary_folder() {
    let scratch = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(binary("compare"))
        .args(["--runs", "1", "--scale", "0.01", "download"])
        .env("TMPDIR", scratch.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(entries(scratch.path()), Vec::<String>::new());
}
