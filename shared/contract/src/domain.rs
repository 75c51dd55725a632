//! The domain's small types: how a worker is made to die, how a worker process starts.

use clap::ValueEnum;
use std::fmt;

/// How the `crash` demo's doomed worker dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrashFault {
    /// The worker panics: unwinding ends it, and its join sees the panic.
    Panic,
    /// The worker calls `abort()`: SIGABRT, for the whole process it is in.
    Abort,
    /// The worker is sent SIGKILL: for the whole process it is in.
    Kill,
}

impl CrashFault {
    pub const ALL: [CrashFault; 3] = [CrashFault::Panic, CrashFault::Abort, CrashFault::Kill];

    pub fn id(self) -> &'static str {
        match self {
            CrashFault::Panic => "panic",
            CrashFault::Abort => "abort",
            CrashFault::Kill => "kill",
        }
    }
}

/// How `processes` starts a worker process (Python's multiprocessing start methods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum StartMethod {
    /// `fork()`: the child is a copy of the parent and runs its job at once; the parent
    /// must be single-threaded.
    #[default]
    Fork,
    /// `fork()` then `exec()` of this program: a fresh process that receives its job as
    /// data over an ipc-channel; safe from a multi-threaded parent, and dearer.
    Spawn,
    /// A server process, forked when the program starts (before any thread), forks each
    /// worker on request and hands it its job as data (Python 3.14's default on Linux):
    /// safe from a multi-threaded parent, and without spawn's `exec`.
    Forkserver,
}

impl StartMethod {
    pub const ALL: [StartMethod; 3] = [
        StartMethod::Fork,
        StartMethod::Forkserver,
        StartMethod::Spawn,
    ];

    pub fn id(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
            StartMethod::Forkserver => "forkserver",
        }
    }
}

/// A fault `--inject`ed into the first worker of each demo, right after its first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Fault {
    /// processes: the child sends itself SIGKILL. threads: a thread cannot be killed on
    /// its own (a signal would take the whole process), so it panics instead.
    KillWorker,
    /// Both backends: the worker panics.
    PanicWorker,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::KillWorker => "kill-worker",
            Fault::PanicWorker => "panic-worker",
        })
    }
}

/// What a backend's workers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerKind {
    /// An OS thread of one process: it shares the process's memory, and its fate.
    Thread,
    /// A process of its own: it shares only what is mapped or sent.
    Process,
    /// An async task on an executor (tokio): it shares the process's memory and fate, like a
    /// thread, but has no stack of its own and runs only between the `.await`s of others.
    Task,
    /// An MPI rank: a process of its own, started by `mpirun` on this machine or another, that
    /// shares only what it sends; by MPI's default fault model, a rank that dies ends the job.
    Rank,
}

impl WorkerKind {
    /// `thread`, `process`, `task`: as the JSON spells it.
    pub fn id(self) -> &'static str {
        match self {
            WorkerKind::Thread => "thread",
            WorkerKind::Process => "process",
            WorkerKind::Task => "task",
            WorkerKind::Rank => "rank",
        }
    }
}

/// What a backend is, as its `--json` document declares it. The harness and the checks key on
/// this, never on a backend's name, so that any program speaking the protocol can be compared.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct BackendKind {
    pub worker: WorkerKind,
    /// A worker's `abort()` or SIGKILL leaves the other workers running (true for processes;
    /// false for threads, where it ends the one process they all live in).
    pub isolated: bool,
    /// How a worker starts, for a backend that has more than one way (`fork`, `spawn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_method: Option<String>,
    /// What runs the workers, for a backend whose workers are tasks on an executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<Executor>,
}

/// The executor a task backend's workers run on: how many OS threads poll the tasks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Executor {
    /// `multi-thread` (tasks move between worker threads) or `current-thread` (every task
    /// on the one thread that runs the program's main flow).
    pub flavour: String,
    /// The OS threads that poll tasks (1 for `current-thread`).
    pub worker_threads: usize,
}

#[cfg(test)]
mod tests {
    use super::WorkerKind;

    #[test]
    fn worker_kinds_are_serialised_by_their_protocol_names() {
        for (kind, name) in [
            (WorkerKind::Thread, "\"thread\""),
            (WorkerKind::Process, "\"process\""),
            (WorkerKind::Rank, "\"rank\""),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), name);
            assert_eq!(serde_json::from_str::<WorkerKind>(name).unwrap(), kind);
        }
    }
}
