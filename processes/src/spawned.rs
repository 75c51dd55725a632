//! The entry of a spawned worker (`--start spawn`): this program, started again with
//! `--spawned-worker JOB SERVER PARENT`, connects to its parent's one-shot ipc-channel
//! server, receives its job as data, runs it and exits.
//!
//! A fresh program knows nothing of its parent's closures, so a job is named on the
//! command line (as Python's spawn names the target's module and function) and every job
//! a spawned worker can run is listed here.

use crate::demos::{channel, cpu, crash, custom_init, download, event, lock, queue, run_hooks};
use crate::demos::{spawn, start};
use crate::workers::{AskingJob, Job, spawned_asking_job, spawned_job};
use nix::unistd::Pid;
use std::process::ExitCode;

/// The first argument that makes this program a spawned worker. Given alone, the program
/// exits at once: the raw cost of starting it, for `spawn`'s measurement.
pub const FLAG: &str = "--spawned-worker";

/// One job a spawned worker can run, and how it enters it.
struct Entry {
    name: &'static str,
    enter: fn(String, Pid) -> !,
}

const fn job<J: Job>() -> Entry {
    Entry {
        name: J::NAME,
        enter: spawned_job::<J>,
    }
}

const fn asking_job<J: AskingJob>() -> Entry {
    Entry {
        name: J::NAME,
        enter: spawned_asking_job::<J>,
    }
}

/// Every job of every demo.
const JOBS: &[Entry] = &[
    job::<start::Sleep>(),
    job::<run_hooks::HookedSleep>(),
    job::<custom_init::Numbered>(),
    job::<lock::Locked>(),
    job::<lock::Unlocked>(),
    asking_job::<queue::Produce>(),
    asking_job::<queue::Consume>(),
    asking_job::<queue::TimedPutGet>(),
    job::<queue::RawRoundTrips>(),
    job::<event::Flag>(),
    job::<event::Ops>(),
    job::<event::Waiter>(),
    job::<download::FetchInTurn>(),
    asking_job::<download::FetchFromQueue>(),
    job::<download::FetchIntoMemory>(),
    job::<cpu::CountPrimes>(),
    job::<crash::CrashSleep>(),
    job::<spawn::Nothing>(),
    job::<channel::Peer>(),
];

/// Runs this process as a spawned worker if its command line says so; `None` otherwise.
pub fn run_if_asked() -> Option<ExitCode> {
    let mut args = std::env::args().skip(1);
    if args.next()? != FLAG {
        return None;
    }
    let rest: Vec<String> = args.collect();
    let [job, server, parent] = match rest.as_slice() {
        [] => return Some(ExitCode::SUCCESS),
        [job, server, parent] => [job, server, parent],
        _ => return Some(internal_error("expects JOB SERVER PARENT")),
    };
    let Some(entry) = JOBS.iter().find(|entry| entry.name == job) else {
        return Some(internal_error(&format!("no job named '{job}'")));
    };
    let Ok(parent) = parent.parse::<i32>() else {
        return Some(internal_error(&format!("'{parent}' is not a process id")));
    };
    (entry.enter)(server.clone(), Pid::from_raw(parent))
}

fn internal_error(problem: &str) -> ExitCode {
    eprintln!("processes: error: {FLAG} is for workers this program spawns: {problem}");
    ExitCode::from(contract::settings::EXIT_BAD_INPUT)
}

#[cfg(test)]
mod tests {
    use super::JOBS;

    #[test]
    fn every_job_has_its_own_name() {
        for (i, entry) in JOBS.iter().enumerate() {
            assert!(
                JOBS[..i].iter().all(|earlier| earlier.name != entry.name),
                "two jobs are named {}",
                entry.name
            );
        }
    }
}
