//! `processes`: the tutorial's demos with worker processes. A worker is a child process,
//! forked (`--start fork`) or forked and re-executed (`--start spawn`): it shares nothing
//! with the parent, so its events and its result travel back over an ipc-channel, and the
//! parent reaps it when it ends.

mod demos;
mod interrupt;
mod shared_memory;
mod spawned;
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

/// The processes backend: one method per demo, each in `demos/<id>.rs`.
struct Processes;

impl Backend for Processes {
    const WORKER: WorkerKind = WorkerKind::Process;
    const ISOLATED: bool = true;
    const NAME: &'static str = "processes";
    const HAS_START_METHODS: bool = true;

    /// Ctrl-C must not leave children behind: the parent catches it, then kills and reaps
    /// every worker before it exits (see `interrupt.rs` and `Workers`' `Drop`).
    fn prepare() {
        interrupt::install();
    }

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
    // This program started again as a worker, by `--start spawn`.
    if let Some(code) = spawned::run_if_asked() {
        return code;
    }
    runner::main::<Processes>()
}
