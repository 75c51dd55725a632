//! Bad input: one line on stderr naming the problem, nothing on stdout, exit code 2.

use cross_backend::{BACKENDS, run};

fn assert_refused(args: &[&str], names: &str) {
    for backend in BACKENDS {
        let finished = run(backend, args);
        assert_eq!(finished.code(), 2, "{backend} {args:?}: {finished:?}");
        assert_eq!(finished.stdout, "", "{backend} {args:?}");
        let lines: Vec<&str> = finished.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{backend} {args:?}: one line, got {lines:?}"
        );
        assert!(
            lines[0].contains(names),
            "{backend} {args:?}: {:?} should name {names:?}",
            lines[0]
        );
        assert!(
            lines[0].starts_with(&format!("{backend}: error:")),
            "{backend}: {:?}",
            lines[0]
        );
    }
}

#[test]
fn unknown_demo() {
    assert_refused(&["start", "bogus"], "unknown demo 'bogus'");
}

#[test]
fn empty_demo_name() {
    assert_refused(&[""], "empty demo name");
}

#[test]
fn scale_that_is_not_a_finite_positive_number() {
    for scale in ["0", "-1", "nan", "inf", "abc"] {
        assert_refused(&["--scale", scale], "--scale");
    }
}

#[test]
fn unknown_flag() {
    assert_refused(&["--frobnicate"], "--frobnicate");
}

#[test]
fn demo_named_twice() {
    assert_refused(&["join", "join"], "named twice");
}

#[test]
fn count_seed_and_trials_that_are_not_in_range() {
    for count in ["0", "-5", "1.5", "x", "100000001"] {
        assert_refused(&["--count", count], "--count");
    }
    for seed in ["-1", "x", "18446744073709551616"] {
        assert_refused(&["--seed", seed], "--seed");
    }
    for trials in ["0", "-1", "x", "1000001"] {
        assert_refused(&["--trials", trials], "--trials");
    }
}

#[test]
fn download_base_url_that_is_malformed_or_not_http() {
    assert_refused(
        &["--base-url", "ftp://example.org/images", "download"],
        "only http and https",
    );
    assert_refused(&["--base-url", "example.org", "download"], "is not a URL");
}

#[test]
fn download_ca_cert_that_is_missing_or_not_a_certificate() {
    assert_refused(
        &["--ca-cert", "/nonexistent/ca.pem", "download"],
        "cannot read /nonexistent/ca.pem",
    );
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "this is no certificate\n").unwrap();
    let names = format!("{}: no PEM certificate in it", not_pem.display());
    assert_refused(
        &["--ca-cert", not_pem.to_str().unwrap(), "download"],
        &names,
    );
    std::fs::write(&not_pem, "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
    assert_refused(
        &["--ca-cert", not_pem.to_str().unwrap(), "download"],
        "not a PEM",
    );
    // --https is the local server's: it cannot go with another source.
    assert_refused(
        &["--https", "--base-url", "https://127.0.0.1:9", "download"],
        "cannot be used with",
    );
}

#[test]
fn download_url_file_that_cannot_be_read() {
    assert_refused(
        &["--urls", "/nonexistent/urls.txt", "download"],
        "cannot read /nonexistent/urls.txt",
    );
}

#[test]
fn download_url_file_with_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    let list_arg = list.to_str().unwrap();
    for (line, names) in [
        (
            "http://127.0.0.1:9/..%2f..%2fetc%2fpasswd",
            "refused file name '../../etc/passwd'",
        ),
        ("http://127.0.0.1:9/images/", "nothing left"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("http//missing-colon/cat.png", "is not a URL"),
    ] {
        std::fs::write(
            &list,
            format!("# one good line, then a bad one\nhttp://127.0.0.1:9/cat.png\n{line}\n"),
        )
        .unwrap();
        assert_refused(&["--urls", list_arg, "download"], names);
        assert_refused(&["--urls", list_arg, "download"], "line 3");
    }
}

#[test]
fn download_with_two_sources() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(&list, "http://127.0.0.1:9/cat.png\n").unwrap();
    assert_refused(
        &[
            "--base-url",
            "http://127.0.0.1:9",
            "--urls",
            list.to_str().unwrap(),
            "download",
        ],
        "cannot be used with",
    );
}

#[test]
fn download_images_beyond_the_local_server_s_bounds_or_with_a_url_list() {
    for images in ["0", "-3", "x", "10001"] {
        assert_refused(
            &["--images", images, "download"],
            "--images takes a whole number from 1 to 10000",
        );
    }
    assert_refused(
        &["--images", "15", "--image-kib", "32768", "download"],
        "15 images of a mean 32768 KiB make 480 MiB, more than the local image server holds \
         (448 MiB): lower --images or --image-kib",
    );
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(&list, "http://127.0.0.1:9/cat.png\n").unwrap();
    assert_refused(
        &[
            "--images",
            "20",
            "--urls",
            list.to_str().unwrap(),
            "download",
        ],
        "--images counts the images of the local server or of --base-url",
    );
}

#[test]
fn start_method_only_processes_has() {
    let threads = run("threads", &["--start", "spawn", "start"]);
    assert_eq!(threads.code(), 2, "{threads:?}");
    assert_eq!(threads.stdout, "");
    assert_eq!(
        threads.stderr.trim_end(),
        "threads: error: --start is an option of processes: a thread has one way to start"
    );
    let processes = run("processes", &["--start", "vfork", "start"]);
    assert_eq!(processes.code(), 2, "{processes:?}");
    assert_eq!(processes.stdout, "");
    assert_eq!(processes.stderr.lines().count(), 1, "{processes:?}");
    assert!(processes.stderr.contains("'vfork'"), "{processes:?}");
}

#[test]
fn the_spawned_worker_entry_refuses_a_user() {
    // The entry a spawned worker starts by: given by hand, it names its purpose and stops.
    let unknown = run("processes", &["--spawned-worker", "bogus", "server", "1"]);
    assert_eq!(unknown.code(), 2, "{unknown:?}");
    assert_eq!(unknown.stderr.lines().count(), 1, "{unknown:?}");
    assert!(
        unknown.stderr.contains("no job named 'bogus'"),
        "{unknown:?}"
    );
}
