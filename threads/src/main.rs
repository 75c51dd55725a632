//! `threads`: the tutorial's demos with std threads. A worker is an OS thread: it shares
//! the parent's memory, so its events land in the trace directly and its result comes
//! back through `JoinHandle::join`.

#![forbid(unsafe_code)]

mod demos;
mod sync;
mod workers;

use contract::DemoId;
use contract::domain::WorkerKind;
use contract::{DemoError, DemoRun};
use runner::{Backend, Checked};
use std::process::ExitCode;

/// The threads backend: its demos are in `demos/<id>.rs`.
struct Threads;

impl Backend for Threads {
    const WORKER: WorkerKind = WorkerKind::Thread;
    const ISOLATED: bool = false;
    const NAME: &'static str = "threads";

    // Ctrl-C and SIGTERM: the runner catches them (`contract::interrupt`), the main thread
    // stops waiting within a turn, kills and reaps its helper processes (the image server, a
    // crash round's copy), and the run exits 130. Worker threads end with the process: a
    // thread cannot be stopped from outside.

    fn run_demo(demo: DemoId, run: &DemoRun) -> Result<Checked, DemoError> {
        demos::run(demo, run)
    }
}

fn main() -> ExitCode {
    runner::main::<Threads>()
}
