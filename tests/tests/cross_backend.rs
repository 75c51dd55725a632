//! Both binaries, same demos: same outcomes, same events (in any order), same `--list`.

use cross_backend::{BACKENDS, run, run_json};
use shared::catalogue::DemoId;
use std::collections::BTreeMap;

#[test]
fn both_backends_agree_on_every_demo() {
    let [threads, processes] = BACKENDS.map(|backend| run_json(backend, &["--scale", "0.01"], 0));
    let ids: Vec<&str> = DemoId::ALL.iter().map(|d| d.id()).collect();
    for document in [&threads, &processes] {
        let run_ids: Vec<&str> = document.demos.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            run_ids, ids,
            "{}: every demo, in catalogue order",
            document.backend
        );
    }
    for (t, p) in threads.demos.iter().zip(&processes.demos) {
        assert!(t.ok && p.ok, "{}: {t:?} {p:?}", t.id);
        assert_eq!(t.outcome, p.outcome, "{}: outcomes differ", t.id);
        assert_eq!(multiset(t), multiset(p), "{}: events differ", t.id);
    }
}

fn multiset(
    report: &shared::report::DemoReport,
) -> BTreeMap<(String, String, Option<String>), usize> {
    let mut counts = BTreeMap::new();
    for event in &report.events {
        let mut key = event.key();
        // download's workers take URLs from a queue: which worker fetches which image is
        // the scheduler's choice, so only what was done is compared, not by whom.
        if report.id == "download" && key.0 != "main" && key.0 != "seq" {
            key.0 = "a worker".to_string();
        }
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[test]
fn list_is_the_same_for_both_binaries_and_names_every_demo() {
    let [threads, processes] = BACKENDS.map(|backend| run(backend, &["--list"]));
    assert_eq!(threads.code(), 0);
    assert_eq!(processes.code(), 0);
    assert_eq!(threads.stdout, processes.stdout);
    let ids: Vec<&str> = threads
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<&str> = DemoId::ALL.iter().map(|d| d.id()).collect();
    assert_eq!(ids, expected);
}

#[test]
fn demos_run_in_the_order_named() {
    for backend in BACKENDS {
        let document = run_json(backend, &["--scale", "0.01", "custom-init", "start"], 0);
        let ids: Vec<&str> = document.demos.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["custom-init", "start"], "{backend}");
    }
}
