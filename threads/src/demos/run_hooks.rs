//! `run-hooks` (notebook §3) on threads: each worker's target wrapped in before/after hooks.

use crate::workers::Workers;
use contract::demos::run_hooks::Hooked;
use contract::demos::run_hooks::RunHooksOutcome;
use contract::demos::run_hooks::{SLEEP_S, WORKERS, worker_name};
use contract::workloads::sleeper;
use contract::{DemoError, DemoRun, EventSink};

pub fn run(run: &DemoRun) -> Result<RunHooksOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    for index in 0..WORKERS {
        // The task, not the thread, carries the hooks: Rust has no Thread to subclass.
        let task = Hooked::new(move |out: &dyn EventSink| sleeper(out, seconds));
        workers.start(&worker_name(index), move |out| task.run(out))?;
    }

    workers.join_all()?;
    Ok(RunHooksOutcome::from_events(&run.trace().events()))
}
