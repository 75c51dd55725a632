//! `run-hooks` (notebook §3) on processes: each worker's target wrapped in before/after hooks.

use crate::workers::{Job, Workers};
use contract::demos::run_hooks::Hooked;
use contract::demos::run_hooks::RunHooksOutcome;
use contract::demos::run_hooks::{SLEEP_S, WORKERS, worker_name};
use contract::workloads::sleeper;
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};

crate::spawned::jobs!(HookedSleep);

pub fn run(run: &DemoRun) -> Result<RunHooksOutcome, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);

    for index in 0..WORKERS {
        workers.start(&worker_name(index), HookedSleep { seconds })?;
    }

    workers.join_all()?;
    Ok(RunHooksOutcome::from_events(&run.trace().events()))
}

/// A sleeper between hooks. The task, not the worker, carries the hooks: Rust has no
/// Thread to subclass, and a process's job must be data.
#[derive(Serialize, Deserialize)]
pub struct HookedSleep {
    seconds: f64,
}

impl Job for HookedSleep {
    type Output = ();

    fn run(self, out: &dyn EventSink) {
        let seconds = self.seconds;
        Hooked::new(move |out: &dyn EventSink| sleeper(out, seconds)).run(out)
    }
}
