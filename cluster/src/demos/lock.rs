//! `lock` (notebook §5) on MPI ranks: four workers update one counter, with a lock and without.
//!
//! A rank's memory is its own, so the counter lives in a one-sided (RMA) window on rank 0
//! (`window.rs`), which each worker reads with `MPI_Get` and writes with `MPI_Put`. With the
//! lock, each worker holds the window's exclusive passive-target lock (`MPI_Win_lock`) around
//! its whole loop, as the notebook holds its lock; without it, every worker accesses the word
//! at once under a shared lock of the window, so one's get and put can straddle another's and
//! its update is lost. Rank 0 and the pass's four ranks make the window together, over a
//! communicator of their own.
//!
//! The `plain` variant is the counter in rank 0's ordinary memory, as a newcomer would write
//! it: a rank cannot reach another's memory, so rank 0's plain `u64` goes to each worker in
//! its job, each rank counts in its own copy and sends it back, and rank 0's stays 0.

use crate::ranks;
use crate::window::CounterWindow;
use crate::workers::Workers;
use contract::counter::{self, LoopResult, Tally, count_plain, updated};
use contract::demos::lock::{LockOutcome, PlainCounter};
use contract::demos::lock::{DELTAS, worker_name};
use contract::{DemoError, DemoRun, EventSink, Job};
use mpi::topology::{Rank, SimpleCommunicator};
use mpi::traits::*;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

crate::ranks::jobs!(Locked, Unlocked, Plain);

/// Where the counter lives and what guards it, for the report.
const SHARED_VIA: &str = "an MPI window on rank 0 (MPI_Win_allocate; Open MPI: shared memory \
                          on one machine), MPI_Get + MPI_Put per update; the lock: \
                          MPI_Win_lock(MPI_LOCK_EXCLUSIVE), a waiting rank spins in MPI";

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
    let mut workers = Workers::new(run);
    let mut ranks_of_pass = vec![0];
    for (index, delta) in DELTAS.into_iter().enumerate() {
        let id = workers.start_in_collective(&worker_name(index), Locked { delta, count })?;
        ranks_of_pass.push(workers.rank_of(id));
    }
    let window = window_of_pass(&ranks_of_pass)?;
    // Every loop has ended once every worker is at the barrier; then rank 0 reads the word.
    window.barrier_free_of_spinning().map_err(DemoError::System)?;
    let word = window.lock_exclusive().and_then(|epoch| epoch.get());
    drop(window);
    let loops = workers.join_all()?;
    counter::report(run, "locked", word.map_err(DemoError::System)?, &loops, count)
}

/// The same updates without the lock: a get and a put, so updates can be lost. The workers
/// wait at a start line (a barrier) until all four are there, so that their loops overlap.
fn unlocked(run: &DemoRun, count: u64) -> Result<Tally, DemoError> {
    let mut workers = Workers::new(run);
    let mut ranks_of_pass = vec![0];
    for (index, delta) in DELTAS.into_iter().enumerate() {
        let id = workers.start_in_collective(&worker_name(index), Unlocked { delta, count })?;
        ranks_of_pass.push(workers.rank_of(id));
    }
    let window = window_of_pass(&ranks_of_pass)?;
    run.main_says("go", Some("all four loops at once".into()));
    window.barrier_spinning();
    // Every loop has ended once every worker is at the barrier; then rank 0 reads the word.
    window.barrier_free_of_spinning().map_err(DemoError::System)?;
    let word = window.lock_exclusive().and_then(|epoch| epoch.get());
    drop(window);
    let loops = workers.join_all()?;
    counter::report(run, "unlocked", word.map_err(DemoError::System)?, &loops, count)
}

/// A plain counter of rank 0's, no window and no lock: each worker rank gets it in its job,
/// counts in its own copy and sends it back; rank 0's counter is never touched.
fn plain(run: &DemoRun, count: u64) -> Result<PlainCounter, DemoError> {
    let counter: u64 = counter::ZERO;
    let mut workers = Workers::new(run);

    for (index, delta) in DELTAS.into_iter().enumerate() {
        // The job holds a copy of rank 0's counter: the rank's memory is its own.
        let job = Plain {
            counter,
            delta,
            count,
        };
        workers.start(&worker_name(index), job)?;
    }

    let own = workers.join_all()?;
    // Every worker has ended: rank 0 reads its own counter, which no other rank could reach.
    Ok(counter::report_plain(run, false, counter, &own, count))
}

/// The list of a pass's ranks, rank 0 first, sent to each of its workers.
const TAG_PASS: i32 = ranks::TAG_DEMO + 20;
/// The tag of the pass's communicator.
const TAG_COMMUNICATOR: i32 = ranks::TAG_DEMO + 21;

/// Rank 0's side: sends the pass's ranks to its workers, and makes the window with them.
fn window_of_pass(pass: &[Rank]) -> Result<CounterWindow, DemoError> {
    for &rank in &pass[1..] {
        ranks::send(rank, TAG_PASS, &pass);
    }
    CounterWindow::allocate(pass_communicator(pass)).map_err(DemoError::System)
}

/// A worker's side: waits for the pass's ranks, and makes the window with them.
fn join_window() -> Result<CounterWindow, String> {
    let (_, bytes) = ranks::receive_within(Some(0), TAG_PASS, Duration::MAX)
        .ok_or("no list of the pass's ranks came")?;
    let pass: Vec<Rank> = ranks::decode(&bytes)?;
    CounterWindow::allocate(pass_communicator(&pass))
}

fn pass_communicator(pass: &[Rank]) -> SimpleCommunicator {
    let world = ranks::world();
    let group = world.group().include(pass);
    world
        .split_by_subgroup_with_tag(&group, TAG_COMMUNICATOR)
        .expect("this rank is one of the pass")
}

/// `count` updates of `delta`, each an `MPI_Get` and an `MPI_Put` within `epoch`; the loop's
/// nanoseconds.
fn apply_updates(epoch: &crate::window::Epoch<'_>, delta: i32, count: u64) -> LoopResult {
    let started = Instant::now();
    for _ in 0..count {
        let word = epoch.get()?;
        epoch.put(updated(word, delta))?;
    }
    Ok(started.elapsed().as_nanos() as u64)
}

/// One worker's loop under the window's exclusive lock, held for the whole loop.
#[derive(Serialize, Deserialize)]
pub struct Locked {
    delta: i32,
    count: u64,
}

impl Job for Locked {
    type Output = LoopResult;

    fn run(self, out: &dyn EventSink) -> LoopResult {
        let window = join_window()?;
        let nanos = {
            let epoch = window.lock_exclusive()?;
            out.emit(
                "acquired",
                Some(format!("{:+} × {}", self.delta, self.count)),
            );
            apply_updates(&epoch, self.delta, self.count)?
        };
        out.emit("done", None);
        window.barrier_free_of_spinning()?;
        Ok(nanos)
    }
}

/// One worker's loop without the lock, from the start line.
#[derive(Serialize, Deserialize)]
pub struct Unlocked {
    delta: i32,
    count: u64,
}

impl Job for Unlocked {
    type Output = LoopResult;

    fn run(self, out: &dyn EventSink) -> LoopResult {
        let window = join_window()?;
        out.emit(
            "adding",
            Some(format!("{:+} × {}, no lock", self.delta, self.count)),
        );
        // The start line: a blocking barrier, so that the four leave it together (a spin, as
        // at processes' start line).
        window.barrier_spinning();
        let nanos = {
            let epoch = window.lock_shared()?;
            apply_updates(&epoch, self.delta, self.count)?
        };
        out.emit("done", None);
        window.barrier_free_of_spinning()?;
        Ok(nanos)
    }
}

/// One worker's loop on its own copy of rank 0's plain counter.
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
        // `self.counter` is this rank's own copy of rank 0's.
        count_plain(&mut self.counter, self.delta, self.count);
        out.emit("done", None);
        self.counter
    }
}
