//! `cpu` (beyond the notebook) on MPI ranks: count primes in chunks across 1, 2, …, N workers.
//!
//! Each pass sends its worker ranks a job, then the list of the pass's ranks; rank 0 and they
//! make a communicator of their own (`MPI_Comm_create_group`), rank 0 scatters each worker its
//! share (its index, the number of workers and n, from which it computes its chunks), and the
//! ranks' counts are reduced to their sum on rank 0.

use crate::ranks;
use crate::workers::Workers;
use contract::demos::cpu::CpuOutcome;
use contract::demos::cpu::{CountPrimes, prime_chunks};
use contract::demos::cpu::{DEFAULT_N, default_workers, worker_name};
use contract::{DemoError, DemoRun, EventSink, Job};
use mpi::collective::SystemOperation;
use mpi::topology::{Rank, SimpleCommunicator};
use mpi::traits::*;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

crate::ranks::jobs!(CountPrimesInPass);

pub fn run(run: &DemoRun) -> Result<CpuOutcome, DemoError> {
    let n = run.options().n.unwrap_or(DEFAULT_N);
    let most_workers = run.options().workers.unwrap_or_else(default_workers);
    let mut outcome = CpuOutcome::new(n);

    for worker_count in 1..=most_workers {
        let started = Instant::now();
        let mut workers = Workers::new(run);
        let mut pass = vec![0];
        for index in 0..worker_count {
            let id = workers.start_in_collective(&worker_name(index), CountPrimesInPass)?;
            pass.push(workers.rank_of(id));
        }
        for &rank in &pass[1..] {
            ranks::send(rank, TAG_PASS, &pass);
        }
        // Each rank counts in its own address space; only its count travels back, summed.
        let primes = scatter_and_sum(&pass, worker_count as u64, n);
        workers.join_all()?;
        outcome.record_pass(run, worker_count, primes, started.elapsed().as_secs_f64());
    }
    run.figures(|f| {
        f.notes.insert(
            "mechanism".into(),
            "per pass a communicator of the pass's ranks; MPI_Scatter of each worker's share, \
             MPI_Ireduce (sum) of the counts to rank 0"
                .into(),
        );
    });
    Ok(outcome)
}

/// The list of a pass's ranks, rank 0 first, sent to each of its workers.
const TAG_PASS: i32 = ranks::TAG_DEMO;
/// The tag of the pass's communicator.
const TAG_COMMUNICATOR: i32 = ranks::TAG_DEMO + 1;

/// Rank 0's side of a pass: scatters the shares, and waits (without spinning) for the sum.
fn scatter_and_sum(pass: &[Rank], workers: u64, n: u64) -> u64 {
    let comm = pass_communicator(pass);
    // Rank 0's own share is empty: it counts nothing.
    let mut shares = vec![0u64; 3];
    shares.extend((0..workers).flat_map(|index| [index, workers, n]));
    let mut unused = [0u64; 3];
    let root = comm.process_at_rank(0);
    root.scatter_into_root(&shares[..], &mut unused);
    let mut sum = 0u64;
    mpi::request::scope(|scope| {
        let request = root.immediate_reduce_into_root(scope, &0u64, &mut sum, SystemOperation::sum());
        ranks::complete(request);
    });
    sum
}

/// The communicator of rank 0 and a pass's worker ranks.
fn pass_communicator(pass: &[Rank]) -> SimpleCommunicator {
    let world = ranks::world();
    let group = world.group().include(pass);
    world
        .split_by_subgroup_with_tag(&group, TAG_COMMUNICATOR)
        .expect("this rank is one of the pass")
}

/// A worker of a pass: waits for the pass's ranks, receives its share, counts its chunks,
/// and adds its count to the sum on rank 0.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct CountPrimesInPass;

impl Job for CountPrimesInPass {
    type Output = ();

    fn run(self, out: &dyn EventSink) {
        let (_, bytes) = ranks::receive_within(Some(0), TAG_PASS, Duration::MAX)
            .expect("a wait without a limit ends with a message");
        let pass: Vec<Rank> = ranks::decode(&bytes).expect("rank 0 sends the pass's ranks");
        let comm = pass_communicator(&pass);
        let root = comm.process_at_rank(0);
        let mut share = [0u64; 3];
        root.scatter_into(&mut share);
        let [index, workers, n] = share;
        let chunks = prime_chunks(index as usize, workers as usize, n);
        let primes = CountPrimes { chunks }.run(out);
        // Non-blocking as on rank 0: a blocking reduce does not match a non-blocking one.
        mpi::request::scope(|scope| {
            let request = root.immediate_reduce_into(scope, &primes, SystemOperation::sum());
            ranks::complete(request);
        });
    }
}
