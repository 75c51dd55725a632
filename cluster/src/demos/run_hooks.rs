//! `run-hooks` (notebook §3) on MPI ranks: each worker's target wrapped in before/after hooks.

use crate::workers::Workers;
use contract::demos::run_hooks::HookedSleeper;
use contract::demos::run_hooks::RunHooksOutcome;
use contract::demos::run_hooks::{SLEEP_S, WORKERS, worker_name};
use contract::{DemoError, DemoRun};

crate::ranks::jobs!(HookedSleeper);

pub fn run(run: &DemoRun) -> Result<RunHooksOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    for index in 0..WORKERS {
        workers.start(&worker_name(index), HookedSleeper { seconds })?;
    }

    workers.join_all()?;
    Ok(RunHooksOutcome::from_events(&run.trace().events()))
}
