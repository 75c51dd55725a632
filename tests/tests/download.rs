//! `download` on every backend against the local image server: the exact files for both
//! passes, more images than workers, at most `--workers` requests in flight, retries through
//! injected faults, failures reported by name, no partial file.

use contract::images;
use contract::report::DemoReport;
use cross_backend::{BACKENDS, binary, run, run_json};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Small images keep the tests quick; the server makes them from this mean size.
const IMAGE_KIB: &str = "12";

/// Runs `backend download` with `--json` and `args` into `out_dir`; returns its report.
fn download(backend: &str, out_dir: &Path, args: &[&str], expected_code: i32) -> DemoReport {
    let out = out_dir.to_str().unwrap();
    let mut all = vec![
        "--scale",
        "0.01",
        "--image-kib",
        IMAGE_KIB,
        "--out-dir",
        out,
    ];
    all.extend_from_slice(args);
    all.push("download");
    let document = run_json(backend, &all, expected_code);
    assert_eq!(document.demos.len(), 1);
    document.demos.into_iter().next().unwrap()
}

/// The files of one pass's folder, by name.
fn files_in(folder: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

/// Each pass's folder holds exactly the images `saved` (their true bytes), nothing else.
fn assert_folders_hold_exactly(out_dir: &Path, saved: &[String], context: &str) {
    assert_folders_hold_exactly_of(images::NAMES.len(), out_dir, saved, context);
}

/// As [`assert_folders_hold_exactly`], of a set of `count` images (`--images`).
fn assert_folders_hold_exactly_of(count: usize, out_dir: &Path, saved: &[String], context: &str) {
    let truth: BTreeMap<String, Vec<u8>> = images::generate_set(count, IMAGE_KIB.parse().unwrap())
        .into_iter()
        .filter(|image| saved.contains(&image.file_name))
        .map(|image| (image.file_name, image.png))
        .collect();
    for pass in ["sequential", "concurrent"] {
        let found = files_in(&out_dir.join(pass));
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            truth.keys().collect::<Vec<_>>(),
            "{context} {pass}: the files in the folder"
        );
        for (name, bytes) in &found {
            assert!(
                bytes == &truth[name],
                "{context} {pass}: {name} is not the image"
            );
        }
    }
}

/// The `image-server` binary, started as a user would; killed and reaped when dropped,
/// also when the test fails.
struct StandaloneServer {
    child: Child,
    base: String,
}

impl StandaloneServer {
    fn start() -> StandaloneServer {
        StandaloneServer::start_with(&[])
    }

    fn start_with(args: &[&str]) -> StandaloneServer {
        let mut child = Command::new(binary("image-server"))
            .args(["--latency=1", "--image-kib", IMAGE_KIB])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start image-server");
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        let mut server = StandaloneServer {
            child,
            base: String::new(),
        };
        match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(base)) => server.base = base.to_string(),
            _ => panic!("image-server said {line:?}"),
        }
        server
    }
}

impl Drop for StandaloneServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `airplane.png` … `tulips.png`, in the tutorial's order.
fn every_image() -> Vec<String> {
    images::NAMES.iter().map(|n| format!("{n}.png")).collect()
}

fn measured(report: &DemoReport, name: &str) -> f64 {
    *report
        .figures
        .measured
        .get(name)
        .unwrap_or_else(|| panic!("no figure {name}: {:?}", report.figures))
}

fn events<'a>(report: &'a DemoReport, what: &str) -> Vec<&'a str> {
    let mut details: Vec<&str> = (report.events.iter())
        .filter(|e| e.what == what)
        .filter_map(|e| e.detail.as_deref())
        .collect();
    details.sort();
    details
}

#[test]
fn both_backends_save_the_fourteen_exact_files_in_both_passes() {
    let mut outcomes = Vec::new();
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &[], 0);
        assert!(report.ok, "{backend}: {report:?}");
        assert_folders_hold_exactly(out_dir.path(), &every_image(), backend);
        let expected = images::manifest(&images::generate(IMAGE_KIB.parse().unwrap()));
        assert_eq!(
            report.outcome["expected"],
            serde_json::to_value(&expected).unwrap(),
            "{backend}: checked against the server's manifest"
        );
        for pass in ["sequential", "concurrent"] {
            let images = report.outcome[pass]["images"].as_array().unwrap();
            assert_eq!(images.len(), 14, "{backend} {pass}");
            for (image, entry) in images.iter().zip(&expected) {
                assert_eq!(image["name"], Value::from(entry.name.clone()));
                assert_eq!(image["fetched"]["saved"]["length"], entry.length);
                assert_eq!(
                    image["fetched"]["saved"]["sha256"],
                    Value::from(entry.sha256.clone())
                );
            }
        }
        assert_eq!(events(&report, "saved").len(), 28, "{backend}");
        // Six threads or processes share a queue; tasks are one per URL, six permits.
        let concurrent = if backend == "tasks" { 14 } else { 6 };
        assert_eq!(report.figures.workers_created, 1 + concurrent, "{backend}");
        assert_eq!(measured(&report, "retries_sequential"), 0.0);
        // The server waits 100 ms × 0.01 per image: 14 of them one by one, 6 at a time
        // (⌈14 / 6⌉ = 3 rounds). (`DownloadPlan::finish`'s unit test gives the other figures
        // known passes.)
        assert_eq!(measured(&report, "latency_ms"), 1.0, "{backend}");
        assert!((measured(&report, "ideal_sequential_s") - 0.014).abs() < 1e-12);
        assert!((measured(&report, "ideal_concurrent_s") - 0.003).abs() < 1e-12);
        assert!((report.ideal_wall_s - 0.017).abs() < 1e-12, "{backend}");
        assert_eq!(
            report.figures.notes["output_dir"],
            out_dir.path().display().to_string()
        );
        outcomes.push(report.outcome);
    }
    for (backend, outcome) in BACKENDS.iter().zip(&outcomes) {
        assert_eq!(outcome, &outcomes[0], "{backend}'s outcome differs");
    }
}

/// The names of `--images count`: the tutorial's, then `<name>-1`, `<name>-2`, …
fn images_of(count: usize) -> Vec<String> {
    (0..count)
        .map(|index| format!("{}.png", images::name_of(index)))
        .collect()
}

#[test]
fn more_images_than_workers_are_each_saved_exactly_by_every_backend() {
    let expected = images::manifest(&images::generate_set(40, IMAGE_KIB.parse().unwrap()));
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let args = ["--images", "40", "--workers", "3"];
        let report = download(backend, out_dir.path(), &args, 0);
        assert!(report.ok, "{backend}: {report:?}");
        assert_folders_hold_exactly_of(40, out_dir.path(), &images_of(40), backend);
        assert_eq!(
            report.outcome["expected"],
            serde_json::to_value(&expected).unwrap(),
            "{backend}: checked against the manifest of 40 images"
        );
        let concurrent = report.outcome["concurrent"]["images"].as_array().unwrap();
        let names: Vec<&str> = concurrent
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, images_of(40), "{backend}");
        assert_eq!(events(&report, "saved").len(), 80, "{backend}");
        // ⌈40 / 3⌉ = 14 rounds of 1 ms.
        assert!((measured(&report, "ideal_concurrent_s") - 0.014).abs() < 1e-12);
    }
}

#[test]
fn tasks_never_have_more_requests_in_flight_than_workers() {
    // One task per URL, each awaiting one of --workers permits: the most requests in flight
    // at once, as the tasks count them, is the number of permits, or of URLs when fewer. Each
    // request waits 10 ms at the server, so that every permit is held at once.
    for (workers, images) in [(3, 40), (50, 20), (1, 5)] {
        let out_dir = tempfile::tempdir().unwrap();
        let (workers_arg, images_arg) = (workers.to_string(), images.to_string());
        let args = [
            "--latency",
            "1000",
            "--workers",
            &workers_arg,
            "--images",
            &images_arg,
        ];
        let report = download("tasks", out_dir.path(), &args, 0);
        assert!(report.ok, "{workers} {images}: {report:?}");
        assert_eq!(report.figures.workers_created, 1 + images as u32);
        assert_eq!(
            measured(&report, "most_requests_in_flight"),
            workers.min(images) as f64,
            "--workers {workers} --images {images}"
        );
    }
}

/// The exact bytes of every image of both passes, by the server's manifest.
fn assert_every_image_exact(report: &DemoReport, context: &str) {
    let expected = images::manifest(&images::generate(IMAGE_KIB.parse().unwrap()));
    for pass in ["sequential", "concurrent"] {
        let images = report.outcome[pass]["images"].as_array().unwrap();
        assert_eq!(images.len(), 14, "{context} {pass}");
        for (image, entry) in images.iter().zip(&expected) {
            let saved = &image["fetched"]["saved"];
            assert_eq!(image["name"], Value::from(entry.name.clone()), "{context}");
            assert_eq!(saved["length"], entry.length, "{context} {}", entry.name);
            assert_eq!(
                saved["sha256"],
                Value::from(entry.sha256.clone()),
                "{context}"
            );
        }
    }
}

#[test]
fn https_from_the_local_server_brings_every_image_exactly() {
    let runs: [(&str, &[&str]); 3] = [
        ("threads", &[]),
        ("processes", &[]),
        ("processes", &["--start", "spawn"]),
    ];
    for (backend, start) in runs {
        let context = format!("{backend} {start:?}");
        let out_dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--https"];
        args.extend(start);
        let report = download(backend, out_dir.path(), &args, 0);
        assert!(report.ok, "{context}: {report:?}");
        let source = &report.figures.notes["source"];
        assert!(
            source.starts_with("local image server https://127.0.0.1:"),
            "{context}: {source}"
        );
        assert_every_image_exact(&report, &context);
        assert_folders_hold_exactly(out_dir.path(), &every_image(), &context);
    }
}

#[test]
fn ca_cert_trusts_another_https_server_and_nothing_else_does() {
    let certificates = tempfile::tempdir().unwrap();
    let folder = certificates.path().to_str().unwrap();
    let server = StandaloneServer::start_with(&["--tls-dir", folder]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let ca_cert = certificates.path().join("ca.pem");
    let ca_cert = ca_cert.to_str().unwrap();
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let args = ["--base-url", &server.base, "--ca-cert", ca_cert];
        let report = download(backend, out_dir.path(), &args, 0);
        assert!(report.ok, "{backend}: {report:?}");
        assert_every_image_exact(&report, backend);

        // Without it the server's certificate is trusted by nothing: the manifest's fetch
        // fails, and the run says why.
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &["--base-url", &server.base], 1);
        let problem = report.problem.as_deref().unwrap_or_default();
        assert!(
            problem.contains("the manifest at https://") && problem.contains("certificate"),
            "{backend}: {problem}"
        );
    }
}

#[test]
fn the_concurrent_pass_has_exactly_the_workers_asked_for() {
    // Tasks are one per URL, whatever --workers says (the test above counts their permits).
    for backend in ["threads", "processes"] {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &["--workers", "2"], 0);
        assert!(report.ok, "{backend}: {report:?}");
        assert_eq!(report.figures.workers_created, 1 + 2, "{backend}");
        let mut fetchers: Vec<&str> = (report.events.iter())
            .filter(|e| e.what == "saved" && e.worker != "seq")
            .map(|e| e.worker.as_str())
            .collect();
        fetchers.sort();
        fetchers.dedup();
        assert_eq!(fetchers, ["t0", "t1"], "{backend}");
        // ⌈14 / 2⌉ = 7 rounds of 1 ms.
        assert!((measured(&report, "ideal_concurrent_s") - 0.007).abs() < 1e-12);
    }
}

#[test]
fn faults_are_retried_until_every_image_is_whole() {
    // 2 images answer 500, 2 are cut mid-body, 2 stall past the client's timeout, on every
    // other request: the first request of each pass fails, its retry gets through.
    let faults = [
        "--server-fault=500:0.15",
        "--server-fault=cut:0.15",
        "--server-fault=stall:0.15",
        "--timeout=0.5",
    ];
    let faulty = [
        "airplane.png",
        "arctichare.png",
        "baboon.png",
        "boat.png",
        "cat.png",
        "fruits.png",
    ];
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &faults, 0);
        assert!(report.ok, "{backend}: {report:?}");
        assert_eq!(measured(&report, "retries_sequential"), 6.0, "{backend}");
        assert_eq!(measured(&report, "retries_concurrent"), 6.0, "{backend}");
        let retried: Vec<&str> = events(&report, "retry")
            .into_iter()
            .map(|detail| detail.split(':').next().unwrap())
            .collect();
        let mut expected: Vec<&str> = faulty.iter().chain(&faulty).copied().collect();
        expected.sort();
        assert_eq!(
            retried, expected,
            "{backend}: one retry per faulty image per pass"
        );
        let reasons = events(&report, "retry").join("\n");
        for reason in ["HTTP 500", "body cut short", "timed out after 0.5 s"] {
            assert!(
                reasons.contains(reason),
                "{backend}: no retry after {reason}: {reasons}"
            );
        }
        assert_folders_hold_exactly(out_dir.path(), &every_image(), backend);
    }
}

#[test]
fn an_image_that_keeps_failing_is_reported_by_name_and_leaves_no_file() {
    // Every request of airplane and arctichare answers 500; baboon and boat are always cut.
    let faults = [
        "--server-fault=500:0.15",
        "--server-fault=cut:0.15",
        "--server-fault-every=1",
        "--retries=1",
    ];
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &faults, 1);
        assert!(!report.ok);
        let problem = report.problem.as_deref().unwrap();
        assert!(
            problem.contains("4 of 14 failed")
                && problem.contains(
                    "airplane.png failed: HTTP 500 Internal Server Error (after 2 attempts)"
                )
                && problem.contains("baboon.png failed: body cut short"),
            "{backend}: {problem}"
        );
        for pass in ["sequential", "concurrent"] {
            let failed: Vec<&str> = report.outcome[pass]["images"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|image| image["fetched"].get("failed").is_some())
                .map(|image| image["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                failed,
                ["airplane.png", "arctichare.png", "baboon.png", "boat.png"],
                "{backend} {pass}"
            );
            assert_eq!(report.outcome[pass]["stray_files"], serde_json::json!([]));
        }
        assert_folders_hold_exactly(out_dir.path(), &every_image()[4..], backend);
    }
}

#[test]
fn nothing_listening_at_the_base_url_is_a_clear_failure() {
    // A port that was free a moment ago, and that nobody listens on now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("--base-url=http://127.0.0.1:{port}");
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &[&base], 1);
        let problem = report.problem.as_deref().unwrap();
        // The manifest is asked for first: a fetch that fails is an error, never a silent
        // fall-back to checking the passes against each other.
        let manifest = format!("the manifest at http://127.0.0.1:{port}/manifest.json");
        assert!(
            problem.contains(&manifest) && problem.contains("Connection refused"),
            "{backend}: {problem}"
        );
        assert_eq!(report.outcome, Value::Null, "{backend}: no outcome");
        // Nothing was written: at most an empty folder for the sequential pass.
        let sequential = out_dir.path().join("sequential");
        assert!(!sequential.exists() || files_in(&sequential).is_empty());
        assert!(!out_dir.path().join("concurrent").exists(), "{backend}");
    }
}

#[test]
fn base_url_fetches_from_a_standalone_image_server() {
    let server = StandaloneServer::start();
    let base = server.base.clone();
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(backend, out_dir.path(), &["--base-url", &base], 0);
        assert!(report.ok, "{backend}: {report:?}");
        assert_ne!(
            report.outcome["expected"],
            Value::Null,
            "the manifest was fetched"
        );
        assert_eq!(report.figures.notes["source"].trim_end_matches('/'), base);
    }
}

#[test]
fn a_url_list_is_fetched_and_checked_pass_against_pass() {
    let server = StandaloneServer::start();
    let base = server.base.clone();
    let list_dir = tempfile::tempdir().unwrap();
    let list = list_dir.path().join("urls.txt");
    std::fs::write(
        &list,
        format!("# two images\n{base}/cat.png\n\n{base}/tulips.png\n"),
    )
    .unwrap();
    for backend in BACKENDS {
        let out_dir = tempfile::tempdir().unwrap();
        let report = download(
            backend,
            out_dir.path(),
            &["--urls", list.to_str().unwrap()],
            0,
        );
        assert!(report.ok, "{backend}: {report:?}");
        assert_eq!(report.outcome["expected"], Value::Null);
        let listed = ["cat.png".to_string(), "tulips.png".to_string()];
        assert_folders_hold_exactly(out_dir.path(), &listed, backend);
    }
}

#[test]
fn the_image_server_is_a_hidden_mode_of_each_binary_only() {
    // `--help` of the backends does not show the internal flag nor the test faults.
    for backend in BACKENDS {
        let help = run(backend, &["--help"]);
        assert!(help.stdout.contains("--base-url"), "{}", help.stdout);
        assert!(!help.stdout.contains("internal-image-server"));
        assert!(!help.stdout.contains("server-fault"));
    }
}
