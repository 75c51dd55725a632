//! `join` (notebook §2) on threads: five sleepers started one after another, then all joined.

use crate::workers::Workers;
use contract::demos::join::JoinOutcome;
use contract::demos::join::{SLEEP_S, WORKERS, worker_name};
use contract::workloads::Sleeper;
use contract::{DemoError, DemoRun, Job};

pub fn run(run: &DemoRun) -> Result<JoinOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    for index in 0..WORKERS {
        let name = worker_name(index);
        workers.start(&name, move |out| Sleeper { seconds }.run(out))?;
        run.main_says("started", Some(name));
    }

    // A thread's join returns its result, or the panic that ended it.
    workers.join_all()?;
    run.main_says("joined", Some(format!("all {WORKERS}")));
    Ok(JoinOutcome::from_events(&run.trace().events()))
}
