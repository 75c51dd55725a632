//! The entry of a spawned worker (`--start spawn`): this program, started again with
//! `--spawned-worker JOB SERVER PARENT`, connects to its parent's one-shot ipc-channel
//! server, receives its job as data, runs it and exits.
//!
//! A fresh program knows nothing of its parent's closures, so a job is named on the command
//! line by its type's name (as Python's spawn names the target's module and function), and
//! the program looks the name up among the jobs the demos declare. A demo file declares its
//! job types in one [`jobs!`] line; only a type declared there is [`Registered`], and
//! [`Workers::start`](crate::workers::Workers::start) takes only registered jobs, so a job a
//! spawned worker could not find does not compile.

use crate::workers::{
    AskingJob, Job, forkserved_asking_job, forkserved_job, spawned_asking_job, spawned_job,
};
use ipc_channel::ipc::OpaqueIpcReceiver;
use nix::unistd::Pid;
use std::process::ExitCode;

/// The first argument that makes this program a spawned worker. Given alone, the program
/// exits at once: the raw cost of starting it, for `spawn`'s measurement.
pub const FLAG: &str = "--spawned-worker";

/// A job type that a spawned worker can find: implemented by [`jobs!`] alone.
pub trait Registered {}

/// One job a spawned worker can run, and how it enters it.
pub struct Entry {
    name: fn() -> &'static str,
    enter: fn(String, Pid) -> !,
    /// How a worker forked by the forkserver enters it, with its job inbox and the server's pid.
    pub forkserved: fn(OpaqueIpcReceiver, Pid) -> !,
}

/// The name of job type `J` on a spawned worker's command line.
pub fn job_name<J>() -> &'static str {
    std::any::type_name::<J>()
}

/// The entry of a job that asks its parent nothing.
pub const fn job<J: Job>() -> Entry {
    Entry {
        name: job_name::<J>,
        enter: spawned_job::<J>,
        forkserved: forkserved_job::<J>,
    }
}

/// The entry of a job that asks its parent's service while it works.
pub const fn asking_job<J: AskingJob>() -> Entry {
    Entry {
        name: job_name::<J>,
        enter: spawned_asking_job::<J>,
        forkserved: forkserved_asking_job::<J>,
    }
}

/// Declares a demo file's job types, `jobs!(A, B; asking C)`: each becomes [`Registered`],
/// and the file's `JOBS` lists their entries for a spawned worker.
macro_rules! jobs {
    ($($job:ty),* $(; asking $($asking:ty),+)?) => {
        $(impl $crate::spawned::Registered for $job {})*
        $($(impl $crate::spawned::Registered for $asking {})+)?

        /// This demo's jobs, as a spawned worker finds them.
        pub const JOBS: &[$crate::spawned::Entry] = &[
            $($crate::spawned::job::<$job>(),)*
            $($($crate::spawned::asking_job::<$asking>(),)+)?
        ];
    };
}
pub(crate) use jobs;

/// Gathers every demo file's `JOBS` (called with the contract's list of demos).
macro_rules! registry {
    ($($module:ident => $variant:ident,)*) => {
        /// The jobs of every demo, as a spawned worker finds them.
        pub const JOBS: &[&[$crate::spawned::Entry]] = &[$($module::JOBS,)*];
    };
}
pub(crate) use registry;

fn every_job() -> impl Iterator<Item = &'static Entry> {
    crate::demos::JOBS.iter().flat_map(|jobs| jobs.iter())
}

/// The job type named `name`.
pub fn find(name: &str) -> Option<&'static Entry> {
    every_job().find(|entry| (entry.name)() == name)
}

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
    let Some(entry) = find(job) else {
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
    use super::every_job;

    #[test]
    fn every_job_has_its_own_name() {
        let names: Vec<&str> = every_job().map(|entry| (entry.name)()).collect();
        assert!(names.len() >= 18, "{names:?}");
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "two jobs are named {name}");
        }
    }
}
