//! `cpu` (beyond the notebook) on tasks: count primes in chunks across 1, 2, …, N workers, on
//! tokio's multi-thread runtime; then the same count on a current-thread runtime, and with
//! `spawn_blocking`, with N workers, timed in the same run against the one-worker pass.
//!
//! A task that computes never reaches an `.await`, so it holds the worker thread it runs on
//! until it is done. On the multi-thread runtime there is one worker thread per core, and
//! the tasks spread over them: the count scales with cores, as with threads. On a
//! current-thread runtime every task runs on the one thread, one after another: the speedup
//! stays at 1, as Python's threads under the GIL (the "async GIL"). `spawn_blocking` hands
//! each count to a thread of tokio's blocking pool, which is how async code is meant to run
//! CPU-bound work without stalling the tasks that wait for I/O.

use crate::workers::{Workers, beside_runtime, finish_on, in_turns};
use contract::demos::cpu::CpuOutcome;
use contract::demos::cpu::{DEFAULT_N, default_workers, worker_name};
use contract::demos::cpu::{CountPrimes, count_primes, prime_chunks};
use contract::{DemoError, DemoRun, Job};
use std::time::Instant;

pub fn run(run: &DemoRun) -> Result<CpuOutcome, DemoError> {
    let n = run.options().n.unwrap_or(DEFAULT_N);
    let most_workers = run.options().workers.unwrap_or_else(default_workers);
    let outcome = beside_runtime(multi_thread(run, n, most_workers))?;

    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| DemoError::system("starting a current-thread runtime", e))?;
    finish_on(
        current_thread,
        other_flavour(run, Flavour::CurrentThread, n, most_workers),
    )?;
    beside_runtime(other_flavour(run, Flavour::SpawnBlocking, n, most_workers))?;
    Ok(outcome)
}

/// The demo's passes, 1 to N workers, each a task on the multi-thread runtime.
async fn multi_thread(run: &DemoRun, n: u64, most_workers: usize) -> Result<CpuOutcome, DemoError> {
    let mut outcome = CpuOutcome::new(n);

    for worker_count in 1..=most_workers {
        let started = Instant::now();
        let mut workers = Workers::new(run);
        for index in 0..worker_count {
            let chunks = prime_chunks(index, worker_count, n);
            let task = CountPrimes { chunks };
            workers
                .start(&worker_name(index), move |out| async move { task.run(&out) })
                .await?;
        }
        // Each task holds a worker thread while it counts: one per core, so all run at once.
        let primes: u64 = workers.join_all().await?.into_iter().sum();
        outcome.record_pass(run, worker_count, primes, started.elapsed().as_secs_f64());
    }
    Ok(outcome)
}

/// Where the count of another flavour runs, for its figures' names.
#[derive(Clone, Copy)]
enum Flavour {
    /// Tasks spawned on a current-thread runtime: the one thread runs them in turn.
    CurrentThread,
    /// `spawn_blocking` on the multi-thread runtime: a thread of the blocking pool each.
    SpawnBlocking,
}

impl Flavour {
    fn id(self) -> &'static str {
        match self {
            Flavour::CurrentThread => "current_thread",
            Flavour::SpawnBlocking => "spawn_blocking",
        }
    }
}

/// The same count with `most_workers` workers of `flavour`, checked against the sieve's,
/// recorded as `<flavour>_wall_s_<N>_workers` and `<flavour>_speedup_<N>_workers`. The speedup
/// is over the demo's one-worker pass: one task counting alone holds one thread, whatever the
/// flavour (the one thread of a current-thread runtime, or one of the blocking pool), so that
/// pass, timed in this run, measures the same thing, and is not counted again here. These
/// workers emit no events: the events compared between backends are the demo's passes.
async fn other_flavour(
    run: &DemoRun,
    flavour: Flavour,
    n: u64,
    most_workers: usize,
) -> Result<(), DemoError> {
    let expected = CpuOutcome::new(n).expected;
    let one_worker_s = run
        .measured_value("wall_s_1_workers")
        .ok_or_else(|| DemoError::System("cpu: the one-worker pass did not run".into()))?;
    let worker_count = most_workers;
    let started = Instant::now();
    let mut handles = Vec::new();
    for index in 0..worker_count {
        let chunks = prime_chunks(index, worker_count, n);
        let count = move || chunks.into_iter().map(count_primes).sum::<u64>();
        handles.push(match flavour {
            Flavour::CurrentThread => tokio::spawn(async move { count() }),
            Flavour::SpawnBlocking => tokio::task::spawn_blocking(count),
        });
    }
    let mut primes = 0;
    for mut handle in handles {
        primes += in_turns(&mut handle)
            .await?
            .map_err(|e| DemoError::System(format!("a {} count: {e}", flavour.id())))?;
    }
    let wall_s = started.elapsed().as_secs_f64();
    if primes != expected {
        return Err(DemoError::System(format!(
            "{}: {worker_count} workers counted {primes} primes below {n}, expected {expected}",
            flavour.id()
        )));
    }
    let id = flavour.id();
    run.measured(&format!("{id}_wall_s_{worker_count}_workers"), wall_s);
    run.measured(
        &format!("{id}_speedup_{worker_count}_workers"),
        one_worker_s / wall_s,
    );
    Ok(())
}
