//! `crash` (beyond the notebook) on tasks: one of four workers panics, aborts or is killed.
//!
//! A panic unwinds one task: tokio catches it where it polls the task, and awaiting the
//! task's `JoinHandle` reports it, while the other tasks sleep on. `abort()` and SIGKILL end
//! the whole process, every task and every worker thread in it, as with threads: to live on
//! and report that, the demo runs those rounds in a copy of this program, and watches the copy.

use crate::workers::{Workers, on_runtime};
use crate::workloads::crash_sleeper;
use contract::demos::crash::{CrashOutcome, CrashRound};
use contract::demos::crash::{DOOMED, SLEEP_S, WORKERS, worker_name};
use contract::domain::CrashFault;
use contract::{DemoError, DemoRun};
use runner::crash_rounds::round_in_a_copy;

pub fn run(run: &DemoRun) -> Result<CrashOutcome, DemoError> {
    let faults = run
        .options()
        .fault
        .map_or(CrashFault::ALL.to_vec(), |fault| vec![fault]);
    let mut rounds = Vec::new();
    for fault in faults {
        run.main_says(
            "round",
            Some(format!("{} dies by {}", worker_name(DOOMED), fault.id())),
        );
        let round = if fault == CrashFault::Panic || run.is_crash_copy() {
            on_runtime(run, |run| async move { round_here(&run, fault).await })?
        } else {
            round_in_a_copy(run, fault, "tasks")?
        };
        run.main_says("survivors", Some(round.survivors_said()));
        rounds.push(round);
    }
    Ok(CrashOutcome::new(run.kind(), rounds))
}

/// Starts the four workers here, the doomed one among them, and joins each.
async fn round_here(run: &DemoRun, fault: CrashFault) -> Result<CrashRound, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);
    let mut started = Vec::new();
    for index in 0..WORKERS {
        let doomed = (index == DOOMED).then_some(fault);
        let id = workers
            .start(&worker_name(index), move |out| async move {
                crash_sleeper(&out, seconds, doomed).await
            })
            .await?;
        started.push(id);
    }
    // Each join says how its worker ended; the doomed one's tells what the parent saw.
    let mut joins = Vec::new();
    for id in started {
        joins.push(workers.join(id).await);
    }
    CrashRound::from_joins(fault, joins)
}
