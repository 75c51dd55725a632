//! `start` (notebook §1) on tasks: one worker sleeps while the main flow says hello.

use crate::workers::{Workers, on_runtime};
use crate::workloads::sleeper;
use contract::demos::start::StartOutcome;
use contract::demos::start::{HELLOS, SLEEP_S, WORKER};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<StartOutcome, DemoError> {
    on_runtime(run, |run| async move { start(&run).await })
}

async fn start(run: &DemoRun) -> Result<StartOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    // `start` returns once t1 has said it is sleeping, so the hellos come while it sleeps.
    let t1 = workers
        .start(WORKER, move |out| async move { sleeper(&out, seconds).await })
        .await?;
    for _ in 0..HELLOS {
        run.main_says("hello", None);
    }

    // Nothing waits for a task unless asked: dropping the runtime would cancel it.
    workers.join(t1).await?;
    Ok(StartOutcome::from_events(&run.trace().events()))
}
