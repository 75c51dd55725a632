//! `start` (notebook §1) on MPI ranks: one worker sleeps while the main flow says hello.

use crate::workers::Workers;
use contract::demos::start::StartOutcome;
use contract::demos::start::{HELLOS, SLEEP_S, WORKER};
use contract::workloads::Sleeper;
use contract::{DemoError, DemoRun};

crate::ranks::jobs!(Sleeper);

pub fn run(run: &DemoRun) -> Result<StartOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    // `start` returns once t1 has said it is sleeping, so the hellos come while it sleeps.
    let t1 = workers.start(WORKER, Sleeper { seconds })?;
    for _ in 0..HELLOS {
        run.main_says("hello", None);
    }

    // Python waits for non-daemon threads at exit; rank 0 waits for its worker's last message.
    workers.join(t1)?;
    Ok(StartOutcome::from_events(&run.trace().events()))
}
