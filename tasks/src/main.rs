//! `tasks`: the tutorial's demos with async tasks on tokio. A worker is a task: it shares the
//! parent's memory and its threads, so its events land in the trace directly and its result
//! comes back by awaiting its `JoinHandle`; it waits without a thread of its own, at an
//! `.await`, while the runtime's few worker threads run other tasks.

#![forbid(unsafe_code)]

mod demos;
mod sync;
mod workers;
mod workloads;

use contract::DemoId;
use contract::domain::{Executor, WorkerKind};
use contract::{DemoError, DemoRun};
use runner::{Backend, Checked};
use std::process::ExitCode;

/// The tasks backend: its demos are in `demos/<id>.rs`.
struct Tasks;

impl Backend for Tasks {
    const WORKER: WorkerKind = WorkerKind::Task;
    const ISOLATED: bool = false;
    const NAME: &'static str = "tasks";

    // Ctrl-C and SIGTERM: the runner catches them (`contract::interrupt`), the main flow
    // stops waiting within a turn, kills and reaps its helper processes (the image server, a
    // crash round's copy), and the run exits 130; the runtime is dropped with the tasks on it.

    fn executor() -> Option<Executor> {
        Some(workers::executor())
    }

    fn run_demo(demo: DemoId, run: &DemoRun) -> Result<Checked, DemoError> {
        demos::run(demo, run)
    }
}

fn main() -> ExitCode {
    runner::main::<Tasks>()
}
