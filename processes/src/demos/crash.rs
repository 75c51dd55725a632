//! `crash` (beyond the notebook) on processes: one of four workers panics, aborts or is killed.
//!
//! Each worker is a process of its own: whatever ends it, ends only it. The parent reads
//! how it ended from `waitpid` (exit code 101 for a panic, or the signal: SIGABRT for
//! `abort()`, SIGKILL), and its siblings finish their work.

use crate::workers::Workers;
use contract::demos::crash::CrashSleeper;
use contract::demos::crash::{CrashOutcome, CrashRound};
use contract::demos::crash::{DOOMED, SLEEP_S, WORKERS, worker_name};
use contract::domain::CrashFault;
use contract::{DemoError, DemoRun};

crate::spawned::jobs!(CrashSleeper);

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
        // No copy of the program is needed: the parent is not in the doomed process.
        let round = round_here(run, fault)?;
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
        started.push(workers.start(&worker_name(index), CrashSleeper { seconds, doomed })?);
    }
    // Each join says how its worker ended; the doomed one's tells what the parent saw.
    let joins = started.into_iter().map(|id| workers.join(id)).collect();
    CrashRound::from_joins(fault, joins)
}
