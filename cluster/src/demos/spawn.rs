//! `spawn` (beyond the notebook) on MPI ranks: the cost to start and join one worker, next to
//! the bare OS cost, and the cost of a new rank.
//!
//! The ranks exist before any worker starts (`mpirun` started them with the job), so starting
//! a worker is handing a job to a rank and joining it is receiving its result: that is what
//! `worker_start_join_us` measures here. A new rank is made with `MPI_Comm_spawn` (rsmpi's
//! `spawn`): this program started by Open MPI's runtime as a job of its own, connected to
//! rank 0 by an intercommunicator; `mpi_comm_spawn_us` is the time until it has passed a
//! barrier with rank 0. Those spawns run in a job of their own, watched from this one with a
//! time limit: with Debian's Open MPI 4.1 and its PMIx 4, a spawn now and then never returns
//! (the new rank waits in `PMIx_Init`, its parent in `PMIx_Lookup`, for good), and a hung
//! spawn would hang this whole job. A job whose spawn hangs is stopped, and a new one goes on
//! with the spawns still to make. The bare OS call beside them is a `fork`+`exec` of this program that
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
use std::io::BufRead;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

crate::ranks::jobs!(Nothing);

/// Set in this program's environment to make it exit at once: the bare `fork`+`exec`.
pub const EXIT_AT_ONCE: &str = "CLUSTER_EXIT_AT_ONCE";
/// The argument of a rank made by `MPI_Comm_spawn` (the environment does not reach it).
pub const SPAWNED_RANK: &str = "--spawned-rank";
/// New ranks made per run: each takes Open MPI's runtime tens of milliseconds.
const MOST_SPAWNED_RANKS: u64 = 10;
/// Set for this program started as rank 0 of a job that makes new ranks: how many to make.
pub const SPAWN_RANKS: &str = "CLUSTER_SPAWN_RANKS";
/// How long one `MPI_Comm_spawn` may take before its job is deemed hung (one takes about
/// 0.3 s here, a few seconds on a busy machine).
const SPAWN_LIMIT: Duration = Duration::from_secs(20);
/// Jobs that make new ranks, at most, per run: each after one whose spawn hung.
const SPAWN_JOBS: usize = 3;

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
    let (new_ranks, hung) = spawn_ranks_in_jobs_of_their_own(count.min(MOST_SPAWNED_RANKS))?;
    if hung > 0 {
        run.figures(|f| {
            f.notes.insert(
                "mpi_comm_spawn_hung".into(),
                format!(
                    "{hung} MPI_Comm_spawn never returned within {} s (Open MPI 4.1 with \
                     PMIx 4): its job was stopped, and the median is of the {} that returned",
                    SPAWN_LIMIT.as_secs(),
                    new_ranks.len()
                ),
            );
        });
    }
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
             mpi_comm_spawn_us: MPI_Comm_spawn of a new rank until a barrier with it, in a job \
             of its own"
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

/// Makes `count` new ranks by `MPI_Comm_spawn` in jobs of their own, one after another: the
/// time of each, and how many spawns hung (each ended its job, and a new job went on).
fn spawn_ranks_in_jobs_of_their_own(count: u64) -> Result<(Vec<f64>, usize), DemoError> {
    let mut micros = Vec::new();
    let mut hung = 0;
    while (micros.len() as u64) < count && hung < SPAWN_JOBS {
        let left = count - micros.len() as u64;
        let made = spawn_ranks_in_a_job(left, &mut micros)?;
        if made < left {
            hung += 1;
        }
    }
    if micros.is_empty() {
        return Err(DemoError::System(format!(
            "MPI_Comm_spawn hung in each of {SPAWN_JOBS} jobs"
        )));
    }
    Ok((micros, hung))
}

/// Starts a job whose rank 0 makes `count` new ranks and prints the time of each; pushes each
/// time as it comes. Stops the job when a spawn has not returned within [`SPAWN_LIMIT`], or
/// on Ctrl-C. How many ranks it made.
fn spawn_ranks_in_a_job(count: u64, micros: &mut Vec<f64>) -> Result<u64, DemoError> {
    let mut command = launch::mpirun_of_another_job(1);
    command
        .arg(launch::current_exe_or_name())
        .env(SPAWN_RANKS, count.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut job = launch::start_dying_with_us(&mut command)
        .map_err(|e| DemoError::system("starting mpirun", e))?;
    let stdout = job.stdout.take().expect("piped");
    let (lines, times) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let mut made = 0;
    let read = loop {
        let since = Instant::now();
        let next = contract::interrupt::wait_until(|turn| match times.recv_timeout(turn) {
            Ok(line) => Some(Some(line)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Some(None),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                (since.elapsed() >= SPAWN_LIMIT).then_some(None)
            }
        });
        match next {
            Ok(Some(line)) => match line.trim().parse::<f64>() {
                Ok(us) => {
                    micros.push(us);
                    made += 1;
                }
                Err(_) => break Err(DemoError::System(format!("a spawn job said '{line}'"))),
            },
            // Its end, or a spawn that hangs.
            Ok(None) => break Ok(made),
            Err(interrupted) => break Err(interrupted.into()),
        }
    };
    if made == count {
        // Its rank 0 is done: the job ends by itself (stopped if it does not, in time).
        let _ = contract::interrupt::wait(Some(SPAWN_LIMIT), |turn| {
            std::thread::sleep(turn.min(Duration::from_millis(5)));
            job.try_wait().ok().flatten()
        });
    }
    // Stopped, if it has not ended: SIGTERM to its mpirun, which kills its ranks, hung ones too.
    launch::stop(&mut job);
    let _ = reader.join();
    read
}

/// Rank 0 of a job of its own that makes `count` new ranks, one after another, and prints
/// the microseconds of each on a line of its own as soon as it is made.
pub fn spawn_ranks_main(count: &str) -> ExitCode {
    use std::io::Write;
    let Ok(count) = count.parse::<u64>() else {
        eprintln!("cluster: a spawn job was started with a bad count '{count}'");
        return ExitCode::FAILURE;
    };
    for _ in 0..count {
        let started = Instant::now();
        if let Err(error) = spawn_a_rank() {
            eprintln!("cluster: {error}");
            return ExitCode::FAILURE;
        }
        let us = started.elapsed().as_secs_f64() * 1e6;
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{us}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
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
