//! `lock` (notebook §5) on processes: four workers update one counter, with a lock and without.
//!
//! A forked child's memory is a private copy, so a counter in ordinary memory would be
//! updated four times over, each child its own, and the parent's would stay 0. The counter
//! and the lock live in a `MAP_SHARED` mapping made before the fork, and the lock is a
//! process-shared, robust pthread mutex (std's `Mutex` uses a private futex, which does not
//! work across processes). A child that dies holding it makes the next `lock()` fail
//! (`EOWNERDEAD`) instead of blocking forever.

use crate::shared_memory::{ProcessShared, SharedMapping};
use crate::sync::ProcessMutex;
use crate::workers::Workers;
use shared::catalogue::lock::{DELTAS, START_LINE_LIMIT_S, worker_name};
use shared::counter::{self, LoopResult, Tally, apply_updates, wait_at_start_line};
use shared::outcome::LockOutcome;
use shared::{DemoError, DemoRun};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Where the counter lives and what guards it, for the report.
const SHARED_VIA: &str = "a MAP_SHARED|MAP_ANONYMOUS mapping made before fork: AtomicU64 \
                          counter, pthread_mutex_t with PTHREAD_PROCESS_SHARED + \
                          PTHREAD_MUTEX_ROBUST as the lock";

/// The locked variant's mapping: the lock and the counter it guards, side by side.
#[derive(Default)]
struct LockedCounter {
    lock: ProcessMutex,
    counter: AtomicU64,
}

// SAFETY: a process-shared pthread mutex and an atomic: no pointers, no destructor.
unsafe impl ProcessShared for LockedCounter {
    fn init_in_place(&self) -> Result<(), DemoError> {
        self.lock.init_in_place()
    }
}

/// The unlocked variant's mapping: the start line and the counter.
#[derive(Default)]
struct StartLineAndCounter {
    start_line: AtomicBool,
    counter: AtomicU64,
}

// SAFETY: two atomics: no pointers, no destructor.
unsafe impl ProcessShared for StartLineAndCounter {}

pub fn run(run: &DemoRun) -> Result<LockOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    let count = run.count();
    let locked = locked(run, count)?;
    let unlocked = unlocked(run, count)?;
    Ok(LockOutcome {
        count,
        locked,
        unlocked,
    })
}

/// One lock around each worker's whole loop, as the notebook does.
fn locked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    // Mapped before the fork: every child sees the same page, and so does the parent.
    let shared = SharedMapping::new(LockedCounter::default())?;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let shared = &*shared;
        workers.start(&worker_name(index), move |out| -> LoopResult {
            // EOWNERDEAD: a worker died holding the lock, and the counter may be half-done.
            let Ok(_held) = shared.lock.lock() else {
                out.emit("lock poisoned", Some("its holder died".into()));
                return Err("the lock was poisoned".into());
            };
            out.emit("acquired", Some(format!("{delta:+} × {count}")));
            let nanos = apply_updates(&shared.counter, delta, count);
            out.emit("done", None);
            Ok(nanos)
        })?;
    }

    let loops = workers.join_all()?;
    // Every child has ended: the parent reads the counter through its view of the mapping.
    counter::report(
        run,
        "locked",
        shared.counter.load(Ordering::SeqCst),
        &loops,
        count,
    )
}

/// The same updates without the lock: a separate load and store, so updates can be lost.
/// The workers wait at a start line until all four are forked, so that their loops overlap
/// (a loop is shorter than a fork: without it each would be nearly done before the next began).
fn unlocked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    let shared = SharedMapping::new(StartLineAndCounter::default())?;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let shared = &*shared;
        workers.start(&worker_name(index), move |out| -> LoopResult {
            out.emit("adding", Some(format!("{delta:+} × {count}, no lock")));
            let limit = Duration::from_secs_f64(START_LINE_LIMIT_S);
            if !wait_at_start_line(&shared.start_line, limit) {
                return Err("the start line never opened".into());
            }
            let nanos = apply_updates(&shared.counter, delta, count);
            out.emit("done", None);
            Ok(nanos)
        })?;
    }
    run.main_says("go", Some("all four loops at once".into()));
    shared.start_line.store(true, Ordering::Release);

    let loops = workers.join_all()?;
    counter::report(
        run,
        "unlocked",
        shared.counter.load(Ordering::SeqCst),
        &loops,
        count,
    )
}
