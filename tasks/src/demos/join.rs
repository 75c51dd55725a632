//! `join` (notebook §2) on tasks: five sleepers (or `--workers N`, up to 100 000) started one
//! after another, then all joined.

use crate::workers::{Workers, on_runtime};
use crate::workloads::sleeper;
use contract::demos::join::JoinOutcome;
use contract::demos::join::{SLEEP_S, worker_name, workers as how_many};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<JoinOutcome, DemoError> {
    on_runtime(run, |run| async move { join(&run).await })
}

async fn join(run: &DemoRun) -> Result<JoinOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);
    let count = how_many(run);

    for index in 0..count {
        let name = worker_name(index);
        workers
            .start(&name, move |out| async move { sleeper(&out, seconds).await })
            .await?;
        run.main_says("started", Some(name));
    }

    // Awaiting a task's JoinHandle returns its result, or the panic that ended it.
    workers.join_all().await?;
    run.main_says("joined", Some(format!("all {count}")));
    Ok(JoinOutcome::from_events(count, &run.trace().events()))
}
