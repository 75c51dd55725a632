//! `cpu` (beyond the notebook) on processes: count primes in chunks across 1, 2, …, N workers.

use crate::workers::Workers;
use contract::demos::cpu::CpuOutcome;
use contract::demos::cpu::{CountPrimes, prime_chunks};
use contract::demos::cpu::{DEFAULT_N, default_workers, worker_name};
use contract::{DemoError, DemoRun};
use std::time::Instant;

crate::spawned::jobs!(CountPrimes);

pub fn run(run: &DemoRun) -> Result<CpuOutcome, DemoError> {
    let n = run.options().n.unwrap_or(DEFAULT_N);
    let most_workers = run.options().workers.unwrap_or_else(default_workers);
    let mut outcome = CpuOutcome::new(n);

    for worker_count in 1..=most_workers {
        let started = Instant::now();
        let mut workers = Workers::new(run);
        for index in 0..worker_count {
            let chunks = prime_chunks(index, worker_count, n);
            workers.start(&worker_name(index), CountPrimes { chunks })?;
        }
        // Each child counts in its own address space; only its total travels back.
        let primes: u64 = workers.join_all()?.into_iter().sum();
        outcome.record_pass(run, worker_count, primes, started.elapsed().as_secs_f64());
    }
    Ok(outcome)
}
