//! Each demo on each backend at a small scale: the outcome is what the contract says.

use contract::report::DemoReport;
use cross_backend::{BACKENDS, one_demo};
use serde_json::{Value, json};

const SCALE: &str = "0.01";

fn report(backend: &str, demo: &str) -> DemoReport {
    let report = one_demo(backend, &["--scale", SCALE, demo]);
    assert_eq!(report.id, demo, "{backend}");
    report
}

#[test]
fn start_says_hello_while_t1_sleeps() {
    for backend in BACKENDS {
        let report = report(backend, "start");
        assert_eq!(
            report.outcome["order"],
            json!(["t1 sleeping", "main hello", "main hello", "t1 finished"]),
            "{backend}"
        );
        assert_eq!(report.figures.workers_created, 1, "{backend}");
    }
}

#[test]
fn join_runs_five_sleeps_at_once() {
    for backend in BACKENDS {
        let report = report(backend, "join");
        assert_eq!(
            report.outcome["finished"],
            json!(["t0", "t1", "t2", "t3", "t4"]),
            "{backend}"
        );
        assert_eq!(report.outcome["overlapped"], json!(true), "{backend}");
        let started: Vec<&str> = report
            .events
            .iter()
            .filter(|e| e.worker == "main" && e.what == "started")
            .filter_map(|e| e.detail.as_deref())
            .collect();
        assert_eq!(
            started,
            ["t0", "t1", "t2", "t3", "t4"],
            "{backend}: main reports each start in order"
        );
        assert_eq!(report.figures.spawn_to_first_event_us.len(), 5, "{backend}");
    }
}

#[test]
fn run_hooks_wrap_every_target() {
    for backend in BACKENDS {
        let report = report(backend, "run-hooks");
        let expected = json!(["started", "sleeping", "finished", "done"]);
        let per_worker = report.outcome["per_worker"]
            .as_object()
            .expect("per_worker map");
        assert_eq!(
            per_worker.keys().collect::<Vec<_>>(),
            ["t1", "t2", "t3", "t4"],
            "{backend}"
        );
        for (worker, whats) in per_worker {
            assert_eq!(whats, &expected, "{backend} {worker}");
        }
    }
}

#[test]
fn custom_init_returns_each_value_to_the_parent() {
    for backend in BACKENDS {
        let report = report(backend, "custom-init");
        let values: Vec<(u32, u64)> = report.outcome["values"]
            .as_object()
            .expect("values map")
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.as_u64().unwrap()))
            .collect();
        let mut values = values;
        values.sort();
        let expected: Vec<(u32, u64)> = (1..=10).map(|k| (k, 8 * (u64::from(k) - 1))).collect();
        assert_eq!(values, expected, "{backend}");
        assert_eq!(report.figures.workers_created, 10, "{backend}");
    }
}

#[test]
fn processes_count_the_ipc_traffic_and_threads_have_none() {
    let threads = report("threads", "custom-init");
    assert_eq!(threads.figures.ipc_messages, None);
    let processes = report("processes", "custom-init");
    // Each of the 10 children sends 3 events and 1 result.
    assert_eq!(processes.figures.ipc_messages, Some(40));
    assert!(processes.figures.ipc_bytes.unwrap() > 40);
    assert_ne!(processes.figures.results_via, threads.figures.results_via);
    assert_ne!(processes.outcome, Value::Null);
}
