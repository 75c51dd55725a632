//! The demos beyond the notebook (cpu, crash, spawn, channel) on each backend: outcomes as
//! the contract says, and every figure recorded (their values from known samples: the unit
//! tests of `contract::bench` and of each demo's figures).

use cross_backend::{BACKENDS, allowed_cpus, measured, on_one_core, one_demo};
use serde_json::json;

#[test]
fn cpu_counts_the_primes_exactly_with_every_worker_count() {
    for backend in BACKENDS {
        let report = one_demo(backend, &["cpu", "--n", "100000", "--workers", "3"]);
        assert_eq!(report.outcome["expected"], 9592, "{backend}");
        assert_eq!(
            report.outcome["passes"],
            json!([[1, 9592], [2, 9592], [3, 9592]]),
            "{backend}"
        );
        assert_eq!(
            report.figures.workers_created, 6,
            "{backend}: 1 + 2 + 3 workers"
        );
        // Each pass's time and speedup are recorded (`CpuOutcome::record_pass`'s unit test
        // gives it known times); one worker against itself is a speedup of exactly 1.
        for workers in 1..=3 {
            assert!(measured(&report, &format!("wall_s_{workers}_workers")) > 0.0);
            measured(&report, &format!("speedup_{workers}_workers"));
        }
        assert_eq!(measured(&report, "speedup_1_workers"), 1.0, "{backend}");
    }
}

#[test]
fn crash_survivors_are_exactly_as_each_backend_allows() {
    for backend in BACKENDS {
        let report = one_demo(backend, &["crash", "--scale", "0.01"]);
        let (worker, isolated) = match backend {
            "threads" => ("thread", false),
            "tasks" => ("task", false),
            _ => ("process", true),
        };
        assert_eq!(report.outcome["worker"], worker, "{backend}");
        assert_eq!(report.outcome["isolated"], isolated, "{backend}");
        let rounds = report.outcome["rounds"].as_array().unwrap();
        let faults: Vec<&str> = rounds
            .iter()
            .map(|r| r["fault"].as_str().unwrap())
            .collect();
        assert_eq!(
            faults,
            ["panic", "abort", "kill"],
            "{backend}: each fault in turn"
        );
        for round in rounds {
            let fault = round["fault"].as_str().unwrap();
            let seen = round["seen"].as_str().unwrap();
            assert_eq!(round["doomed"], "t2");
            let whole_process_dies = !isolated && fault != "panic";
            let expected_survivors = if whole_process_dies {
                json!([])
            } else {
                json!(["t1", "t3", "t4"])
            };
            assert_eq!(round["survivors"], expected_survivors, "{backend} {fault}");
            assert_eq!(
                round["program_survived"], !whole_process_dies,
                "{backend} {fault}"
            );
            let expected_seen = match (backend, fault) {
                ("threads" | "tasks", "panic") => "panicked",
                ("processes", "panic") => "exited with code 101",
                (_, "abort") => "SIGABRT",
                _ => "SIGKILL",
            };
            assert!(seen.contains(expected_seen), "{backend} {fault}: {seen}");
        }
    }
    let one_fault = one_demo(
        "processes",
        &["crash", "--scale", "0.01", "--fault", "kill"],
    );
    assert_eq!(one_fault.outcome["rounds"].as_array().unwrap().len(), 1);
}

#[test]
fn spawn_reports_positive_consistent_costs() {
    for backend in BACKENDS {
        let report = one_demo(backend, &["spawn", "--count", "20"]);
        assert_eq!(
            report.outcome,
            json!({"started": 20, "joined": 20}),
            "{backend}"
        );
        // The figures and their ratio are recorded (`record_spawn_costs`'s unit test gives
        // it known samples).
        let workers = measured(&report, "worker_start_join_us");
        let raw = measured(&report, "raw_os_us");
        assert!(workers > 0.0 && raw > 0.0, "{backend}");
        measured(&report, "worker_over_raw");
        for mib in [0, 64, 256] {
            assert!(
                measured(&report, &format!("raw_os_us_touched_{mib}_mib")) > 0.0,
                "{backend}"
            );
        }
        assert!(report.figures.workers_created >= 20, "{backend}");
        // The same on one core, where no wake-up waits for another core.
        for figure in ["worker_start_join_one_core_us", "raw_os_one_core_us"] {
            assert!(measured(&report, figure) > 0.0, "{backend} {figure}");
        }
    }
}

#[test]
fn spawn_measures_every_start_method_in_the_same_run() {
    for method in ["fork", "spawn", "forkserver"] {
        let report = one_demo("processes", &["spawn", "--count", "20", "--start", method]);
        assert_eq!(
            report.outcome,
            json!({"started": 20, "joined": 20}),
            "{method}"
        );
        // The main figures are those of the method asked for.
        assert_eq!(
            measured(&report, "worker_start_join_us"),
            measured(&report, &format!("{method}_worker_start_join_us")),
            "{method}"
        );
        assert_eq!(
            measured(&report, "raw_os_us"),
            measured(&report, &format!("{method}_raw_os_us")),
            "{method}"
        );
        for other in ["fork", "spawn", "forkserver"] {
            let [workers, raw, ratio] = ["worker_start_join_us", "raw_os_us", "worker_over_raw"]
                .map(|figure| measured(&report, &format!("{other}_{figure}")));
            assert!(workers > 0.0 && raw > 0.0, "{method}: {other}");
            // The ratio is of the medians (the figures went through JSON: equal within rounding).
            assert!(
                (ratio - workers / raw).abs() < 1e-9 * ratio,
                "{method}: {other}"
            );
        }
        measured(&report, "spawn_over_fork");
        measured(&report, "forkserver_over_fork");
        // An exec loads a whole program: in the same run it costs more than a fork of
        // this small parent, by any measure.
        assert!(
            measured(&report, "spawn_raw_os_us") > measured(&report, "fork_raw_os_us"),
            "{method}"
        );
        // On one core the parent and the workers it forks or spawns share it; a forkserver
        // forks on its own CPUs, so its one-core figure is not made up but said missing.
        let one_core = report.figures.measured.get("worker_start_join_one_core_us");
        if method == "forkserver" {
            assert_eq!(one_core, None);
            assert!(report.figures.notes["worker_start_join_one_core_us"].contains("server"));
        } else {
            assert!(one_core.is_some_and(|us| *us > 0.0), "{method}");
        }
        let started_by = &report.figures.notes["start_method"];
        assert!(started_by.starts_with(method), "{method}: {started_by}");
        // 20 workers by the method asked for, and at least 5 by each other one.
        assert!(report.figures.workers_created >= 30, "{method}");
    }
}

#[test]
fn channel_delivers_every_message_intact_and_reports_consistent_rates() {
    // Each backend's baselines, named for what they are: the plainest hand-off between two
    // threads; between two processes, the socket ipc-channel sends over and a slot in shared
    // memory; and a stream socketpair in both. Then those the channel's ratios are taken to.
    let baselines: [(&str, &[&str], &[&str]); 2] = [
        (
            "threads",
            &["mutex_condvar_slot", "stream_socketpair"],
            &["mutex_condvar_slot"],
        ),
        (
            "processes",
            &[
                "seqpacket_socketpair",
                "stream_socketpair",
                "shared_memory_slot",
            ],
            &["seqpacket_socketpair", "shared_memory_slot"],
        ),
    ];
    for (backend, baselines, compared) in baselines {
        let report = one_demo(backend, &["channel", "--count", "2000"]);
        let paths = report.outcome["paths"].as_array().unwrap();
        // Only the channel is in the outcome, which both backends share.
        assert_eq!(
            report.outcome["paths"],
            json!([
                ["channel 8b", 2000, 2000],
                ["channel 8b round trips", 200, 200],
                ["channel 64kib", 100, 100],
                ["channel 64kib round trips", 10, 10],
            ]),
            "{backend}"
        );
        assert_eq!(paths.len(), 4);
        for path in ["channel"].iter().chain(baselines) {
            for size in ["8b", "64kib"] {
                // The rates are recorded (`record_figures`'s unit test gives it known times).
                let path = format!("{path}_{size}");
                let per_second = measured(&report, &format!("{path}_msgs_per_s"));
                assert!(
                    per_second > 0.0 && measured(&report, &format!("{path}_round_trip_us")) > 0.0,
                    "{backend} {path}"
                );
                measured(&report, &format!("{path}_mb_per_s"));
            }
        }
        for baseline in compared {
            for size in ["8b", "64kib"] {
                let ratio = format!("round_trip_channel_over_{baseline}_{size}");
                assert!(measured(&report, &ratio) > 0.0, "{backend} {ratio}");
                let ratio = format!("throughput_{baseline}_over_channel_{size}");
                assert!(measured(&report, &ratio) > 0.0, "{backend} {ratio}");
            }
        }
        // No figure is called raw: it would mean a different thing in each backend.
        let measured_names = report.figures.measured.keys();
        assert!(
            measured_names.clone().all(|name| !name.contains("raw")),
            "{backend}: {:?}",
            measured_names.collect::<Vec<_>>()
        );
    }
}

#[test]
fn round_trips_are_timed_again_with_the_ends_on_one_core_and_on_two() {
    let cpus = allowed_cpus();
    for backend in BACKENDS {
        let report = one_demo(backend, &["channel", "--count", "2000"]);
        for size in ["8b", "64kib"] {
            let placed = |place: &str, figure: &str| {
                let name = format!("channel_{size}_{place}_{figure}");
                report.figures.measured.get(&name).copied()
            };
            for figure in ["round_trip_us", "msgs_per_s", "mb_per_s"] {
                assert!(
                    placed("one_core", figure).is_some_and(|v| v > 0.0),
                    "{backend} {size} {figure}"
                );
                // Two cores only where this thread may use two.
                assert_eq!(
                    placed("two_cores", figure).is_some(),
                    cpus >= 2,
                    "{backend} {size} {figure} with {cpus} CPUs"
                );
            }
        }
    }
}

#[test]
fn on_one_core_nothing_is_timed_on_two() {
    // This test's thread, and so the backends it starts, may use one core only.
    on_one_core();
    for backend in BACKENDS {
        let report = one_demo(backend, &["channel", "--count", "200"]);
        assert!(measured(&report, "channel_8b_one_core_round_trip_us") > 0.0);
        let names: Vec<&String> = report.figures.measured.keys().collect();
        assert!(
            names.iter().all(|name| !name.contains("two_cores")),
            "{backend}: {names:?}"
        );
    }
}
