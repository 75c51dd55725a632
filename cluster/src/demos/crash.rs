//! `crash` (beyond the notebook) on MPI ranks: one of four workers panics, aborts or is killed.
//!
//! A panic unwinds in its rank, which catches it and reports it to rank 0: the others finish.
//! `abort()` and SIGKILL end the rank's process, and by MPI's default fault model `mpirun`
//! then ends the whole job, rank 0 with it. To live on and report that, the demo runs those
//! rounds in a job of their own (this program under a second `mpirun`), streams its events
//! from its rank 0, and reads from `mpirun` how the job ended.

use crate::launch;
use crate::workers::Workers;
use contract::demos::crash::CrashSleeper;
use contract::demos::crash::{CrashOutcome, CrashRound};
use contract::demos::crash::{DOOMED, SLEEP_S, WORKERS, worker_name};
use contract::domain::CrashFault;
use contract::report::signal_name;
use contract::{DemoError, DemoRun, Event, interrupt};
use std::io::{BufReader, Read};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};

crate::ranks::jobs!(CrashSleeper);

/// The ranks of a round: rank 0 and the four workers.
pub const RANKS: usize = 1 + WORKERS;

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
            round_in_a_job(run, fault)?
        };
        run.main_says("survivors", Some(round.survivors.join(" ")));
        rounds.push(round);
    }
    Ok(CrashOutcome::new(run.kind(), rounds))
}

/// Starts the four workers on ranks of this job, the doomed one among them, and joins each.
fn round_here(run: &DemoRun, fault: CrashFault) -> Result<CrashRound, DemoError> {
    let mut workers = Workers::new(run);
    let seconds = run.seconds(SLEEP_S);
    let mut started = Vec::new();
    for index in 0..WORKERS {
        let doomed = (index == DOOMED).then_some(fault);
        started.push(workers.start(&worker_name(index), CrashSleeper { seconds, doomed })?);
    }
    // Each join says how its worker ended; the doomed one's tells what rank 0 saw.
    let joins = started.into_iter().map(|id| workers.join(id)).collect();
    CrashRound::from_joins(fault, joins)
}

/// Runs the round in an MPI job of its own, whose rank 0 streams its events as JSON lines,
/// and reports how `mpirun` saw the job end: a rank's abort or SIGKILL takes the whole job.
fn round_in_a_job(run: &DemoRun, fault: CrashFault) -> Result<CrashRound, DemoError> {
    let started_at = run.trace().now_s();
    let mut command = launch::mpirun_of_another_job(RANKS);
    command.arg(launch::current_exe_or_name()).args([
        "crash",
        "--crash-copy",
        &std::process::id().to_string(),
        "--fault",
        fault.id(),
        "--scale",
        &run.scale().to_string(),
    ]);
    // Dropped on every path out of here (an error, Ctrl-C): then its mpirun is stopped.
    let mut job = JobOfItsOwn::start(&mut command)?;
    let mut survivors = Vec::new();
    while let Some(mut event) = job.next_event()? {
        event.t_s += started_at;
        if event.what == "finished" {
            survivors.push(event.worker.clone());
        }
        // The job's main flow repeats what ours says; its workers' events are the news.
        if event.worker != contract::trace::MAIN {
            run.trace().record(event);
        }
    }
    let status = job.wait()?;
    let said = job.said();
    let seen = match (rank_signal(&said), status.code()) {
        (Some(signal), _) => format!(
            "mpirun ended the whole job: a rank was killed by signal {}",
            signal_name(signal)
        ),
        (None, Some(code)) => format!("the whole job exited with code {code}"),
        (None, None) => "the whole job ended".to_string(),
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

/// The signal that ended a rank, from `mpirun`'s report ("exited on signal 6 (Aborted)").
fn rank_signal(said: &str) -> Option<i32> {
    let (_, after) = said.split_once("exited on signal ")?;
    let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// A round's MPI job, its rank 0's events read line by line. Every wait for it goes in turns
/// (Ctrl-C and SIGTERM end them), and dropping it stops its `mpirun` (which kills its ranks)
/// and reaps it, however the round ended.
struct JobOfItsOwn {
    mpirun: Child,
    events: BufReader<ChildStdout>,
    report: ChildStderr,
}

impl JobOfItsOwn {
    fn start(command: &mut Command) -> Result<Self, DemoError> {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut mpirun = launch::start_dying_with_us(command)
            .map_err(|e| DemoError::system("starting mpirun", e))?;
        let events = BufReader::new(mpirun.stdout.take().expect("piped"));
        let report = mpirun.stderr.take().expect("piped");
        Ok(JobOfItsOwn {
            mpirun,
            events,
            report,
        })
    }

    /// The job's next event; `None` once its output is closed (it has ended).
    fn next_event(&mut self) -> Result<Option<Event>, DemoError> {
        loop {
            let mut line = String::new();
            let read = interrupt::read_line(&mut self.events, &mut line)?
                .map_err(|e| DemoError::system("reading the job's events", e))?;
            if read == 0 {
                return Ok(None);
            }
            // mpirun's own lines on stdout are not events.
            if let Ok(event) = serde_json::from_str(&line) {
                return Ok(Some(event));
            }
        }
    }

    /// Waits for `mpirun` to end, and reaps it.
    fn wait(&mut self) -> Result<ExitStatus, DemoError> {
        interrupt::wait_for_exit(&mut self.mpirun)?
            .map_err(|e| DemoError::system("waiting for mpirun", e))
    }

    /// What `mpirun` said on stderr, once it has ended.
    fn said(&mut self) -> String {
        let mut said = String::new();
        let _ = self.report.read_to_string(&mut said);
        said
    }
}

impl Drop for JobOfItsOwn {
    fn drop(&mut self) {
        launch::stop(&mut self.mpirun);
    }
}

#[cfg(test)]
mod tests {
    use super::rank_signal;

    #[test]
    fn the_signal_is_read_from_what_mpirun_says() {
        let said = "mpirun noticed that process rank 2 with PID 0 on node h exited on signal 6 \
                    (Aborted).";
        assert_eq!(rank_signal(said), Some(6));
        assert_eq!(rank_signal("mpirun noticed nothing"), None);
    }
}
