//! The comparison harness run as a user would: agreement, consistent figures, failures shown
//! in their row and never averaged in, outcomes checked again whatever a backend says,
//! differences that fail the comparison, any number of backends, and well-formed exports.

use cross_backend::{binary, command, finish, interrupt_when, on_one_core};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// What one run of compare left.
struct Compared {
    code: i32,
    stdout: String,
    /// The JSON export.
    report: Value,
}

/// Runs compare with `args`, the JSON export going to a temporary folder that is removed
/// once it has been read.
fn compare(args: &[&str]) -> Compared {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut all: Vec<String> = vec!["--export-json".into(), json.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    // compare's backends inherit its temporary folder, removed with `_scratch`.
    let (mut command, _scratch) = command("compare", &all);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let finished = finish(child, Duration::from_secs(120));
    let export = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no JSON export ({e}): {finished:?}"));
    Compared {
        code: finished.code(),
        stdout: finished.stdout,
        report: serde_json::from_str(&export).unwrap(),
    }
}

/// `--backend NAME=PATH` for a real backend program of this build.
fn real(name: &str, program: &str) -> String {
    format!("{name}={}", binary(program).display())
}

/// `--backend NAME=faulty-backend FAULT REAL`: the fixture around a real backend program.
fn faulty(name: &str, fault: &str, program: &str) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/faulty-backend");
    let command = format!(
        "{} {fault} {}",
        fixture.display(),
        binary(program).display()
    );
    assert_eq!(
        command.split_whitespace().count(),
        3,
        "COMMAND is split on spaces: the paths must hold none: {command}"
    );
    format!("{name}={command}")
}

fn backend<'a>(demo: &'a Value, name: &str) -> &'a Value {
    demo["summary"]["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["backend"] == name)
        .unwrap_or_else(|| panic!("no backend {name} in {demo}"))
}

fn names<'a>(values: &'a Value, key: &str) -> Vec<&'a str> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap())
        .collect()
}

#[test]
fn two_demos_agree_and_their_figures_are_consistent() {
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&["--runs", "2", "--scale", "0.01", "start", "custom-init"]);
    assert_eq!(code, 0, "{stdout}");
    let demos = report["demos"].as_array().unwrap();
    assert_eq!(names(&report["demos"], "id"), ["start", "custom-init"]);
    assert_eq!(
        names(&report["settings"]["backends"], "name"),
        ["threads", "processes", "tasks"],
        "the default backends"
    );
    let cores = report["settings"]["cores"].as_f64().unwrap();
    for demo in demos {
        let summary = &demo["summary"];
        assert_eq!(summary["outcomes_equal"], true, "{summary}");
        assert_eq!(summary["events_same_multiset"], true, "{summary}");
        assert_eq!(summary["failed"], false);
        assert_eq!(summary["problems"], serde_json::json!([]));
        let runs = demo["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 6, "2 runs × 3 backends");
        // Backends take turns: threads first in run 1, processes first in run 2.
        assert_eq!(
            names(&demo["runs"], "backend"),
            [
                "threads",
                "processes",
                "tasks",
                "processes",
                "tasks",
                "threads"
            ]
        );
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
        for name in ["threads", "processes", "tasks"] {
            let summary = backend(demo, name);
            assert_eq!(summary["ok_runs"], 2);
            assert_eq!(summary["failed_runs"], 0);
        }
    }
    // start sleeps 50 ms at this scale, long enough for the 10 ms sampler.
    for name in ["threads", "processes", "tasks"] {
        let pss = backend(&demos[0], name)["peak_pss_kib"]["median"]
            .as_f64()
            .unwrap();
        assert!(pss > 0.0, "{name}: {pss}");
    }
    // custom-init lasts a few milliseconds: sampled every millisecond at first, a run seen at
    // all is seen with its program loaded (over a MiB), never just after its exec (70 KiB was
    // once reported), and one seen fewer than three times gives no figure.
    for run in demos[1]["runs"].as_array().unwrap() {
        let samples = run["samples"].as_u64().unwrap();
        let pss = run["peak_pss_kib"].as_u64().unwrap();
        assert!(
            samples < 3 || pss >= 1024,
            "{pss} KiB in {samples} samples: {run}"
        );
    }
    for name in ["threads", "processes", "tasks"] {
        let pss = &backend(&demos[1], name)["peak_pss_kib"];
        assert!(
            pss.is_null() || pss["min"].as_f64().unwrap() >= 1024.0,
            "{name}: {pss}"
        );
    }
    let harness = &report["harness"];
    assert!(harness["overhead_s"].as_f64().unwrap() >= 0.0, "{harness}");
    assert_eq!(report["failed"], false);
    assert!(stdout.contains("outcomes equal"), "{stdout}");
    // Each demo leads with its own figures (start sleeps: its overhead over the ideal); two
    // runs are too few for an interval, and the report says so rather than name a winner.
    assert!(stdout.contains("overhead over the ideal"), "{stdout}");
    assert!(
        stdout.contains("too few runs for an interval (at least 3 each)"),
        "{stdout}"
    );
    assert!(!stdout.contains(" better"), "{stdout}");
    assert!(stdout.contains("compare: every demo agrees"), "{stdout}");
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} columns: {stdout}");
}

#[test]
fn three_backends_side_by_side() {
    let backends = [
        real("threads", "threads"),
        real("processes", "processes"),
        real("spare", "threads"),
    ];
    let mut args = vec!["--runs", "2", "--scale", "0.01"];
    for spec in &backends {
        args.extend(["--backend", spec]);
    }
    args.extend(["start", "custom-init", "crash"]);
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&args);
    assert_eq!(code, 0, "{stdout}");
    let settings = &report["settings"]["backends"];
    assert_eq!(names(settings, "name"), ["threads", "processes", "spare"]);
    assert_eq!(
        names(settings, "listed_as"),
        ["threads", "processes", "threads"]
    );
    assert_eq!(settings[1]["kind"]["worker"], "process");
    assert_eq!(settings[2]["kind"]["worker"], "thread");
    for demo in report["demos"].as_array().unwrap() {
        // Each run starts with another backend, in the order given.
        assert_eq!(
            names(&demo["runs"], "backend"),
            [
                "threads",
                "processes",
                "spare",
                "processes",
                "spare",
                "threads"
            ]
        );
        let summary = &demo["summary"];
        assert_eq!(
            names(&summary["backends"], "backend"),
            ["threads", "processes", "spare"]
        );
        assert_eq!(summary["outcomes_equal"], true, "{summary}");
        assert_eq!(summary["events_same_multiset"], true, "{summary}");
        // Every ratio is against the first backend; crash's only against the backend of
        // the same kind, as its outcomes and events are compared only there.
        let others: &[&str] = if demo["id"] == "crash" {
            let verdict = summary["verdict"].as_str().unwrap();
            assert!(
                verdict.contains("agree within a kind and differ between kinds by design"),
                "{verdict}"
            );
            &["spare"]
        } else {
            &["processes", "spare"]
        };
        let wall = summary["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == "demo_wall_s")
            .unwrap();
        let contrasts = wall["contrasts"].as_array().unwrap();
        assert_eq!(contrasts.len(), others.len(), "{summary}");
        for (contrast, other) in contrasts.iter().zip(others) {
            assert_eq!(contrast["reference"], "threads", "{contrast}");
            assert_eq!(contrast["backend"], *other, "{contrast}");
        }
    }
    assert!(stdout.contains("spare"), "{stdout}");
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} columns: {stdout}");
}

#[test]
fn start_reaches_only_backends_with_a_start_method() {
    for method in ["spawn", "forkserver"] {
        start_reaches_only_backends_with_a_start_method_by(method);
    }
}

fn start_reaches_only_backends_with_a_start_method_by(method: &str) {
    let backends = [
        real("threads", "threads"),
        real("processes", "processes"),
        real("spare", "threads"),
    ];
    let mut args = vec!["--runs", "1", "--scale", "0.01", "--start", method];
    for spec in &backends {
        args.extend(["--backend", spec]);
    }
    args.push("custom-init");
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&args);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains(&format!("processes --start {method}")),
        "{stdout}"
    );
    let demo = &report["demos"][0];
    assert_eq!(demo["summary"]["outcomes_equal"], true, "{demo}");
    for run in demo["runs"].as_array().unwrap() {
        let started_by = &run["report"]["figures"]["notes"]["start_method"];
        match run["backend"].as_str().unwrap() {
            "processes" => {
                assert!(started_by.as_str().unwrap().starts_with(method), "{run}")
            }
            _ => assert!(started_by.is_null(), "a thread has no start method: {run}"),
        }
    }
    for settings in report["settings"]["backends"].as_array().unwrap() {
        let has_start = settings["args"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--start");
        assert_eq!(has_start, settings["name"] == "processes", "{settings}");
    }
    assert_eq!(
        report["settings"]["backends"][1]["kind"]["start_method"],
        method
    );
}

#[test]
fn a_failing_backend_is_shown_in_its_row_and_never_averaged_in() {
    for (fault, expected) in [
        ("kill-worker", "t1 was killed by signal SIGKILL"),
        ("invalid-json", "not the JSON document"),
        ("hang", "no end within 1 s"),
        ("no-kind", "does not declare its kind"),
    ] {
        let processes = faulty("processes", fault, "processes");
        let args = [
            "--runs",
            "2",
            "--scale",
            "0.01",
            "--timeout",
            "1",
            "--backend",
            &real("threads", "threads"),
            "--backend",
            &processes,
            "start",
        ];
        let Compared {
            code,
            stdout,
            report,
            ..
        } = compare(&args);
        assert_eq!(code, 1, "{fault}: {stdout}");
        assert!(stdout.contains(expected), "{fault}: {stdout}");
        assert!(
            stdout.contains("processes FAILED 2 of 2 runs"),
            "{fault}: {stdout}"
        );
        assert!(
            stdout.contains("compare: FAILED: 1 of 1 demos: start"),
            "{stdout}"
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
        assert_eq!(report["failed"], true);
    }
}

#[test]
fn an_ok_whose_outcome_does_not_check_is_a_failed_run() {
    let liar = faulty("liar", "lying-ok", "threads");
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&[
        "--runs",
        "2",
        "--scale",
        "0.01",
        "--backend",
        &real("threads", "threads"),
        "--backend",
        &liar,
        "custom-init",
    ]);
    assert_eq!(code, 1, "{stdout}");
    let reason = "the backend says ok, but its outcome does not check";
    assert!(stdout.contains(reason), "{stdout}");
    assert!(stdout.contains("liar FAILED 2 of 2 runs"), "{stdout}");
    let demo = &report["demos"][0];
    for run in demo["runs"].as_array().unwrap() {
        if run["backend"] == "liar" {
            assert_eq!(run["report"]["ok"], true, "the backend said ok: {run}");
            assert_eq!(run["status"], "outcome-rejected", "{run}");
            let problem = run["problem"].as_str().unwrap();
            // The checker's own reason: which values it got.
            assert!(
                problem.contains(reason) && problem.contains("values"),
                "{run}"
            );
        } else {
            assert_eq!(run["status"], "ok", "{run}");
        }
    }
    let liar = backend(demo, "liar");
    assert_eq!(
        (&liar["ok_runs"], &liar["failed_runs"]),
        (&0.into(), &2.into())
    );
    assert_eq!(liar["demo_wall_s"], Value::Null, "never counted in figures");
    assert_eq!(
        liar["peak_pss_kib"],
        Value::Null,
        "never counted in figures"
    );
    assert_eq!(demo["summary"]["failed"], true);
}

#[test]
fn events_that_differ_fail_the_comparison() {
    let renamer = faulty("renamer", "renamed-event", "threads");
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&[
        "--runs",
        "1",
        "--scale",
        "0.01",
        "--backend",
        &real("threads", "threads"),
        "--backend",
        &renamer,
        "custom-init",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("EVENTS DIFFER"), "{stdout}");
    assert!(
        stdout.contains("`t1 finished`"),
        "names the event: {stdout}"
    );
    let summary = &report["demos"][0]["summary"];
    assert_eq!(summary["outcomes_equal"], true, "{summary}");
    assert_eq!(summary["events_same_multiset"], false, "{summary}");
    assert_eq!(summary["failed"], true, "{summary}");
    assert!(
        summary["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("EVENTS DIFFER"),
        "{summary}"
    );
    assert!(
        summary["backends"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["failed_runs"] == 0),
        "every run checked: {summary}"
    );
}

#[test]
fn outcomes_that_check_but_differ_fail_the_comparison() {
    let other = faulty("other", "other-outcome", "threads");
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&[
        "--runs",
        "1",
        "--scale",
        "0.01",
        "--count",
        "3",
        "--backend",
        &real("threads", "threads"),
        "--backend",
        &other,
        "spawn",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("OUTCOMES DIFFER: other run 1 differs from threads run 1"),
        "{stdout}"
    );
    let demo = &report["demos"][0];
    for run in demo["runs"].as_array().unwrap() {
        assert_eq!(run["status"], "ok", "each outcome checks on its own: {run}");
    }
    assert_eq!(demo["summary"]["outcomes_equal"], false);
    assert_eq!(demo["summary"]["failed"], true);
    assert!(stdout.contains("compare: FAILED"), "{stdout}");
}

#[test]
fn a_demo_missing_from_a_listing_is_not_supported_there() {
    let partial = faulty("partial", "no-custom-init", "threads");
    let Compared {
        code,
        stdout,
        report,
        ..
    } = compare(&[
        "--runs",
        "1",
        "--scale",
        "0.01",
        "--backend",
        &real("threads", "threads"),
        "--backend",
        &partial,
        "start",
        "custom-init",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("not supported by partial"), "{stdout}");
    let custom_init = &report["demos"][1];
    assert_eq!(names(&custom_init["runs"], "backend"), ["threads"]);
    assert_eq!(backend(custom_init, "partial")["supported"], false);
    assert_eq!(backend(&report["demos"][0], "partial")["ok_runs"], 1);
}

#[test]
fn ctrl_c_keeps_what_was_measured_and_ends_with_130() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let json_arg = json.display().to_string();
    // At scale 1, start sleeps 5 s: the interrupt lands in its first run.
    let args = [
        "--export-json",
        &json_arg,
        "--runs",
        "1",
        "--scale",
        "1",
        "start",
    ];
    let finished = interrupt_when(
        "compare",
        &args,
        "compare: backends",
        true,
        Duration::from_secs(30),
    );
    assert_eq!(finished.code(), 130, "{finished:?}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(
        report["demos"],
        serde_json::json!([]),
        "the interrupted demo is left out"
    );
    assert!(
        report["verdict"]
            .as_str()
            .unwrap()
            .starts_with("interrupted"),
        "{report}"
    );
}

#[test]
fn sigterm_to_compare_alone_stops_the_backend_under_way_and_leaves_nothing() {
    use cross_backend::{children_command_lines, group_is_gone};
    use nix::sys::signal::{Signal, kill};
    use std::io::BufRead;
    // At scale 1, start sleeps 5 s: the signal lands while a backend runs it.
    let (mut command, _scratch) = command("compare", &["--runs", "1", "--scale", "1", "start"]);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("compare: backends") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "compare said nothing"
        );
    }
    // The first run has started once compare has a child running the demo (before, its
    // children only list their demos).
    let started = std::time::Instant::now();
    let running_the_demo = |args: &Vec<String>| args.iter().any(|arg| arg == "start");
    while !children_command_lines(pid).iter().any(running_the_demo) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no run was started"
        );
        std::thread::yield_now();
    }
    let rest = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    // SIGTERM to compare alone: the backend does not see it unless compare passes it on.
    kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGTERM).unwrap();
    let finished = finish(child, Duration::from_secs(10));
    assert_eq!(finished.code(), 130, "{finished:?}");
    assert!(
        group_is_gone(pid),
        "a process of the run was left: {finished:?}"
    );
    let said = rest.join().unwrap();
    assert!(said.contains("interrupted"), "{said}");
}

#[test]
fn the_html_export_is_well_formed_with_one_chart_per_demo() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let markdown = dir.path().join("report.md");
    let html_arg = html.display().to_string();
    let markdown_arg = markdown.display().to_string();
    let spare = real("spare", "threads");
    let args = [
        "--runs",
        "1",
        // The sleeps must overlap to check: 0.05 leaves a loaded machine 250 ms to start five.
        "--scale",
        "0.05",
        "--export-html",
        &html_arg,
        "--export-markdown",
        &markdown_arg,
        "--backend",
        &real("threads", "threads"),
        "--backend",
        &real("processes", "processes"),
        "--backend",
        &spare,
        "join",
        "run-hooks",
    ];
    let compared = compare(&args);
    assert_eq!(compared.code, 0, "{}", compared.stdout);
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
    assert!(page.contains("<h1>threads vs processes vs spare</h1>"));
    let summary_table = &page[..page.find("<section").unwrap()];
    assert_eq!(
        summary_table.matches("<td>spare</td>").count(),
        2,
        "spare in the table"
    );
    let markdown = std::fs::read_to_string(&markdown).unwrap();
    for row in [
        "| `join` | threads |",
        "|  | spare |",
        "| `run-hooks` | threads |",
    ] {
        assert!(markdown.contains(row), "{row}: {markdown}");
    }
    assert!(markdown.starts_with("# threads vs processes vs spare"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir
        .path()
        .join("no-such-folder/report.json")
        .display()
        .to_string();
    let threads = real("threads", "threads");
    let processes = real("processes", "processes");
    let not_an_export = dir.path().join("not-an-export.json");
    std::fs::write(&not_an_export, "{\"demos\": 1}").unwrap();
    let not_an_export = not_an_export.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--baseline", "/nonexistent/baseline.json"],
            "cannot read the baseline /nonexistent/baseline.json",
        ),
        (
            vec!["--baseline", &not_an_export],
            "is not an export of compare (--export-json)",
        ),
        (
            vec!["--fail-on-regression"],
            "--fail-on-regression needs --baseline",
        ),
        (
            vec!["--sweep", "count=1,2", "join"],
            "join cannot be swept over count (it sweeps: workers, scale)",
        ),
        (
            vec!["--sweep", "workers=1,128", "cpu"],
            "at most 64 for cpu",
        ),
        (vec!["--sweep", "workers=2,1"], "must rise"),
        (vec!["bogus"], "unknown demo 'bogus'"),
        (vec!["--runs", "0"], "--runs"),
        (vec!["--scale", "-1"], "--scale"),
        (vec!["--timeout", "nan"], "--timeout"),
        (vec!["--export-json", &missing], "does not exist"),
        (vec!["--", "--no-such-option"], "refused by threads"),
        (vec!["--workers", "0"], "--workers"),
        (vec!["--backend", "noequals"], "NAME=COMMAND"),
        (vec!["--backend", "=x"], "name before '=' is empty"),
        (vec!["--backend", "x="], "no program"),
        (
            vec!["--backend", &threads, "--backend", &threads],
            "'threads' is given twice",
        ),
        (
            vec!["--backend", "gone=/nonexistent/program"],
            "cannot run the backend gone (/nonexistent/program)",
        ),
        (
            vec!["--backend", &threads, "--start", "spawn"],
            "--start spawn reaches no backend",
        ),
        (
            vec!["--backend", &processes, "--", "--no-such-option"],
            "refused by processes",
        ),
    ];
    for (args, names) in cases {
        let (mut command, _scratch) = command("compare", &args);
        let child = command
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
        assert!(finished.stdout.is_empty(), "nothing ran: {finished:?}");
    }
}

/// Whether a contrast of the JSON export says "no significant difference": no interval, or
/// one that reaches into the noise band around no difference.
fn no_significant_difference(contrast: &Value) -> bool {
    let interval = &contrast["interval"];
    if interval.is_null() {
        return true;
    }
    let (low, high, noise) = (
        interval["low"].as_f64().unwrap(),
        interval["high"].as_f64().unwrap(),
        interval["noise"].as_f64().unwrap(),
    );
    match interval["scale"].as_str().unwrap() {
        "ratio" => low <= 1.0 + noise && high >= 1.0 / (1.0 + noise),
        _ => low <= noise && high >= -noise,
    }
}

#[test]
fn a_backend_compared_with_itself_shows_no_significant_difference_anywhere() {
    on_one_core();
    let one = real("one", "threads");
    let other = real("other", "threads");
    // Five runs a side: even on one core a few figures fall one of two ways per run (how a
    // stream's two threads take turns on the core), and three runs against three once split
    // by that luck alone (channel's stream 1.89×).
    let mut args = vec!["--runs", "5", "--backend", &one, "--backend", &other];
    args.extend(cross_backend::WHOLE_RUN);
    let Compared {
        code,
        stdout,
        report,
    } = compare(&args);
    assert_eq!(code, 0, "{stdout}");
    let demos = report["demos"].as_array().unwrap();
    assert_eq!(demos.len(), 12, "every demo");
    for demo in demos {
        for figure in demo["summary"]["figures"].as_array().unwrap() {
            for contrast in figure["contrasts"].as_array().unwrap() {
                assert!(
                    no_significant_difference(contrast),
                    "{} {}: {contrast}",
                    demo["id"],
                    figure["key"]
                );
            }
        }
    }
    let verdict = report["which_model"].as_array().unwrap();
    assert!(verdict.len() >= 8, "{verdict:?}");
    for line in verdict {
        assert!(line["winner"].is_null(), "{line}");
    }
    assert!(!stdout.contains(" better"), "{stdout}");
    assert!(stdout.contains("no significant difference"), "{stdout}");
    assert!(stdout.contains("Verdict: which model for what"), "{stdout}");
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} columns: {stdout}");
}

#[test]
fn a_baseline_shows_what_changed_and_can_fail_the_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let first = compare(&["--runs", "3", "--scale", "0.01", "start"]);
    assert_eq!(first.code, 0, "{}", first.stdout);
    // The baseline as if its overhead over the ideal had been a thousandth of a microsecond:
    // every run now is far slower, in every backend.
    let mut baseline = first.report.clone();
    for run in baseline["demos"][0]["runs"].as_array_mut().unwrap() {
        let report = &mut run["report"];
        let ideal = report["ideal_wall_s"].as_f64().unwrap();
        let index = run["index"].as_f64().unwrap();
        run["report"]["wall_s"] = serde_json::json!(ideal + 1e-9 * (1.0 + index / 10.0));
    }
    let path = dir.path().join("baseline.json");
    std::fs::write(&path, serde_json::to_string(&baseline).unwrap()).unwrap();
    let path = path.display().to_string();

    let args = [
        "--runs",
        "3",
        "--scale",
        "0.01",
        "--baseline",
        &path,
        "start",
    ];
    let Compared {
        code,
        stdout,
        report,
    } = compare(&args);
    assert_eq!(code, 0, "a regression fails only when asked to: {stdout}");
    let changes = &report["since_baseline"];
    assert_eq!(changes["regressions"], 3, "{changes}");
    let verdicts: Vec<&str> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["regressed", "regressed", "regressed"],
        "{changes}"
    );
    assert!(
        stdout.contains("3 of 3 figures significantly worse"),
        "{stdout}"
    );
    assert!(
        stdout.contains("start threads overhead over the ideal: 1.10 ns →"),
        "{stdout}"
    );

    let mut failing = vec!["--fail-on-regression"];
    failing.extend(args);
    let failed = compare(&failing);
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stdout.contains("REGRESSED since the baseline"),
        "{}",
        failed.stdout
    );

    // Against itself nothing regressed.
    let first_path = dir.path().join("first.json");
    std::fs::write(&first_path, first.report.to_string()).unwrap();
    let same = compare(&[
        "--runs",
        "3",
        "--scale",
        "0.01",
        "--baseline",
        &first_path.display().to_string(),
        "--fail-on-regression",
        "start",
    ]);
    let changes = same.report["since_baseline"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "one lead figure × three backends");
}

#[test]
fn a_sweep_gives_a_point_per_value_and_backend_and_a_line_through_them() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("sweep.html");
    let html_arg = html.display().to_string();
    let Compared {
        code,
        stdout,
        report,
    } = compare(&[
        "--sweep",
        "workers=1,2,3",
        "--runs",
        "2",
        // The sleeps must overlap to check: 0.05 leaves a loaded machine 250 ms to start three.
        "--scale",
        "0.05",
        "--export-html",
        &html_arg,
        "join",
    ]);
    assert_eq!(code, 0, "{stdout}");
    // The HTML page draws one chart per figure, each with a line per backend.
    let page = std::fs::read_to_string(&html).unwrap();
    let charts: Vec<&str> = page
        .split("<svg class=\"sweep-chart\"")
        .skip(1)
        .map(|rest| &rest[..rest.find("</svg>").unwrap()])
        .collect();
    assert_eq!(charts.len(), 4, "one chart per figure of join");
    for chart in &charts {
        assert!(
            chart.contains("class=\"mark\""),
            "a chart without marks: {chart}"
        );
        assert!(
            chart.contains("threads") && chart.contains("processes"),
            "{chart}"
        );
    }
    let at: Vec<f64> = report["demos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["swept_at"].as_f64().unwrap())
        .collect();
    assert_eq!(at, [1.0, 2.0, 3.0], "join at each value");
    // Each run was given its value: join started that many workers.
    for demo in report["demos"].as_array().unwrap() {
        for run in demo["runs"].as_array().unwrap() {
            let workers = run["report"]["outcome"]["workers"].as_f64();
            assert_eq!(workers, demo["swept_at"].as_f64(), "{run}");
        }
    }
    let sweep = &report["sweep"];
    assert_eq!(sweep["param"], "workers");
    let figures = sweep["demos"][0]["figures"].as_array().unwrap();
    let keys: Vec<&str> = figures.iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "overhead_over_ideal_s",
            "demo_wall_s",
            "cpu_s",
            "peak_pss_kib"
        ]
    );
    for figure in figures {
        assert_eq!(
            names(&figure["series"], "backend"),
            ["threads", "processes", "tasks"]
        );
        for series in figure["series"].as_array().unwrap() {
            let xs: Vec<f64> = series["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["x"].as_f64().unwrap())
                .collect();
            assert_eq!(xs, [1.0, 2.0, 3.0], "{series}");
            assert!(series["fit"]["r2"].as_f64().is_some(), "{series}");
        }
    }
    assert!(stdout.contains("Sweep of workers"), "{stdout}");
    assert!(stdout.contains("join at workers 3 · ✓"), "{stdout}");
    assert!(
        !stdout.contains("Verdict:"),
        "no verdict across values: {stdout}"
    );
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} columns: {stdout}");
}

/// The swept figure's keys and, for each, the values each backend has a point at.
fn swept_points(report: &serde_json::Value) -> Vec<(String, Vec<Vec<f64>>)> {
    report["sweep"]["demos"][0]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|figure| {
            let xs = figure["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let points = s["points"].as_array().unwrap();
                    points.iter().map(|p| p["x"].as_f64().unwrap()).collect()
                })
                .collect();
            (figure["key"].as_str().unwrap().to_string(), xs)
        })
        .collect()
}

#[test]
fn a_sweep_of_the_message_size_draws_the_size_free_figures_at_every_size() {
    let Compared {
        code,
        stdout,
        report,
    } = compare(&[
        "--sweep",
        "message-size=8,1KiB,1MiB",
        "--runs",
        "2",
        "--count",
        "40",
        "channel",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let sizes = [8.0, 1024.0, 1048576.0];
    let points = swept_points(&report);
    let keys: Vec<&str> = points.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "channel_msgs_per_s",
            "channel_mb_per_s",
            "channel_round_trip_us",
            "channel_one_core_round_trip_us",
            "demo_wall_s",
            "cpu_s",
            "peak_pss_kib"
        ],
        "the 8 B and 64 KiB figures have one point at most: no curve"
    );
    for (key, series) in &points {
        assert_eq!(series, &vec![sizes.to_vec(); 3], "{key}");
    }
    // Each size crossed whole: the outcome names the path at that size.
    for (demo, label) in report["demos"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["8b", "1kib", "1mib"])
    {
        for run in demo["runs"].as_array().unwrap() {
            let paths = run["report"]["outcome"]["paths"].as_array().unwrap();
            assert_eq!(paths[0][0], format!("channel {label}"), "{run}");
            assert_eq!(paths[0][1], paths[0][2], "every message intact: {run}");
        }
    }
}

#[test]
fn a_sweep_of_touched_memory_times_the_bare_start_at_each_size() {
    let Compared {
        code,
        stdout,
        report,
    } = compare(&[
        "--sweep",
        "touched-mib=0,8,32",
        "--runs",
        "2",
        "--count",
        "20",
        "--workers",
        "3",
        "spawn",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let points = swept_points(&report);
    let curve = |key: &str| {
        points
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, xs)| xs.clone())
    };
    let at_each = vec![vec![0.0, 8.0, 32.0]; 3];
    assert_eq!(curve("raw_os_us_touched"), Some(at_each.clone()));
    // --workers 3: three workers at once, three passes, at every size.
    assert_eq!(curve("all_at_once_us_per_worker"), Some(at_each));
    for demo in report["demos"].as_array().unwrap() {
        for run in demo["runs"].as_array().unwrap() {
            let events = run["report"]["events"].as_array().unwrap();
            let at_once = events
                .iter()
                .filter(|e| e["detail"] == "3 workers at once, 3 times")
                .count();
            assert_eq!(at_once, 1, "{run}");
        }
    }
}

#[test]
fn a_limit_of_one_demo_binds_only_when_that_demo_runs() {
    // cpu takes at most 64 workers; join, run alone, takes more on every backend.
    let Compared {
        code,
        stdout,
        report,
    } = compare(&["--workers", "70", "--runs", "1", "--scale", "0.3", "join"]);
    assert_eq!(code, 0, "{stdout}");
    for run in report["demos"][0]["runs"].as_array().unwrap() {
        assert_eq!(run["report"]["outcome"]["workers"], 70, "{run}");
    }
    let (mut refused, _scratch) = command("compare", &["--workers", "70", "cpu"]);
    let output = refused.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at most 64 for cpu"), "{stderr}");
}
