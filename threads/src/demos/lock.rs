//! `lock` (notebook §5) on threads: four workers update one counter, with a lock and without.
//!
//! A thread shares the parent's memory, so the counter and the lock are ordinary values in
//! it, reached through an `Arc`. The lock is std's `Mutex`; a thread that panics holding it
//! poisons it, and every later `lock()` fails instead of blocking forever.
//!
//! The `plain` variant is the notebook's `global x` without the lock, as a newcomer would
//! write it: four threads updating the parent's plain `u64`. Rust refuses that at compile
//! time (two threads cannot hold `&mut counter` at once: see the doctests in `src/lib.rs`).
//! What compiles is a `move` of the counter, which is `Copy`, into each closure: each thread
//! then counts in its own copy, and the parent's stays 0, as a worker process's would.

use crate::workers::Workers;
use contract::counter::{self, LoopResult, Tally, apply_updates, count_plain, wait_at_start_line};
use contract::demos::lock::{LockOutcome, PlainCounter};
use contract::demos::lock::{DELTAS, START_LINE_LIMIT_S, worker_name};
use contract::{DemoError, DemoRun};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the counter lives and what guards it, for the report.
const SHARED_VIA: &str = "the process's own memory: Arc<AtomicU64> counter, std::sync::Mutex \
                          (private futex) as the lock";

pub fn run(run: &DemoRun) -> Result<LockOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    let count = run.count();
    let locked = locked(run, count)?;
    let unlocked = unlocked(run, count)?;
    let plain = plain(run, count)?;
    Ok(LockOutcome {
        count,
        locked,
        unlocked,
        plain,
    })
}

/// One lock around each worker's whole loop, as the notebook does.
fn locked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    // The lock guards the counter; the counter is an atomic only so that the unlocked
    // variant can run the very same loop without undefined behaviour.
    let counter = Arc::new(AtomicU64::new(counter::ZERO));
    let lock = Arc::new(Mutex::new(()));
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let (counter, lock) = (Arc::clone(&counter), Arc::clone(&lock));
        workers.start(&worker_name(index), move |out| -> LoopResult {
            // Poisoned: a worker panicked holding the lock, and the counter may be half-done.
            let Ok(_held) = lock.lock() else {
                out.emit("lock poisoned", Some("its holder died".into()));
                return Err("the lock was poisoned".into());
            };
            out.emit("acquired", Some(format!("{delta:+} × {count}")));
            let nanos = apply_updates(&counter, delta, count);
            out.emit("done", None);
            Ok(nanos)
        })?;
    }

    let loops = workers.join_all()?;
    // Every worker has ended: the parent reads the counter in its own memory.
    counter::report(run, "locked", counter.load(Ordering::SeqCst), &loops, count)
}

/// The same updates without the lock: a separate load and store, so updates can be lost.
/// The workers wait at a start line until all four are started, so that their loops overlap
/// (a loop is shorter than a spawn: without it each would be nearly done before the next began).
fn unlocked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    let counter = Arc::new(AtomicU64::new(counter::ZERO));
    let start_line = Arc::new(AtomicBool::new(false));
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let (counter, start_line) = (Arc::clone(&counter), Arc::clone(&start_line));
        workers.start(&worker_name(index), move |out| -> LoopResult {
            out.emit("adding", Some(format!("{delta:+} × {count}, no lock")));
            if !wait_at_start_line(&start_line, Duration::from_secs_f64(START_LINE_LIMIT_S)) {
                return Err("the start line never opened".into());
            }
            let nanos = apply_updates(&counter, delta, count);
            out.emit("done", None);
            Ok(nanos)
        })?;
    }
    run.main_says("go", Some("all four loops at once".into()));
    start_line.store(true, Ordering::Release);

    let loops = workers.join_all()?;
    counter::report(
        run,
        "unlocked",
        counter.load(Ordering::SeqCst),
        &loops,
        count,
    )
}

/// A plain counter of the parent's, no atomic and no lock: what Rust lets four threads do with
/// it. Each closure takes the counter by `move`, a copy (it is `Copy`), so each thread counts
/// in its own copy and hands it back; the parent's counter is never touched.
fn plain(run: &DemoRun, count: u64) -> Result<PlainCounter, DemoError> {
    let mut counter: u64 = counter::ZERO;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        workers.start(&worker_name(index), move |out| {
            out.emit("adding", Some(format!("{delta:+} × {count}, plain counter")));
            // `counter` here is this closure's own copy of the parent's.
            count_plain(&mut counter, delta, count);
            out.emit("done", None);
            counter
        })?;
    }

    let own = workers.join_all()?;
    // Every thread has ended: the parent reads its own counter, which no thread could reach.
    Ok(counter::report_plain(run, false, counter, &own, count))
}
