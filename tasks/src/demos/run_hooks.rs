//! `run-hooks` (notebook §3) on tasks: each worker's target wrapped in before/after hooks,
//! an async wrapper around the awaited target.

use crate::workers::{Workers, on_runtime};
use crate::workloads::hooked_sleeper;
use contract::demos::run_hooks::RunHooksOutcome;
use contract::demos::run_hooks::{SLEEP_S, WORKERS, worker_name};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<RunHooksOutcome, DemoError> {
    on_runtime(run, |run| async move { run_hooks(&run).await })
}

async fn run_hooks(run: &DemoRun) -> Result<RunHooksOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    for index in 0..WORKERS {
        workers
            .start(&worker_name(index), move |out| async move {
                hooked_sleeper(&out, seconds).await
            })
            .await?;
    }

    workers.join_all().await?;
    Ok(RunHooksOutcome::from_events(&run.trace().events()))
}
