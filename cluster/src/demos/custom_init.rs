//! `custom-init` (notebook §4) on MPI ranks: numbered workers whose results return to rank 0.

use crate::workers::Workers;
use contract::demos::custom_init::CustomInitOutcome;
use contract::demos::custom_init::Numbered;
use contract::demos::custom_init::{CYCLES, input, worker_name, workers as how_many};
use contract::{DemoError, DemoRun};

crate::ranks::jobs!(Numbered);

pub fn run(run: &DemoRun) -> Result<CustomInitOutcome, DemoError> {
    let mut workers = Workers::new(run);

    for number in 1..=how_many(run) {
        let job = Numbered {
            number,
            input: input(number),
            cycles: CYCLES,
        };
        workers.start(&worker_name(number), job)?;
    }

    // Each (number, value) is encoded by its rank and decoded here, one MPI message each.
    let values = workers.join_all()?.into_iter().collect();
    Ok(CustomInitOutcome { values })
}
