//! `custom-init` (notebook §4) on threads: numbered workers whose results return to the parent.

use crate::workers::Workers;
use contract::demos::custom_init::CustomInitOutcome;
use contract::demos::custom_init::{CYCLES, input, worker_name, workers as how_many};
use contract::demos::custom_init::{NumberedTask, double};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<CustomInitOutcome, DemoError> {
    let mut workers = Workers::new(run);

    for number in 1..=how_many(run) {
        let task = NumberedTask {
            number,
            func: double,
            args: (input(number), CYCLES),
        };
        workers.start(&worker_name(number), move |out| task.run(out))?;
    }

    // Each (number, value) comes back as the thread's return value: no copy, no encoding.
    let values = workers.join_all()?.into_iter().collect();
    Ok(CustomInitOutcome { values })
}
