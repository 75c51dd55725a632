//! The cluster backend run as a user runs it, under `mpirun`: every demo it lists passes the
//! contract's check, and its outcomes are the ones the contract fixes for every backend.
#![cfg(feature = "mpi")]

use contract::DemoId;
use contract::demos::custom_init::CustomInitOutcome;
use contract::demos::download::{DownloadOutcome, Fetched};
use contract::demos::event::EventOutcome;
use contract::domain::BackendKind;
use serde_json::Value;
use std::process::Command;

/// Runs the binary to its end: exit code, stdout, stderr.
fn cluster(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cluster"))
        .args(args)
        .output()
        .expect("run cluster");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The `--json` document of a successful run.
fn document(args: &[&str]) -> Value {
    let (code, stdout, stderr) = cluster(&[&["--json"][..], args].concat());
    assert_eq!(code, 0, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).expect("one JSON document")
}

fn listed_demos() -> Vec<String> {
    let (code, stdout, _) = cluster(&["--list", "--json"]);
    assert_eq!(code, 0);
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["kind"]["worker"], "rank");
    assert_eq!(listing["kind"]["isolated"], false);
    listing["demos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_listed_demo_passes_the_contract_check_at_a_small_scale() {
    let listed = listed_demos();
    // Every demo of the catalogue runs on ranks, in catalogue order.
    let catalogue: Vec<String> = DemoId::ALL.iter().map(|id| id.to_string()).collect();
    assert_eq!(listed, catalogue);
    // Ranks start and wake slower than threads (a job message, a poll every 100 µs to 1 ms):
    // at 0.05 the sleeps outlast the starts even with every test's ranks on two cores.
    let small = ["--scale", "0.05", "--count", "200", "--n", "20000"];
    let args: Vec<&str> = listed.iter().map(String::as_str).chain(small).collect();
    let document = document(&args);
    let kind: BackendKind = serde_json::from_value(document["kind"].clone()).unwrap();
    let demos = document["demos"].as_array().unwrap();
    let ran: Vec<&str> = demos.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ran, listed, "every listed demo ran, in order");
    for demo in demos {
        let id: DemoId = demo["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(demo["ok"], true, "{id}: {}", demo["problem"]);
        assert_eq!(id.check_outcome(&kind, &demo["outcome"]), Ok(()), "{id}");
    }
}

#[test]
fn outcomes_are_the_ones_the_contract_fixes_for_every_backend() {
    let document = document(&[
        "custom-init",
        "cpu",
        "join",
        "--workers",
        "2",
        "--n",
        "30000",
    ]);
    let demos = document["demos"].as_array().unwrap();
    let outcome_of = |id: &str| &demos.iter().find(|d| d["id"] == id).unwrap()["outcome"];

    let values: CustomInitOutcome =
        serde_json::from_value(outcome_of("custom-init").clone()).unwrap();
    // `--workers 2` numbers two workers here too.
    assert_eq!(values.values, CustomInitOutcome::expected(2));

    // π(30000) = 3245, counted on one rank, then scattered over two and reduced.
    let cpu = outcome_of("cpu");
    assert_eq!(cpu["expected"], 3245);
    assert_eq!(cpu["passes"], serde_json::json!([[1, 3245], [2, 3245]]));

    let join = &demos.iter().find(|d| d["id"] == "join").unwrap()["events"];
    let started: Vec<&str> = join
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["worker"] == "main" && e["what"] == "started")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(started, ["t0", "t1"]);
}

#[test]
fn lock_queue_event_and_download_end_as_the_contract_fixes() {
    let document = document(&[
        "lock",
        "queue",
        "event",
        "download",
        "--count",
        "300",
        "--scale",
        "0.1",
        "--trials",
        "50",
        "--image-kib",
        "12",
    ]);
    let demos = document["demos"].as_array().unwrap();
    let outcome_of = |id: &str| &demos.iter().find(|d| d["id"] == id).unwrap()["outcome"];

    // The window under its exclusive lock keeps every update: 4 × 300, summing to 0.
    let lock = outcome_of("lock");
    let every_update = serde_json::json!({"value": 0, "updates": 1200, "lost_updates": 0});
    assert_eq!(lock["locked"], every_update);
    // Without the lock, what was not kept was lost: the two add up to every update.
    let unlocked = &lock["unlocked"];
    let (kept, lost) = (
        unlocked["updates"].as_u64(),
        unlocked["lost_updates"].as_u64(),
    );
    assert_eq!(kept.unwrap() + lost.unwrap(), 1200, "{unlocked}");
    // A plain counter: each rank counted in its own copy; rank 0's was never touched.
    let plain = &lock["plain"];
    assert_eq!(
        plain["own_counts"],
        serde_json::json!([600, 900, -1200, -300])
    );
    let untouched = serde_json::json!({"value": 0, "updates": 0, "lost_updates": 1200});
    assert_eq!(plain["parent"], untouched);
    assert_eq!(plain["shared"], false);

    // The queues on rank 0 hand out the notebook's orders, and its join returns only after
    // the fifth task_done.
    let queue = outcome_of("queue");
    assert_eq!(queue["fifo"], serde_json::json!([0, 1, 2, 3, 4]));
    assert_eq!(queue["lifo"], serde_json::json!([4, 3, 2, 1, 0]));
    assert_eq!(queue["priority"], serde_json::json!([1, 2, 3, 4]));
    let join_order: Vec<String> = serde_json::from_value(queue["join_order"].clone()).unwrap();
    assert_eq!(join_order, contract::demos::queue::expected_join_order());
    assert_eq!(queue["timed_returned"], 300);

    // The event on rank 0: no draw before the set, the seed's draws, the stop at the clear.
    let event: EventOutcome = serde_json::from_value(outcome_of("event").clone()).unwrap();
    assert_eq!(event.draws_before_set, 0);
    assert!(
        event.draws_follow_seed && event.draws_about_ten,
        "{event:?}"
    );
    assert!(
        event.thirteens_announced && event.stopped_within_one_tick,
        "{event:?}"
    );
    let event_run = demos.iter().find(|d| d["id"] == "event").unwrap();
    let wake_ups = &event_run["figures"]["measured"]["wakeup_latency_us_median"];
    assert!(
        wake_ups.as_f64().unwrap() > 0.0,
        "50 timed wake-ups: {wake_ups}"
    );

    // Master and workers: both passes saved every image whole, as the server's manifest
    // says, and left nothing else in their folders.
    let download: DownloadOutcome = serde_json::from_value(outcome_of("download").clone()).unwrap();
    let expected = download
        .expected
        .as_ref()
        .expect("the local server's manifest");
    assert_eq!(expected.len(), contract::demos::download::IMAGES);
    let truth: Vec<(String, Fetched)> = expected
        .iter()
        .map(|entry| {
            let fetched = Fetched::Saved {
                length: entry.length,
                sha256: entry.sha256.clone(),
            };
            (entry.name.clone(), fetched)
        })
        .collect();
    for pass in [&download.sequential, &download.concurrent] {
        assert!(pass.stray_files.is_empty(), "{:?}", pass.stray_files);
        let saved: Vec<(String, Fetched)> = pass
            .images
            .iter()
            .map(|image| (image.name.clone(), image.fetched.clone()))
            .collect();
        assert_eq!(saved, truth);
    }
}

#[test]
fn a_panicking_rank_is_contained_and_an_aborting_one_ends_its_whole_job() {
    let document = document(&["crash", "--scale", "0.01"]);
    let outcome = &document["demos"][0]["outcome"];
    assert_eq!(outcome["worker"], "rank");
    let rounds = outcome["rounds"].as_array().unwrap();
    let faults: Vec<&str> = rounds
        .iter()
        .map(|r| r["fault"].as_str().unwrap())
        .collect();
    assert_eq!(faults, ["panic", "abort", "kill"]);
    assert_eq!(
        rounds[0]["survivors"],
        serde_json::json!(["t1", "t3", "t4"])
    );
    assert!(rounds[0]["seen"].as_str().unwrap().contains("panicked"));
    assert_eq!(rounds[0]["program_survived"], true);
    for (round, signal) in rounds[1..].iter().zip(["SIGABRT", "SIGKILL"]) {
        assert_eq!(round["program_survived"], false, "{round}");
        let seen = round["seen"].as_str().unwrap();
        assert!(
            seen.contains("mpirun ended the whole job") && seen.contains(signal),
            "{seen}"
        );
    }
}

#[test]
fn an_injected_fault_is_reported_as_the_rank_s_panic() {
    let (code, stdout, _) = cluster(&[
        "start",
        "--scale",
        "0.01",
        "--inject",
        "kill-worker",
        "--json",
    ]);
    assert_eq!(code, 1);
    let document: Value = serde_json::from_str(&stdout).unwrap();
    let problem = document["demos"][0]["problem"].as_str().unwrap();
    assert!(
        problem.contains("t1 panicked: injected fault kill-worker"),
        "{problem}"
    );
}
