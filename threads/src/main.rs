//! `threads`: the tutorial's demos with std threads. A worker is an OS thread: it shares
//! the parent's memory, so its events land in the trace directly and its result comes
//! back through `JoinHandle::join`.

#![forbid(unsafe_code)]

mod demos;
mod sync;
mod workers;

use contract::demos::channel::ChannelOutcome;
use contract::demos::cpu::CpuOutcome;
use contract::demos::crash::CrashOutcome;
use contract::demos::custom_init::CustomInitOutcome;
use contract::demos::download::DownloadOutcome;
use contract::demos::event::EventOutcome;
use contract::demos::join::JoinOutcome;
use contract::demos::lock::LockOutcome;
use contract::demos::queue::QueueOutcome;
use contract::demos::run_hooks::RunHooksOutcome;
use contract::demos::spawn::SpawnOutcome;
use contract::demos::start::StartOutcome;
use contract::domain::WorkerKind;
use contract::{DemoError, DemoRun};
use runner::Backend;
use std::process::ExitCode;

/// The threads backend: one method per demo, each in `demos/<id>.rs`.
struct Threads;

impl Backend for Threads {
    const WORKER: WorkerKind = WorkerKind::Thread;
    const ISOLATED: bool = false;
    const NAME: &'static str = "threads";

    // Ctrl-C keeps its default action: it ends the one process, and every thread with it.

    fn start(run: &DemoRun) -> Result<StartOutcome, DemoError> {
        demos::start::run(run)
    }

    fn join(run: &DemoRun) -> Result<JoinOutcome, DemoError> {
        demos::join::run(run)
    }

    fn run_hooks(run: &DemoRun) -> Result<RunHooksOutcome, DemoError> {
        demos::run_hooks::run(run)
    }

    fn custom_init(run: &DemoRun) -> Result<CustomInitOutcome, DemoError> {
        demos::custom_init::run(run)
    }

    fn lock(run: &DemoRun) -> Result<LockOutcome, DemoError> {
        demos::lock::run(run)
    }

    fn queue(run: &DemoRun) -> Result<QueueOutcome, DemoError> {
        demos::queue::run(run)
    }

    fn event(run: &DemoRun) -> Result<EventOutcome, DemoError> {
        demos::event::run(run)
    }

    fn download(run: &DemoRun) -> Result<DownloadOutcome, DemoError> {
        demos::download::run(run)
    }

    fn cpu(run: &DemoRun) -> Result<CpuOutcome, DemoError> {
        demos::cpu::run(run)
    }

    fn crash(run: &DemoRun) -> Result<CrashOutcome, DemoError> {
        demos::crash::run(run)
    }

    fn spawn(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
        demos::spawn::run(run)
    }

    fn channel(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
        demos::channel::run(run)
    }
}

fn main() -> ExitCode {
    runner::main::<Threads>()
}
