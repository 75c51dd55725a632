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
use contract::report::signal_name;
use contract::{DemoError, DemoRun, Event, Job};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

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
            round_in_a_copy(run, fault)?
        };
        run.main_says("survivors", Some(round.survivors.join(" ")));
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

/// Runs the round in a copy of this program, which streams its events as JSON lines, and
/// reports how the copy ended: a thread's abort or SIGKILL takes its whole process.
fn round_in_a_copy(run: &DemoRun, fault: CrashFault) -> Result<CrashRound, DemoError> {
    let program =
        std::env::current_exe().map_err(|e| DemoError::system("finding this program", e))?;
    let started_at = run.trace().now_s();
    let mut copy = Command::new(program)
        .args([
            "crash",
            "--crash-copy",
            "--fault",
            fault.id(),
            "--scale",
            &run.scale().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| DemoError::system("starting a copy of this program", e))?;
    let mut survivors = Vec::new();
    for line in BufReader::new(copy.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| DemoError::system("reading the copy's events", e))?;
        let mut event: Event = serde_json::from_str(&line)
            .map_err(|e| DemoError::system("decoding the copy's events", e))?;
        event.t_s += started_at;
        if event.what == "finished" {
            survivors.push(event.worker.clone());
        }
        // The copy's main flow repeats what ours says; its workers' events are the news.
        if event.worker != contract::trace::MAIN {
            run.trace().record(event);
        }
    }
    let status = copy
        .wait()
        .map_err(|e| DemoError::system("waiting for the copy", e))?;
    let seen = match (status.signal(), status.code()) {
        (Some(signal), _) => format!(
            "the whole program was killed by signal {}",
            signal_name(signal)
        ),
        (None, Some(code)) => format!("the whole program exited with code {code}"),
        (None, None) => "the whole program ended".to_string(),
    };
    survivors.sort();
    Ok(CrashRound {
        fault,
        doomed: worker_name(DOOMED),
        seen,
        survivors,
        program_survived: status.success(),
    })
}
