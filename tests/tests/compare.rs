//! The comparison harness run as a user would: agreement, consistent figures, failures shown
//! in their row and never averaged in, and well-formed exports.

use cross_backend::{binary, command, finish};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("compare-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs compare with `args` (and `envs`), returns its exit code, stdout and the JSON export.
fn compare(args: &[&str], envs: &[(&str, &Path)], dir: &Path) -> (i32, String, Value) {
    let json = dir.join("report.json");
    let mut all: Vec<String> = vec!["--export-json".into(), json.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut cmd = command("compare", &all);
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let finished = finish(child, Duration::from_secs(120));
    let export = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no JSON export ({e}): {finished:?}"));
    (
        finished.code(),
        finished.stdout,
        serde_json::from_str(&export).unwrap(),
    )
}

fn backend<'a>(demo: &'a Value, name: &str) -> &'a Value {
    demo["summary"]["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["backend"] == name)
        .unwrap()
}

#[test]
fn two_demos_agree_and_their_figures_are_consistent() {
    let dir = scratch("agree");
    let (code, stdout, report) = compare(
        &["--runs", "2", "--scale", "0.01", "start", "custom-init"],
        &[],
        &dir,
    );
    assert_eq!(code, 0, "{stdout}");
    let demos = report["demos"].as_array().unwrap();
    assert_eq!(
        demos
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["start", "custom-init"]
    );
    let cores = report["settings"]["cores"].as_f64().unwrap();
    for demo in demos {
        let summary = &demo["summary"];
        assert_eq!(summary["outcomes_equal"], true, "{summary}");
        assert_eq!(summary["events_same_multiset"], true, "{summary}");
        assert_eq!(summary["failed"], false);
        let runs = demo["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 4, "2 runs × 2 backends");
        // Backends alternate: threads first in run 1, processes first in run 2.
        let order: Vec<&str> = runs
            .iter()
            .map(|r| r["backend"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["threads", "processes", "processes", "threads"]);
        for run in runs {
            assert_eq!(run["status"], "ok", "{run}");
            let wall = run["process_wall_s"].as_f64().unwrap();
            let cpu = run["user_s"].as_f64().unwrap() + run["sys_s"].as_f64().unwrap();
            assert!(cpu > 0.0, "{run}");
            assert!(
                cpu <= wall * cores + 0.05,
                "CPU {cpu} > wall {wall} × {cores} cores: {run}"
            );
            assert!(run["report"]["wall_s"].as_f64().unwrap() <= wall, "{run}");
        }
        for name in ["threads", "processes"] {
            let summary = backend(demo, name);
            assert_eq!(summary["ok_runs"], 2);
            assert_eq!(summary["failed_runs"], 0);
        }
    }
    // start sleeps 50 ms at this scale, long enough for the 10 ms sampler.
    for name in ["threads", "processes"] {
        let pss = backend(&demos[0], name)["peak_pss_kib"]["median"]
            .as_f64()
            .unwrap();
        assert!(pss > 0.0, "{name}: {pss}");
    }
    let harness = &report["harness"];
    assert!(harness["overhead_s"].as_f64().unwrap() >= 0.0, "{harness}");
    assert!(stdout.contains("outcomes equal"), "{stdout}");
    assert!(stdout.contains("times faster than"), "{stdout}");
}

#[test]
fn start_spawn_goes_to_processes_alone() {
    let dir = scratch("spawn");
    let (code, stdout, report) = compare(
        &[
            "--runs",
            "1",
            "--scale",
            "0.01",
            "--start",
            "spawn",
            "custom-init",
        ],
        &[],
        &dir,
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("processes --start spawn"), "{stdout}");
    let demo = &report["demos"][0];
    assert_eq!(demo["summary"]["outcomes_equal"], true, "{demo}");
    for run in demo["runs"].as_array().unwrap() {
        let started_by = &run["report"]["figures"]["notes"]["start_method"];
        match run["backend"].as_str().unwrap() {
            "processes" => assert!(started_by.as_str().unwrap().starts_with("spawn"), "{run}"),
            _ => assert!(started_by.is_null(), "threads has no start method: {run}"),
        }
    }
}

#[test]
fn a_failing_backend_is_shown_in_its_row_and_never_averaged_in() {
    let dir = scratch("failing");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/faulty-backend");
    let real = binary("processes");
    let fixture_arg = fixture.display().to_string();
    for (fault, expected) in [
        ("kill-worker", "t1 was killed by signal SIGKILL"),
        ("invalid-json", "not the JSON document"),
        ("hang", "no end within 1 s"),
    ] {
        let args = [
            "--runs",
            "2",
            "--scale",
            "0.01",
            "--timeout",
            "1",
            "--processes-bin",
            &fixture_arg,
            "start",
        ];
        let fault_path = PathBuf::from(fault);
        let (code, stdout, report) = compare(
            &args,
            &[("REAL_BACKEND", &real), ("FAULT", &fault_path)],
            &dir,
        );
        assert_eq!(code, 1, "{fault}: {stdout}");
        assert!(stdout.contains(expected), "{fault}: {stdout}");
        assert!(
            stdout.contains("processes FAILED 2 of 2 runs"),
            "{fault}: {stdout}"
        );
        let demo = &report["demos"][0];
        let processes = backend(demo, "processes");
        assert_eq!(processes["ok_runs"], 0, "{fault}");
        assert_eq!(processes["failed_runs"], 2, "{fault}");
        assert_eq!(
            processes["demo_wall_s"],
            Value::Null,
            "{fault}: failed runs are not averaged in"
        );
        assert!(
            processes["failures"][0]
                .as_str()
                .unwrap()
                .contains(expected),
            "{fault}"
        );
        assert_eq!(backend(demo, "threads")["ok_runs"], 2, "{fault}");
        assert_eq!(demo["summary"]["failed"], true);
    }
}

#[test]
fn the_html_export_is_well_formed_with_one_chart_per_demo() {
    let dir = scratch("html");
    let html = dir.join("report.html");
    let markdown = dir.join("report.md");
    let html_arg = html.display().to_string();
    let markdown_arg = markdown.display().to_string();
    let args = [
        "--runs",
        "1",
        "--scale",
        "0.01",
        "--export-html",
        &html_arg,
        "--export-markdown",
        &markdown_arg,
        "join",
        "run-hooks",
    ];
    let (code, stdout, _) = compare(&args, &[], &dir);
    assert_eq!(code, 0, "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    let mut reader = quick_xml::Reader::from_str(&page);
    reader.config_mut().check_end_names = true;
    let (mut time_charts, mut memory_charts, mut depth) = (0, 0, 0i32);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(element)) => {
                depth += 1;
                if element.name().as_ref() == "svg" {
                    let class = element
                        .try_get_attribute("class")
                        .unwrap()
                        .map(|a| a.value.into_owned());
                    match class.as_deref() {
                        Some("time-chart") => time_charts += 1,
                        Some("memory-chart") => memory_charts += 1,
                        _ => {}
                    }
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!(
                "the HTML is not well-formed at {}: {error}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    assert_eq!(time_charts, 2, "one time chart per demo");
    assert_eq!(memory_charts, 1);
    let markdown = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        markdown.contains("| `join` | threads |") && markdown.contains("| `run-hooks` | threads |"),
        "{markdown}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = scratch("bad");
    let missing = dir.join("no-such-folder/report.json").display().to_string();
    for (args, names) in [
        (vec!["bogus"], "unknown demo 'bogus'"),
        (vec!["--runs", "0"], "--runs"),
        (vec!["--scale", "-1"], "--scale"),
        (vec!["--timeout", "nan"], "--timeout"),
        (vec!["--export-json", &missing], "does not exist"),
        (
            vec!["--threads-bin", "/nonexistent/threads"],
            "threads binary",
        ),
        (vec!["--", "--no-such-option"], "refused by threads"),
        (vec!["--workers", "0"], "--workers"),
    ] {
        let child = command("compare", &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let finished = finish(child, Duration::from_secs(30));
        assert_eq!(finished.code(), 2, "{args:?}: {finished:?}");
        let lines: Vec<&str> = finished.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(
            lines[0].starts_with("compare: error:") && lines[0].contains(names),
            "{args:?}: {lines:?}"
        );
    }
}
