//! `spawn` (beyond the notebook) on MPI ranks: the cost to start and join one worker, next to
//! the bare OS cost, and the cost of a new rank.
//!
//! The ranks exist before any worker starts (`mpirun` started them with the job), so starting
//! a worker is handing a job to a rank and joining it is receiving its result: that is what
//! `worker_start_join_us` measures here. A new rank is made with `MPI_Comm_spawn` (rsmpi's
//! `spawn`): this program started by Open MPI's runtime as a job of its own, connected to
//! rank 0 by an intercommunicator; `mpi_comm_spawn_us` is the time until it has passed a
//! barrier with rank 0. The bare OS call beside them is a `fork`+`exec` of this program that
//! exits at once, and a `std::thread::spawn` + `join`.

use crate::launch;
use crate::workers::Workers;
use contract::bench::{
    median_or_zero, record_all_at_once, record_spawn_costs, record_touched_cost,
    time_alternately, time_each, touch_memory,
};
use contract::demos::spawn::SpawnOutcome;
use contract::demos::spawn::{ALL_AT_ONCE_PASSES, Nothing, all_at_once, touched_mib, touched_starts};
use contract::{DemoError, DemoRun};
use mpi::traits::*;
use std::process::{Command, Stdio};

crate::ranks::jobs!(Nothing);

/// Set in this program's environment to make it exit at once: the bare `fork`+`exec`.
pub const EXIT_AT_ONCE: &str = "CLUSTER_EXIT_AT_ONCE";
/// The argument of a rank made by `MPI_Comm_spawn` (the environment does not reach it).
pub const SPAWNED_RANK: &str = "--spawned-rank";
/// New ranks made per run: each takes Open MPI's runtime tens of milliseconds.
const MOST_SPAWNED_RANKS: u64 = 10;

pub fn run(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let count = run.count();
    let mut workers = Workers::new(run);
    let mut joined = 0;
    let (through_workers, raw) = time_alternately(
        count,
        || {
            let id = workers.start("t0", Nothing)?;
            workers.join(id)?;
            joined += 1;
            Ok(())
        },
        bare_start_and_wait,
    )?;
    run.main_says(
        "started and joined",
        Some(format!("{joined} workers, one after another")),
    );
    record_spawn_costs(run, &through_workers, &raw);

    // `--workers N`: N workers, each on a rank of its own, before the first is joined.
    if let Some(at_once) = all_at_once(run) {
        let passes = time_each(ALL_AT_ONCE_PASSES as u64, || {
            for index in 0..at_once {
                workers.start(&format!("t{index}"), Nothing)?;
            }
            workers.join_all().map(drop)
        })?;
        record_all_at_once(run, at_once, &passes);
    }

    let threads = time_each(count, bare_thread)?;
    run.measured("thread_spawn_join_us", median_or_zero(&threads));
    let new_ranks = time_each(count.min(MOST_SPAWNED_RANKS), spawn_a_rank)?;
    run.measured("mpi_comm_spawn_us", median_or_zero(&new_ranks));
    run.measured(
        "mpi_comm_spawn_over_raw",
        median_or_zero(&new_ranks) / median_or_zero(&raw),
    );

    // The fork before the exec copies the parent's page tables, as a bare fork does: the
    // more memory the parent touched, the dearer (`std`'s `Command` forks, not vforks, when
    // the child must first set its parent-death signal).
    for mib in touched_mib(run) {
        let memory = touch_memory(mib);
        let raw = time_each(touched_starts(run), bare_start_and_wait)?;
        drop(memory);
        record_touched_cost(run, mib, &raw);
    }
    run.figures(|f| {
        f.notes.insert(
            "spawn".into(),
            "worker_start_join_us: a job handed to a rank mpirun started, and its result; \
             raw_os_us: fork+exec+wait of this program, exiting at once; \
             mpi_comm_spawn_us: MPI_Comm_spawn of a new rank until a barrier with it"
                .into(),
        );
    });
    Ok(SpawnOutcome {
        started: count,
        joined,
    })
}

/// The bare OS cost: this program started (`fork`+`exec`), exiting at once, and reaped.
fn bare_start_and_wait() -> Result<(), DemoError> {
    let mut command = Command::new(launch::current_exe_or_name());
    command
        .env(EXIT_AT_ONCE, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = launch::start_dying_with_us(&mut command)
        .map_err(|e| DemoError::system("starting this program", e))?;
    let status = contract::interrupt::wait_for_exit(&mut child)?
        .map_err(|e| DemoError::system("waiting for this program", e))?;
    match status.success() {
        true => Ok(()),
        false => Err(DemoError::System(format!("this program, started bare, ended with {status}"))),
    }
}

fn bare_thread() -> Result<(), DemoError> {
    std::thread::spawn(|| ())
        .join()
        .map_err(|_| DemoError::System("an empty thread panicked".into()))
}

/// A new rank by `MPI_Comm_spawn`, until it has passed a barrier with rank 0; it then ends.
fn spawn_a_rank() -> Result<(), DemoError> {
    let mut command = Command::new(launch::current_exe_or_name());
    command.arg(SPAWNED_RANK);
    // Collective over rank 0's own communicator: the other ranks take no part.
    let alone = mpi::topology::SimpleCommunicator::self_comm();
    let intercomm = alone
        .process_at_rank(0)
        .spawn(&command, 1)
        .map_err(|e| DemoError::system("MPI_Comm_spawn", e))?;
    intercomm.barrier();
    Ok(())
}
