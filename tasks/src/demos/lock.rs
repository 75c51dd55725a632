//! `lock` (notebook §5) on tasks: four workers update one counter, with a lock and without.
//!
//! A task shares the parent's memory, so the counter and the lock are ordinary values in
//! it, reached through an `Arc`. The lock is `tokio::sync::Mutex`, whose `lock()` is awaited:
//! a task that finds it held gives its worker thread back to the runtime until it is free.
//!
//! Why not std's `Mutex`, as threads use? Held only between two `.await`s, it would do, and
//! it is cheaper. Held *across* an `.await`, it is the classic bug of async Rust: the task
//! is suspended with the lock held, and the runtime runs another task on the same worker
//! thread; if that task asks for the lock, `std::sync::Mutex::lock` blocks the thread, so the
//! holder can never be polled again to release it, and the thread (on a current-thread
//! runtime, the whole program) deadlocks. The compiler catches part of it (a std guard is not
//! `Send`, so `tokio::spawn` refuses such a future), not all: a local task (`spawn_local`) or
//! the future given to `block_on` compiles and hangs. An async mutex is a queue of waiting
//! tasks, not a blocked thread.
//!
//! The `plain` variant is the notebook's `global x` without the lock: four tasks and the
//! parent's plain `u64`. As with threads, what compiles is a `move` of the counter, which is
//! `Copy`, into each `async` block: each task counts in its own copy, and the parent's stays 0.
//!
//! Unlike std's, tokio's Mutex is not poisoned: a task that panics holding it drops its guard
//! as it unwinds, and the lock is free again with the counter perhaps half-updated. So the
//! lock here holds a poison flag of its own, set by a guard dropped while its task panics:
//! as with threads, every later `lock()` fails, and the other workers stop.

use crate::workers::{Workers, beside_runtime};
use contract::counter::{self, LoopResult, Tally, apply_updates, count_plain};
use contract::demos::lock::{LockOutcome, PlainCounter};
use contract::demos::lock::{DELTAS, START_LINE_LIMIT_S, worker_name};
use contract::{DemoError, DemoRun, EventSink};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, watch};

/// Where the counter lives and what guards it, for the report.
const SHARED_VIA: &str = "the process's own memory: Arc<AtomicU64> counter, \
                          tokio::sync::Mutex (a queue of waiting tasks) as the lock";

pub fn run(run: &DemoRun) -> Result<LockOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    let count = run.count();
    let locked = beside_runtime(locked(run, count))?;
    let unlocked = beside_runtime(unlocked(run, count))?;
    let plain = beside_runtime(plain(run, count))?;
    Ok(LockOutcome {
        count,
        locked,
        unlocked,
        plain,
    })
}

/// One lock around each worker's whole loop, as the notebook does.
async fn locked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    // The lock guards the counter; the counter is an atomic only so that the unlocked
    // variant can run the very same loop without undefined behaviour.
    let counter = Arc::new(AtomicU64::new(counter::ZERO));
    let lock = Arc::new(Mutex::new(Poison::default()));
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let (counter, lock) = (Arc::clone(&counter), Arc::clone(&lock));
        workers
            .start(&worker_name(index), move |out| async move {
                // Waiting for the lock is an `.await`: this worker thread runs other tasks.
                let held = lock.lock().await;
                // Poisoned: a worker panicked holding the lock, and the counter may be half-done.
                if held.poisoned {
                    out.emit("lock poisoned", Some("its holder died".into()));
                    return Err("the lock was poisoned".into());
                }
                let _held = PoisonedIfPanicking(held);
                out.emit("acquired", Some(format!("{delta:+} × {count}")));
                let nanos = apply_updates(&counter, delta, count);
                out.emit("done", None);
                LoopResult::Ok(nanos)
            })
            .await?;
    }

    let loops = workers.join_all().await?;
    // Every worker has ended: the parent reads the counter in its own memory.
    counter::report(run, "locked", counter.load(Ordering::SeqCst), &loops, count)
}

/// What the lock guards besides the counter: whether a holder died holding it.
#[derive(Debug, Default)]
struct Poison {
    poisoned: bool,
}

/// The lock held: dropped while its task panics, it poisons the lock, as std's guard does.
struct PoisonedIfPanicking<'a>(MutexGuard<'a, Poison>);

impl Drop for PoisonedIfPanicking<'_> {
    fn drop(&mut self) {
        // A task's panic unwinds inside tokio's poll of it, on the thread polling it.
        if std::thread::panicking() {
            self.0.poisoned = true;
        }
    }
}

/// The same updates without the lock: a separate load and store, so updates can be lost.
/// The workers wait at a start line until all four are started, so that their loops overlap
/// as far as the runtime's worker threads let them: a task cannot spin at the line as a
/// thread does (it would hold its worker thread, and the tasks not yet started would never
/// run), so it awaits a `watch` channel that the main flow opens.
async fn unlocked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    let counter = Arc::new(AtomicU64::new(counter::ZERO));
    let (open_line, start_line) = watch::channel(false);
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let (counter, mut start_line) = (Arc::clone(&counter), start_line.clone());
        workers
            .start(&worker_name(index), move |out| async move {
                out.emit("adding", Some(format!("{delta:+} × {count}, no lock")));
                let limit = Duration::from_secs_f64(START_LINE_LIMIT_S);
                let opened = tokio::time::timeout(limit, start_line.wait_for(|open| *open));
                if !matches!(opened.await, Ok(Ok(_))) {
                    return Err("the start line never opened".into());
                }
                let nanos = apply_updates(&counter, delta, count);
                out.emit("done", None);
                LoopResult::Ok(nanos)
            })
            .await?;
    }
    run.main_says("go", Some("all four loops at once".into()));
    open_line.send_replace(true);

    let loops = workers.join_all().await?;
    counter::report(
        run,
        "unlocked",
        counter.load(Ordering::SeqCst),
        &loops,
        count,
    )
}

/// A plain counter of the parent's, no atomic and no lock: what Rust lets four tasks do with
/// it. Each `async move` block takes a copy (the counter is `Copy`), so each task counts in
/// its own copy and hands it back; the parent's counter is never touched.
async fn plain(run: &DemoRun, count: u64) -> Result<PlainCounter, DemoError> {
    let counter: u64 = counter::ZERO;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        workers
            .start(&worker_name(index), move |out| async move {
                out.emit("adding", Some(format!("{delta:+} × {count}, plain counter")));
                // `counter` here is this task's own copy of the parent's.
                let mut counter = counter;
                count_plain(&mut counter, delta, count);
                out.emit("done", None);
                counter
            })
            .await?;
    }

    let own = workers.join_all().await?;
    // Every task has ended: the parent reads its own counter, which no task could reach.
    Ok(counter::report_plain(run, false, counter, &own, count))
}
