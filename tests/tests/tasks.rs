//! What tasks do that threads and processes do not: the current-thread runtime's CPU-bound
//! speedup stays at 1 (the async GIL), ten thousand sleepers on one runtime, and a panicking
//! task caught at its `JoinHandle` while the others finish.

use contract::domain::WorkerKind;
use cross_backend::{command, finish, measured, one_demo, run, run_json};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn cpu_bound_tasks_on_a_current_thread_runtime_do_not_speed_up() {
    let report = one_demo("tasks", &["cpu", "--workers", "2", "--n", "400000"]);
    // Both tasks run on the one thread, one after the other: the known answer is 1. The
    // bound is generous (it is not a claim about speed), and far below the 2 of two cores.
    let current_thread = measured(&report, "current_thread_speedup_2_workers");
    assert!(
        (0.6..1.4).contains(&current_thread),
        "current-thread speedup {current_thread}: {:?}",
        report.figures.measured
    );
    // The multi-thread runtime's and spawn_blocking's are reported beside it, each against
    // the demo's one-worker pass of the same run (one task counting alone holds one thread,
    // whatever the flavour), which is not counted again.
    for key in [
        "speedup_2_workers",
        "spawn_blocking_speedup_2_workers",
        "current_thread_wall_s_2_workers",
        "spawn_blocking_wall_s_2_workers",
    ] {
        assert!(
            measured(&report, key) > 0.0,
            "{key}: {:?}",
            report.figures.measured
        );
    }
    let one_worker_s = measured(&report, "wall_s_1_workers");
    for flavour in ["current_thread", "spawn_blocking"] {
        let wall_s = measured(&report, &format!("{flavour}_wall_s_2_workers"));
        let speedup = measured(&report, &format!("{flavour}_speedup_2_workers"));
        let expected = one_worker_s / wall_s;
        assert!(
            (speedup - expected).abs() < 1e-9 * expected,
            "{flavour}: {speedup}"
        );
        let again = format!("{flavour}_wall_s_1_workers");
        assert!(!report.figures.measured.contains_key(&again), "{again}");
    }
}

#[test]
fn ten_thousand_tasks_sleep_at_once_and_are_all_joined() {
    let report = one_demo("tasks", &["join", "--workers", "10000", "--scale", "0.2"]);
    assert_eq!(report.figures.workers_created, 10_000);
    assert_eq!(report.outcome["workers"], 10_000);
    assert_eq!(report.outcome["finished"].as_array().unwrap().len(), 10_000);
    assert_eq!(report.outcome["overlapped"], true, "{:?}", report.problem);
    let joined: Vec<_> = (report.events.iter())
        .filter(|e| e.worker == "main" && e.what == "joined")
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(joined, [Some("all 10000".to_string())]);
}

#[test]
fn more_than_a_thousand_workers_are_refused_in_one_line_by_threads_and_processes() {
    for (backend, worker) in [("threads", "thread"), ("processes", "process")] {
        let refused = run(backend, &["join", "--workers", "10000"]);
        assert_eq!(refused.code(), 2, "{backend}: {refused:?}");
        assert_eq!(
            refused.stderr.trim(),
            format!(
                "{backend}: error: --workers takes at most 1024 for join on {worker} workers \
                 (task workers go up to 100000)"
            ),
            "{refused:?}"
        );
        assert!(refused.stdout.is_empty(), "{backend}: nothing half-written");
    }
}

#[test]
fn a_panicking_task_is_caught_at_its_join_handle_and_the_others_finish() {
    let document = run_json("tasks", &["crash", "--fault", "panic", "--scale", "0.1"], 0);
    assert_eq!(document.kind.worker, WorkerKind::Task);
    let executor = document
        .kind
        .executor
        .as_ref()
        .expect("tasks name their executor");
    assert_eq!(executor.flavour, "multi-thread");
    assert!(executor.worker_threads >= 1);
    let report = &document.demos[0];
    assert!(report.ok, "{report:?}");
    let round = &report.outcome["rounds"][0];
    assert_eq!(round["survivors"], serde_json::json!(["t1", "t3", "t4"]));
    assert_eq!(round["program_survived"], true);
    assert_eq!(round["seen"], "panicked: the doomed worker panics");
    let finished: Vec<&str> = (report.events.iter())
        .filter(|e| e.what == "finished")
        .map(|e| e.worker.as_str())
        .collect();
    assert_eq!(finished.len(), 3, "{finished:?}");
}

#[test]
fn a_sweep_of_workers_runs_threads_and_processes_only_up_to_their_limit() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sweep.json");
    let json_arg = json.display().to_string();
    let args = [
        "--export-json",
        &json_arg,
        "--runs",
        "1",
        "--scale",
        "0.2",
        "--sweep",
        "workers=2,1500",
        "join",
    ];
    let (mut command, _scratch) = command("compare", &args);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let finished = finish(child, Duration::from_secs(120));
    assert_eq!(finished.code(), 0, "{finished:?}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let ran_at = |point: f64| -> Vec<String> {
        let demo = (report["demos"].as_array().unwrap().iter())
            .find(|d| d["swept_at"].as_f64() == Some(point))
            .unwrap_or_else(|| panic!("no point {point}: {report}"));
        (demo["runs"].as_array().unwrap().iter())
            .map(|r| r["backend"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ran_at(2.0), ["threads", "processes", "tasks"]);
    assert_eq!(
        ran_at(1500.0),
        ["tasks"],
        "only task workers go beyond 1024"
    );
    assert!(
        finished.stdout.contains("not supported by threads"),
        "{}",
        finished.stdout
    );
}
