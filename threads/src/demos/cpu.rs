//! `cpu` (beyond the notebook) on threads: count primes in chunks across 1, 2, …, N workers.

use crate::workers::Workers;
use contract::demos::cpu::CpuOutcome;
use contract::demos::cpu::{DEFAULT_N, default_workers, worker_name};
use contract::demos::cpu::{CountPrimes, prime_chunks};
use contract::{DemoError, DemoRun, Job};
use std::time::Instant;

pub fn run(run: &DemoRun) -> Result<CpuOutcome, DemoError> {
    let n = run.options().n.unwrap_or(DEFAULT_N);
    let most_workers = run.options().workers.unwrap_or_else(default_workers);
    let mut outcome = CpuOutcome::new(n);

    for worker_count in 1..=most_workers {
        let started = Instant::now();
        let mut workers = Workers::new(run);
        for index in 0..worker_count {
            let chunks = prime_chunks(index, worker_count, n);
            let task = CountPrimes { chunks };
            workers.start(&worker_name(index), move |out| task.run(out))?;
        }
        // Threads run in parallel on every core: Rust has no global interpreter lock.
        let primes: u64 = workers.join_all()?.into_iter().sum();
        outcome.record_pass(run, worker_count, primes, started.elapsed().as_secs_f64());
    }
    Ok(outcome)
}
