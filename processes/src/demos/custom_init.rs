//! `custom-init` (notebook §4) on processes: numbered workers whose results return to the parent.

use crate::workers::{Job, Workers};
use contract::demos::custom_init::CustomInitOutcome;
use contract::demos::custom_init::{CYCLES, WORKERS, input, worker_name};
use contract::demos::custom_init::{NumberedTask, double};
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};

crate::spawned::jobs!(Numbered);

pub fn run(run: &DemoRun) -> Result<CustomInitOutcome, DemoError> {
    let mut workers = Workers::new(run);

    for number in 1..=WORKERS {
        let job = Numbered {
            number,
            input: input(number),
            cycles: CYCLES,
        };
        workers.start(&worker_name(number), job)?;
    }

    // Each (number, value) is encoded by the child and decoded here, one message each.
    let values = workers.join_all()?.into_iter().collect();
    Ok(CustomInitOutcome { values })
}

/// The notebook's `MyThread(number, func, args)` as data: a function pointer cannot be sent
/// to another program, so the job names `double` by running it.
#[derive(Serialize, Deserialize)]
pub struct Numbered {
    number: u32,
    input: u64,
    cycles: u32,
}

impl Job for Numbered {
    type Output = (u32, u64);

    fn run(self, out: &dyn EventSink) -> (u32, u64) {
        let task = NumberedTask {
            number: self.number,
            func: double,
            args: (self.input, self.cycles),
        };
        task.run(out)
    }
}
