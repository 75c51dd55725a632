//! `join` (notebook §2) on MPI ranks: five sleepers (or `--workers N`) started one after another, then all joined.

use crate::workers::Workers;
use contract::demos::join::JoinOutcome;
use contract::demos::join::{SLEEP_S, worker_name, workers as how_many};
use contract::workloads::Sleeper;
use contract::{DemoError, DemoRun};

crate::ranks::jobs!();

pub fn run(run: &DemoRun) -> Result<JoinOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);
    let count = how_many(run);

    for index in 0..count {
        let name = worker_name(index);
        workers.start(&name, Sleeper { seconds })?;
        run.main_says("started", Some(name));
    }

    // A rank's join is its last message: its result, or the panic it caught.
    workers.join_all()?;
    run.main_says("joined", Some(format!("all {count}")));
    Ok(JoinOutcome::from_events(count, &run.trace().events()))
}
