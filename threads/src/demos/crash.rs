//! `crash` (beyond the notebook) on threads: one of four workers panics, aborts or is killed.
//!
//! A panic unwinds one thread, and its join reports it. `abort()` and SIGKILL end the whole
//! process, and every thread in it: to live on and report that, the demo runs those rounds
//! in a copy of this program, and watches the copy.

use crate::workers::Workers;
use contract::demos::crash::CrashSleeper;
use contract::demos::crash::{CrashOutcome, CrashRound};
use contract::demos::crash::{DOOMED, SLEEP_S, WORKERS, worker_name};
use contract::domain::CrashFault;
use contract::{DemoError, DemoRun, Job};
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
            round_here(run, fault)?
        } else {
            round_in_a_copy(run, fault, "threads")?
        };
        run.main_says("survivors", Some(round.survivors_said()));
        rounds.push(round);
    }
    Ok(CrashOutcome::new(run.kind(), rounds))
}

/// Starts the four workers here, the doomed one among them, and joins each.
fn round_here(run: &DemoRun, fault: CrashFault) -> Result<CrashRound, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);
    let mut started = Vec::new();
    for index in 0..WORKERS {
        let doomed = (index == DOOMED).then_some(fault);
        let task = CrashSleeper { seconds, doomed };
        started.push(workers.start(&worker_name(index), move |out| task.run(out))?);
    }
    // Each join says how its worker ended; the doomed one's tells what the parent saw.
    let joins = started.into_iter().map(|id| workers.join(id)).collect();
    CrashRound::from_joins(fault, joins)
}
