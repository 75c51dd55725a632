//! The `processes` binary's worker bookkeeping, run as a user would: what both backends
//! share, then what only worker processes have (IPC, the spawn and forkserver start
//! methods).

const BACKEND: &str = "processes";

include!("../../tests/backend_workers.rs");

#[test]
fn each_message_is_counted_with_its_encoded_size() {
    let report = report(&["--scale", "0.01", "custom-init"], 0);
    // Each of the 10 workers sends 3 events, then its result.
    assert_eq!(report.figures.ipc_messages, Some(40));
    // postcard: the message's variant (1 byte here), then an event's time (8 bytes), its
    // worker and what (each its length, 1 byte here, then its bytes) and its detail (0, or
    // 1 and the string); a result (number, value), sent alone on a channel of its own, is
    // two one-byte varints.
    let events: usize = (report.events.iter())
        .filter(|e| e.worker != "main")
        .map(|e| {
            let detail = e.detail.as_ref().map_or(1, |d| 2 + d.len());
            1 + 8 + 1 + e.worker.len() + 1 + e.what.len() + detail
        })
        .sum();
    assert_eq!(report.figures.ipc_bytes, Some((events + 10 * 2) as u64));
    assert_eq!(
        report.figures.notes["start_method"],
        "fork (a copy of the parent)"
    );
}

#[test]
fn a_spawned_worker_receives_its_job_and_returns_its_result() {
    let report = report(&["--scale", "0.01", "--start", "spawn", "custom-init"], 0);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.figures.workers_created, 10);
    assert_eq!(
        report.figures.notes["start_method"],
        "spawn (fork + exec; the job comes over a one-shot server)"
    );
}

#[test]
fn a_forkserved_worker_receives_its_job_and_returns_its_result() {
    let report = report(
        &["--scale", "0.01", "--start", "forkserver", "custom-init"],
        0,
    );
    assert!(report.ok, "{report:?}");
    assert_eq!(report.figures.workers_created, 10);
    assert_eq!(report.figures.ipc_messages, Some(40));
    assert_eq!(
        report.figures.notes["start_method"],
        "forkserver (forked by a server started with the program; the job comes as data)"
    );
}
