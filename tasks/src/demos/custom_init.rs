//! `custom-init` (notebook §4) on tasks: numbered workers whose results return to the parent.

use crate::workers::{Workers, on_runtime};
use contract::demos::custom_init::CustomInitOutcome;
use contract::demos::custom_init::{CYCLES, input, worker_name, workers as how_many};
use contract::demos::custom_init::{NumberedTask, double};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<CustomInitOutcome, DemoError> {
    on_runtime(run, |run| async move { custom_init(&run).await })
}

async fn custom_init(run: &DemoRun) -> Result<CustomInitOutcome, DemoError> {
    let mut workers = Workers::new(run);

    for number in 1..=how_many(run) {
        let task = NumberedTask {
            number,
            func: double,
            args: (input(number), CYCLES),
        };
        // The task's work never waits, so it runs from start to end in one poll.
        workers
            .start(&worker_name(number), move |out| async move { task.run(&out) })
            .await?;
    }

    // Each (number, value) comes back as the task's output: no copy, no encoding.
    let values = workers.join_all().await?.into_iter().collect();
    Ok(CustomInitOutcome { values })
}
