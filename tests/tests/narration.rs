//! The narration names the mechanism: how each worker was made and how it ended, who was
//! killed and reaped on a death, what a fatal fault in a thread takes with it; a worker's
//! panic is one line of the parent's, never Rust's raw message; and the naive mistakes
//! (`lock`'s plain counter, `queue`'s join) end as the contract says, on each backend.

use contract::demos::lock::PlainCounter;
use contract::demos::queue::{HELPER, TASKER, TASKS};
use cross_backend::{BACKENDS, one_demo, run, run_json};
use serde_json::json;

/// The lines of the narration that start with `prefix` (after the time column).
fn lines_with<'a>(stdout: &'a str, prefix: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter_map(|line| line.split_once(" s  ").map(|(_, said)| said))
        .filter(|said| said.starts_with(prefix))
        .collect()
}

/// A pid or tid as the narration prints it: `(pid 4711)`, `(tid 4712)`, `pid 4711:`.
fn names_a_number(line: &str, word: &str) -> bool {
    line.split(&format!("{word} "))
        .skip(1)
        .any(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_digit()))
}

/// Rust's own panic message: `thread 'main' (123) panicked at …`.
fn assert_no_raw_panic(stderr: &str, context: &str) {
    assert!(
        !stderr.contains("panicked at") && !stderr.contains("stack backtrace"),
        "{context}: Rust's raw panic message on stderr:\n{stderr}"
    );
}

#[test]
fn a_killed_process_is_reaped_with_its_signal_and_its_siblings_killed_and_reaped() {
    let args = ["--scale", "0.05", "--inject", "kill-worker", "join"];
    let finished = run("processes", &args);
    assert_eq!(finished.code(), 1, "{finished:?}");
    let reaped = lines_with(&finished.stdout, "main reaped process t0 (pid ");
    assert_eq!(reaped.len(), 1, "{}", finished.stdout);
    assert!(
        reaped[0].contains("it was killed by signal SIGKILL"),
        "{}",
        reaped[0]
    );
    let killed = lines_with(&finished.stdout, "main killed process ");
    assert_eq!(killed.len(), 1, "{}", finished.stdout);
    for sibling in ["t1", "t2", "t3", "t4"] {
        assert!(
            killed[0].contains(&format!("{sibling} (pid ")),
            "{}",
            killed[0]
        );
    }
    assert!(killed[0].contains("SIGKILL, then reaped"), "{}", killed[0]);
    // Each worker was made with its pid and start method.
    let made = lines_with(&finished.stdout, "main made process ");
    assert_eq!(made.len(), 5, "{}", finished.stdout);
    assert!(
        made.iter()
            .all(|line| names_a_number(line, "pid") && line.contains("by fork"))
    );
}

#[test]
fn a_thread_cannot_be_killed_and_the_run_says_what_it_did_instead() {
    let args = ["--scale", "0.05", "--inject", "kill-worker", "join"];
    let finished = run("threads", &args);
    assert_eq!(finished.code(), 1, "{finished:?}");
    let joined = lines_with(&finished.stdout, "main joined thread t0 (tid ");
    assert_eq!(joined.len(), 1, "{}", finished.stdout);
    assert!(
        joined[0].contains("it panicked at ")
            && joined[0].contains("a thread cannot be killed alone, so it panics"),
        "{}",
        joined[0]
    );
    let left = lines_with(&finished.stdout, "main left thread ");
    assert_eq!(
        left,
        [
            "main left thread t1 t2 t3 t4: a thread cannot be killed from outside, so they run on \
          until they end by themselves or this program exits"
        ]
    );
    assert_no_raw_panic(&finished.stderr, "threads --inject kill-worker");

    let document = run_json("threads", &args, 1);
    let notes = &document.demos[0].figures.notes;
    assert!(
        notes["injected_fault"].starts_with("kill-worker: a thread cannot be killed from outside"),
        "{notes:?}"
    );
    assert_eq!(notes["left_running"], "t1 t2 t3 t4");
}

#[test]
fn a_fatal_fault_in_a_thread_is_said_to_take_the_whole_program() {
    for (fault, signal) in [("abort", "SIGABRT"), ("kill", "SIGKILL")] {
        let finished = run("threads", &["--scale", "0.05", "--fault", fault, "crash"]);
        assert_eq!(finished.code(), 0, "{finished:?}");
        let survivors = lines_with(&finished.stdout, "main survivors");
        assert_eq!(
            survivors,
            [format!(
                "main survivors none: the whole program died of {signal}: every thread with it"
            )],
            "{}",
            finished.stdout
        );
        let copy = lines_with(&finished.stdout, "main reaped copy pid ");
        assert_eq!(copy.len(), 1, "{}", finished.stdout);
        assert!(
            copy[0].contains(&format!("killed by signal {signal}")),
            "{}",
            copy[0]
        );
        assert_eq!(lines_with(&finished.stdout, "main made copy pid ").len(), 1);
    }
}

#[test]
fn a_worker_s_panic_is_one_line_of_the_parent_s_and_never_rust_s_raw_message() {
    let args = ["--scale", "0.05", "--fault", "panic", "crash"];
    let processes = run("processes", &args);
    assert_eq!(processes.code(), 0, "{processes:?}");
    let reaped = lines_with(&processes.stdout, "main reaped process t2 (pid ");
    assert_eq!(reaped.len(), 1, "{}", processes.stdout);
    assert!(
        reaped[0].contains("it panicked at shared/contract/src/demos/crash.rs:")
            && reaped[0].contains(": the doomed worker panics, and exited with code 101"),
        "{}",
        reaped[0]
    );
    assert_no_raw_panic(&processes.stderr, "processes crash --fault panic");
    let threads = run("threads", &args);
    assert_eq!(threads.code(), 0, "{threads:?}");
    let joined = lines_with(&threads.stdout, "main joined thread t2 (tid ");
    assert_eq!(joined.len(), 1, "{}", threads.stdout);
    assert!(joined[0].contains("the doomed worker panics; join caught the panic"));
    assert_no_raw_panic(&threads.stderr, "threads crash --fault panic");
    for backend in BACKENDS {
        let injected = run(
            backend,
            &["--scale", "0.05", "--inject", "panic-worker", "start"],
        );
        assert_eq!(injected.code(), 1, "{injected:?}");
        assert_no_raw_panic(&injected.stderr, backend);
    }
}

#[test]
fn a_task_is_made_by_tokio_spawn_and_its_end_comes_through_its_join_handle() {
    let finished = run("tasks", &["--scale", "0.05", "join"]);
    assert_eq!(finished.code(), 0, "{finished:?}");
    let made = lines_with(&finished.stdout, "main made task ");
    assert_eq!(made.len(), 5, "{}", finished.stdout);
    for (index, line) in made.iter().enumerate() {
        assert!(
            line.starts_with(&format!(
                "main made task t{index}: a task on this process's runtime (multi-thread, "
            )) && line.ends_with(
                "by tokio::spawn; its future is on the heap, no stack of its own, and it \
                     shares this memory"
            ),
            "{line}"
        );
    }
    let mut joined = lines_with(&finished.stdout, "main joined task ");
    joined.sort();
    let returned: Vec<String> = (0..5)
        .map(|index| {
            format!(
                "main joined task t{index}: it returned; its result came back through its \
                 JoinHandle, in this memory, no copy made"
            )
        })
        .collect();
    assert_eq!(joined, returned, "{}", finished.stdout);

    let crashed = run("tasks", &["--scale", "0.05", "--fault", "panic", "crash"]);
    assert_eq!(crashed.code(), 0, "{crashed:?}");
    assert_eq!(
        lines_with(&crashed.stdout, "main joined task t2"),
        [
            "main joined task t2: it panicked: the doomed worker panics; caught at its \
             JoinHandle, no other task is touched"
        ],
        "{}",
        crashed.stdout
    );
    assert_no_raw_panic(&crashed.stderr, "tasks crash --fault panic");
    // The lines are the mechanism's: kept in the JSON, never compared between backends.
    let document = run_json("tasks", &["--scale", "0.05", "start"], 0);
    let made: Vec<_> = (document.demos[0].events.iter())
        .filter(|e| e.what == "made task" || e.what == "joined task")
        .collect();
    assert_eq!(made.len(), 2, "{:?}", document.demos[0].events);
    assert!(made.iter().all(|e| e.is_mechanism()));
}

#[test]
fn threads_help_shows_no_start_method() {
    let threads = run("threads", &["--help"]);
    assert_eq!(threads.code(), 0);
    assert!(
        threads.stdout.contains("Usage: threads"),
        "{}",
        threads.stdout
    );
    assert!(!threads.stdout.contains("--start"), "{}", threads.stdout);
    let processes = run("processes", &["--help"]);
    assert!(
        processes.stdout.contains("--start <METHOD>"),
        "{}",
        processes.stdout
    );
}

#[test]
fn a_plain_counter_stays_zero_in_the_parent_while_each_worker_counts_its_own_copy() {
    for backend in BACKENDS {
        for start in ["fork", "spawn"] {
            let mut args = vec!["--count", "1000", "lock"];
            if backend == "processes" {
                args.extend(["--start", start]);
            } else if start == "spawn" {
                continue;
            }
            let document = run_json(backend, &args, 0);
            let report = &document.demos[0];
            // Each backend's own kind: a thread, a process, a task counts in its own copy.
            let worker = document.kind.worker.id();
            assert_eq!(
                report.outcome["plain"],
                json!({
                    "worker": worker,
                    "shared": false,
                    "parent": {"value": 0, "updates": 0, "lost_updates": 4000},
                    "own_counts": PlainCounter::expected_own_counts(1000),
                }),
                "{backend} {args:?}"
            );
            assert_eq!(
                PlainCounter::expected_own_counts(1000),
                [2000, 3000, -4000, -1000]
            );
            let said = report
                .events
                .iter()
                .find(|e| e.worker == "main" && e.what == "plain total")
                .and_then(|e| e.detail.clone())
                .unwrap();
            assert!(
                said.starts_with("0 after 0 updates: the parent's counter was never touched")
                    && said.ends_with("(t1 +2000, t2 +3000, t3 -4000, t4 -1000)"),
                "{backend}: {said}"
            );
        }
    }
}

#[test]
fn join_returns_only_after_every_task_done() {
    let runs: [(&str, &[&str]); 4] = [
        ("threads", &[]),
        ("processes", &["--queue", "owner"]),
        ("processes", &["--queue", "shared-memory"]),
        ("processes", &["--start", "spawn"]),
    ];
    for (backend, options) in runs {
        let mut args = vec!["--count", "100"];
        args.extend(options);
        args.push("queue");
        let report = one_demo(backend, &args);
        let at = |worker: &str, what: &str| -> Vec<f64> {
            report
                .events
                .iter()
                .filter(|e| e.worker == worker && e.what == what)
                .map(|e| e.t_s)
                .collect()
        };
        let done = at(HELPER, "task_done");
        let joined = at(TASKER, "joined");
        let joining = at(TASKER, "joining");
        assert_eq!(
            (done.len(), joined.len()),
            (TASKS as usize, 1),
            "{backend} {args:?}"
        );
        let last_done = done.iter().copied().fold(f64::MIN, f64::max);
        assert!(joining[0] < joined[0], "{backend} {args:?}");
        assert!(
            last_done < joined[0],
            "{backend} {args:?}: join returned before a task_done"
        );
        assert_eq!(
            report.outcome["join_order"],
            json!(contract::demos::queue::expected_join_order()),
            "{backend} {args:?}"
        );
    }
}
