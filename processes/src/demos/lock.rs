//! `lock` (notebook §5) on processes: four workers update one counter, with a lock and without.
//!
//! A worker process's memory is its own, so a counter in ordinary memory would be updated
//! four times over, each child its own, and the parent's would stay 0. The counter and the
//! lock live in a shared memory file that the parent maps and each worker maps again (see
//! `shared_memory.rs`), and the lock is a
//! process-shared, robust pthread mutex (std's `Mutex` uses a private futex, which does not
//! work across processes). A child that dies holding it makes the next `lock()` fail
//! (`EOWNERDEAD`) instead of blocking forever.
//!
//! The `plain` variant shows the counter in ordinary memory, the newcomer's mistake with
//! `multiprocessing`: the parent's plain `u64` goes to each child in its job (a forked child
//! would have a copy of it anyway, a spawned one gets the value), so each child counts in its
//! own copy and sends it back, and the parent's counter stays 0.

use crate::shared_memory::{ProcessShared, Shared, SharedMapping};
use crate::sync::ProcessMutex;
use crate::workers::{Job, Workers};
use contract::counter::{self, LoopResult, Tally, apply_updates, count_plain, wait_at_start_line};
use contract::demos::lock::{LockOutcome, PlainCounter};
use contract::demos::lock::{DELTAS, START_LINE_LIMIT_S, worker_name};
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

crate::spawned::jobs!(Locked, Unlocked, Plain);

/// Where the counter lives and what guards it, for the report.
const SHARED_VIA: &str = "an IpcSharedMemory (a memfd mapped MAP_SHARED) in the parent and \
                          each worker: AtomicU64 counter, pthread_mutex_t with PTHREAD_PROCESS_SHARED + \
                          PTHREAD_MUTEX_ROBUST as the lock";

/// The locked variant's mapping: the lock and the counter it guards, side by side.
#[derive(Default)]
pub struct LockedCounter {
    lock: ProcessMutex,
    counter: AtomicU64,
}

// SAFETY: a process-shared pthread mutex and an atomic: no pointers, no destructor.
unsafe impl ProcessShared for LockedCounter {
    unsafe fn init_in_place(&self) -> Result<(), DemoError> {
        // SAFETY: the lock is part of this value, initialised once with it (our caller's
        // promise).
        unsafe { self.lock.init_in_place() }
    }
}

/// The unlocked variant's mapping: the start line and the counter.
#[derive(Default)]
pub struct StartLineAndCounter {
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
    // Made before the workers start: each maps the same memory file, as does the parent.
    let shared = SharedMapping::new(LockedCounter::default())?;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let job = Locked {
            shared: shared.handle(),
            delta,
            count,
        };
        workers.start(&worker_name(index), job)?;
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
/// The workers wait at a start line until all four have started, so that their loops overlap
/// (a loop is shorter than a start: without it each would be nearly done before the next began).
fn unlocked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    let shared = SharedMapping::new(StartLineAndCounter::default())?;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        let job = Unlocked {
            shared: shared.handle(),
            delta,
            count,
        };
        workers.start(&worker_name(index), job)?;
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

/// A plain counter of the parent's, no shared memory and no lock: each child gets it in its
/// job, counts in its own copy and sends it back; the parent's counter is never touched.
fn plain(run: &DemoRun, count: u64) -> Result<PlainCounter, DemoError> {
    let counter: u64 = counter::ZERO;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        // The job holds a copy of the parent's counter, as the child's memory would.
        let job = Plain {
            counter,
            delta,
            count,
        };
        workers.start(&worker_name(index), job)?;
    }

    let own = workers.join_all()?;
    // Every child has ended: the parent reads its own counter, which no child could reach.
    Ok(counter::report_plain(run, false, counter, &own, count))
}

/// One worker's loop under the lock, held for the whole loop as the notebook does.
#[derive(Serialize, Deserialize)]
pub struct Locked {
    shared: Shared<LockedCounter>,
    delta: i32,
    count: u64,
}

impl Job for Locked {
    type Output = LoopResult;

    fn run(self, out: &dyn EventSink) -> LoopResult {
        // SAFETY: the parent made this handle with `SharedMapping::handle` for this job.
        let shared = unsafe { self.shared.map() }?;
        // EOWNERDEAD: a worker died holding the lock, and the counter may be half-done.
        let Ok(_held) = shared.lock.lock() else {
            out.emit("lock poisoned", Some("its holder died".into()));
            return Err("the lock was poisoned".into());
        };
        out.emit(
            "acquired",
            Some(format!("{:+} × {}", self.delta, self.count)),
        );
        let nanos = apply_updates(&shared.counter, self.delta, self.count);
        out.emit("done", None);
        Ok(nanos)
    }
}

/// One worker's loop without the lock, from the start line.
#[derive(Serialize, Deserialize)]
pub struct Unlocked {
    shared: Shared<StartLineAndCounter>,
    delta: i32,
    count: u64,
}

impl Job for Unlocked {
    type Output = LoopResult;

    fn run(self, out: &dyn EventSink) -> LoopResult {
        // SAFETY: the parent made this handle with `SharedMapping::handle` for this job.
        let shared = unsafe { self.shared.map() }?;
        out.emit(
            "adding",
            Some(format!("{:+} × {}, no lock", self.delta, self.count)),
        );
        let limit = Duration::from_secs_f64(START_LINE_LIMIT_S);
        if !wait_at_start_line(&shared.start_line, limit) {
            return Err("the start line never opened".into());
        }
        let nanos = apply_updates(&shared.counter, self.delta, self.count);
        out.emit("done", None);
        Ok(nanos)
    }
}

/// One worker's loop on its own copy of the parent's plain counter.
#[derive(Serialize, Deserialize)]
pub struct Plain {
    counter: u64,
    delta: i32,
    count: u64,
}

impl Job for Plain {
    type Output = u64;

    fn run(mut self, out: &dyn EventSink) -> u64 {
        out.emit(
            "adding",
            Some(format!("{:+} × {}, plain counter", self.delta, self.count)),
        );
        // `self.counter` is this child's own copy of the parent's.
        count_plain(&mut self.counter, self.delta, self.count);
        out.emit("done", None);
        self.counter
    }
}
