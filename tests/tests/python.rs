//! The Python backends (`scripts/python`: `python-threads`, `python-processes`) held to the
//! same contract as the Rust ones: every demo's outcome passes the contract's own check and
//! equals the Rust backend's of the same kind, with the same events; bad input is one line
//! and exit 2; a killed worker process leaves nothing behind; `compare --python` adds them,
//! or says in one line that the interpreter is not there.
//!
//! These tests need `python3` (3.9 or newer) on `PATH`; without it they fail, saying so.
//! They run one at a time (one lock): one of them makes this test process a child subreaper,
//! whose check for leftovers would otherwise see the other tests' children.

use contract::DemoId;
use contract::demos::EventKey;
use contract::domain::BackendKind;
use contract::report::{DemoReport, RunDocument};
use cross_backend::{DEADLINE, Finished, assert_nothing_left, binary, finish};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The Python backends, each with the Rust backend of the same kind.
const PAIRS: [(&str, &str); 2] = [
    ("python-threads", "threads"),
    ("python-processes", "processes"),
];

/// Every demo at a small scale: small counts (spawn starts 100 workers by each start method
/// it measures, Python's spawn being the dearest), the event's draw period at 25 ms.
const SMALL_RUN: [&str; 8] = [
    "--scale", "0.05", "--count", "100", "--trials", "20", "--n", "100000",
];

/// A whole run of a Python backend starts several hundred interpreters and processes.
const WHOLE_RUN_DEADLINE: Duration = Duration::from_secs(300);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `python3` on `PATH`, or a failed test that says to install it.
fn python() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|folder| folder.join("python3"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "python3 is not installed: install Python 3.9 or newer to test the Python backends"
            )
        })
}

/// The script of a Python backend, in the workspace's `scripts/python`.
fn script(backend: &str) -> PathBuf {
    let file = format!("{}.py", backend.replace('-', "_"));
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/python")
        .join(file)
}

/// Runs a Python backend to its end, in its own process group, its temporary files in a
/// folder of its own, with the workspace's image server for `download`.
fn run_python(backend: &str, args: &[&str], deadline: Duration) -> Finished {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let mut command = Command::new(python());
    command
        .arg(script(backend))
        .args(args)
        .env("TMPDIR", scratch.path())
        .env("IMAGE_SERVER", binary("image-server"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    finish(command.spawn().expect("start python3"), deadline)
}

/// Runs a Rust backend with `args` to its end.
fn run_rust(backend: &str, args: &[&str]) -> Finished {
    cross_backend::run(backend, args)
}

fn document(finished: &Finished, what: &str) -> RunDocument {
    assert_eq!(finished.code(), 0, "{what}: {finished:?}");
    finished.document()
}

fn report(document: &RunDocument, demo: DemoId) -> &DemoReport {
    document
        .demos
        .iter()
        .find(|r| r.id == demo.id())
        .unwrap_or_else(|| panic!("{}: no report of {demo}", document.backend))
}

/// The events two correct runs must agree on, sorted.
fn comparable_events(demo: DemoId, report: &DemoReport) -> Vec<EventKey> {
    let mut events: Vec<EventKey> = report
        .events
        .iter()
        .filter_map(|e| demo.comparable_event(e))
        .collect();
    events.sort();
    events
}

#[test]
fn every_demo_passes_the_contracts_check_and_agrees_with_rust() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let args: Vec<&str> = ["--json"].iter().chain(&SMALL_RUN).copied().collect();
    for (python_backend, rust_backend) in PAIRS {
        let python_run = run_python(python_backend, &args, WHOLE_RUN_DEADLINE);
        let python_doc = document(&python_run, python_backend);
        let rust_doc = document(&run_rust(rust_backend, &args), rust_backend);
        assert_eq!(python_doc.backend, python_backend);
        assert_eq!(
            python_doc.kind, rust_doc.kind,
            "{python_backend}: the same kind"
        );
        assert_eq!(python_doc.runtime["language"], "Python");
        assert!(
            python_doc.runtime["gil"].starts_with("enabled")
                || python_doc.runtime["gil"].starts_with("disabled"),
            "{:?}",
            python_doc.runtime
        );
        let ids: Vec<&str> = python_doc.demos.iter().map(|r| r.id.as_str()).collect();
        let all: Vec<&str> = DemoId::ALL.iter().map(|d| d.id()).collect();
        assert_eq!(ids, all, "{python_backend}: every demo, in catalogue order");
        for demo in DemoId::ALL {
            let (python, rust) = (report(&python_doc, demo), report(&rust_doc, demo));
            // compare's own check, which never trusts the backend's `ok`.
            assert_eq!(
                demo.check_outcome(&python_doc.kind, &python.outcome),
                Ok(()),
                "{python_backend} {demo}: {python:?}"
            );
            assert!(python.ok, "{python_backend} {demo}: {python:?}");
            assert_eq!(
                demo.comparable_outcome(&python.outcome),
                demo.comparable_outcome(&rust.outcome),
                "{python_backend} against {rust_backend}: {demo}'s outcome"
            );
            assert_eq!(
                comparable_events(demo, python),
                comparable_events(demo, rust),
                "{python_backend} against {rust_backend}: {demo}'s events"
            );
            // Every headline the Rust backend gives in this run (some need an option).
            let given = demo
                .headlines()
                .iter()
                .filter(|h| rust.figures.measured.contains_key(h.key));
            for headline in given {
                assert!(
                    python.figures.measured.contains_key(headline.key),
                    "{python_backend} {demo}: no headline figure {}",
                    headline.key
                );
            }
        }
    }
}

#[test]
fn download_of_more_images_than_workers_agrees_with_rust() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let args = [
        "--json",
        "--scale",
        "0.01",
        "--image-kib",
        "8",
        "--images",
        "30",
        "--workers",
        "4",
        "download",
    ];
    for (python_backend, rust_backend) in PAIRS {
        let python_doc = document(&run_python(python_backend, &args, DEADLINE), python_backend);
        let rust_doc = document(&run_rust(rust_backend, &args), rust_backend);
        let (python, rust) = (
            report(&python_doc, DemoId::Download),
            report(&rust_doc, DemoId::Download),
        );
        assert_eq!(
            DemoId::Download.check_outcome(&python_doc.kind, &python.outcome),
            Ok(())
        );
        let images = python.outcome["concurrent"]["images"].as_array().unwrap();
        assert_eq!(images.len(), 30, "{python_backend}");
        assert_eq!(images[29]["name"], "arctichare-2.png", "{python_backend}");
        assert_eq!(
            DemoId::Download.comparable_outcome(&python.outcome),
            DemoId::Download.comparable_outcome(&rust.outcome),
            "{python_backend} against {rust_backend}"
        );
        assert_eq!(
            comparable_events(DemoId::Download, python),
            comparable_events(DemoId::Download, rust),
            "{python_backend} against {rust_backend}"
        );
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let bad: [(&[&str], &str); 11] = [
        (&["--scale", "0"], "--scale"),
        (&["--scale", "x"], "--scale"),
        (&["--count", "0"], "--count"),
        (&["--workers", "65"], "--workers"),
        (&["joins"], "unknown demo 'joins'"),
        (&["start", "start"], "named twice"),
        (&["--bogus"], "--bogus"),
        (&["--base-url", "ftp://host/x"], "only http and https"),
        (&["--urls", "/no/such/file"], "cannot read /no/such/file"),
        (&["--images", "10001"], "--images"),
        (
            &["--images", "15", "--image-kib", "32768", "download"],
            "make 480 MiB, more than the local image server holds (448 MiB)",
        ),
    ];
    for (backend, _) in PAIRS {
        let start_refused: (&[&str], &str) = match backend {
            "python-threads" => (&["--start", "fork"], "a thread has one way to start"),
            _ => (&["--start", "vfork"], "--start"),
        };
        for (args, names) in bad.iter().chain([&start_refused]) {
            let finished = run_python(backend, args, DEADLINE);
            assert_eq!(finished.code(), 2, "{backend} {args:?}: {finished:?}");
            assert!(
                finished.stdout.is_empty(),
                "{backend} {args:?}: {finished:?}"
            );
            let lines: Vec<&str> = finished.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{backend} {args:?}: {finished:?}");
            assert!(
                lines[0].starts_with(&format!("{backend}: error: ")) && lines[0].contains(names),
                "{backend} {args:?}: {}",
                lines[0]
            );
        }
    }
}

#[test]
fn a_killed_worker_process_leaves_no_process_behind() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    cross_backend::become_subreaper();
    // Demos where a killed worker holds something the others wait on: join's sleepers,
    // lock's lock, queue's manager process, channel's peer.
    for demo in ["join", "lock", "queue", "channel"] {
        let args = [&SMALL_RUN[..], &["--inject", "kill-worker", demo]].concat();
        let killed = run_python("python-processes", &args, DEADLINE);
        assert_eq!(killed.code(), 1, "{demo}: {killed:?}");
        let first = match demo {
            "join" => "t0",
            "queue" => "producer",
            "channel" => "peer",
            _ => "t1",
        };
        assert!(
            killed
                .stdout
                .contains(&format!("{first} was killed by signal SIGKILL")),
            "{demo}: {killed:?}"
        );
        assert_nothing_left(&format!(
            "python-processes {demo}, a worker killed by SIGKILL"
        ));
    }
    // A run that starts the forkserver and the resource tracker stops them before it exits.
    let forkserver = run_python(
        "python-processes",
        &[
            "--scale",
            "0.05",
            "--start",
            "forkserver",
            "custom-init",
            "crash",
        ],
        DEADLINE,
    );
    assert_eq!(forkserver.code(), 0, "{forkserver:?}");
    assert_nothing_left("python-processes started by forkserver");
    // python-threads: crash's abort and kill rounds end a copy of the program, reaped.
    let copy = run_python(
        "python-threads",
        &["--scale", "0.05", "--json", "crash"],
        DEADLINE,
    );
    assert_eq!(copy.code(), 0, "{copy:?}");
    assert_nothing_left("python-threads crash, the copies of the program");
}

#[test]
fn compare_adds_the_python_backends_and_says_when_the_interpreter_is_missing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let compare = |args: &[&str]| {
        let mut command = Command::new(binary("compare"));
        command
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        finish(command.spawn().expect("start compare"), WHOLE_RUN_DEADLINE)
    };

    let missing = compare(&["--python", "/no/such/python", "start"]);
    assert_eq!(missing.code(), 2, "{missing:?}");
    assert!(missing.stdout.is_empty(), "{missing:?}");
    let lines: Vec<&str> = missing.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{missing:?}");
    assert!(
        lines[0].contains("/no/such/python") && lines[0].contains("no Python interpreter"),
        "{}",
        lines[0]
    );

    let python = python().display().to_string();
    let python_flag = format!("--python={python}");
    let agreed = compare(&[
        &python_flag,
        "--runs",
        "1",
        "--scale",
        "0.05",
        "custom-init",
        "crash",
        "download",
    ]);
    assert_eq!(agreed.code(), 0, "{agreed:?}");
    assert!(
        agreed
            .stdout
            .contains("every demo agrees: 3 demos on 5 backends"),
        "{agreed:?}"
    );
    for backend in ["python-threads", "python-processes"] {
        assert!(agreed.stdout.contains(backend), "{agreed:?}");
    }
}

/// The kinds a Python backend declares, as `compare` reads them.
#[test]
fn the_listings_declare_the_kinds_and_the_runtime() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    for (backend, start) in [
        ("python-threads", None),
        ("python-processes", Some("spawn")),
    ] {
        let mut args = vec!["--list", "--json"];
        args.extend(start.iter().flat_map(|method| ["--start", method]));
        let listed = run_python(backend, &args, DEADLINE);
        assert_eq!(listed.code(), 0, "{listed:?}");
        let listing: contract::report::Listing =
            serde_json::from_str(&listed.stdout).expect("a listing");
        let expected = BackendKind {
            worker: match start {
                None => contract::domain::WorkerKind::Thread,
                Some(_) => contract::domain::WorkerKind::Process,
            },
            isolated: start.is_some(),
            start_method: start.map(str::to_string),
            executor: None,
        };
        assert_eq!(listing.kind, expected, "{backend}");
        assert_eq!(listing.demos.len(), DemoId::ALL.len());
        for key in ["language", "version", "gil"] {
            assert!(listing.runtime.contains_key(key), "{backend}: {listing:?}");
        }
    }
}
