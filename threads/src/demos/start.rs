//! `start` (notebook §1) on threads: one worker sleeps while the main flow says hello.

use crate::workers::Workers;
use contract::demos::start::StartOutcome;
use contract::demos::start::{HELLOS, SLEEP_S, WORKER};
use contract::workloads::Sleeper;
use contract::{DemoError, DemoRun, Job};

pub fn run(run: &DemoRun) -> Result<StartOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    // `start` returns once t1 has said it is sleeping, so the hellos come while it sleeps.
    let t1 = workers.start(WORKER, move |out| Sleeper { seconds }.run(out))?;
    for _ in 0..HELLOS {
        run.main_says("hello", None);
    }

    // Python waits for non-daemon threads at exit; Rust's main does not, so wait explicitly.
    workers.join(t1)?;
    Ok(StartOutcome::from_events(&run.trace().events()))
}
