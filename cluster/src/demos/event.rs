//! `event` (notebook §7) on MPI ranks: `flag` sets an event then clears it, `ops` draws while
//! it is set; then timed set→wake-up trials.
//!
//! A rank shares no memory, so the event lives on rank 0 (`sync.rs`, [`EventOwner`]): a set,
//! a clear and a look at the flag are each a request in an MPI message and a reply; a wait is
//! a request that rank 0 answers only once the flag is set. The waiting rank does not spin:
//! it waits for the reply, sleeping between polls (`MPI_Iprobe`; Open MPI's blocking receive
//! would spin on a core). In the trials rank 0 sets `go` itself, and waits for `done` while it
//! serves the waiter's requests.

use crate::sync::{EventName, EventOfRankZero, EventOwner, EventsOnRankZero};
use crate::workers::{AskingJob, Parent, Workers};
use contract::demos::event::EventOutcome;
use contract::demos::event::{
    CLEAR_AFTER_S, DRAW_EVERY_S, FLAG, OPS, SET_AFTER_S, TRIAL_GAP_S, wait_limit_s, wakeup_figures,
};
use contract::event_flag::{self, EventFlag, OpsReport, SetTime, wake_up_setter};
use contract::trace::monotonic_ns;
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};
use std::time::Duration;

crate::ranks::jobs!(; asking Flag, Ops, Waiter);

/// Where the event lives and how a waiter sleeps, for the report.
const SHARED_VIA: &str = "rank 0, which owns the event: a set, a clear and a look are an MPI \
                          message and a reply each; a wait is a request rank 0 answers at the \
                          set, and the waiting rank sleeps between polls for the reply \
                          (MPI_Iprobe, no spin)";

/// How long either side of a trial waits for the other before it gives up.
const TRIAL_LIMIT: Duration = Duration::from_secs(5);

pub fn run(run: &DemoRun) -> Result<EventOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    flag_and_ops(run)?;
    let outcome = EventOutcome::from_events(&run.trace().events(), run.seed());
    wake_up_trials(run)?;
    Ok(outcome)
}

/// The notebook's two workers: `flag` sets then clears, `ops` waits, then draws while set.
fn flag_and_ops(run: &DemoRun) -> Result<(), DemoError> {
    // The event lives on rank 0, which serves the workers while it pumps.
    let mut workers = Workers::serving(run, EventOwner::default());
    let (set_after, clear_after) = (run.seconds(SET_AFTER_S), run.seconds(CLEAR_AFTER_S));
    let (seed, draw_every) = (run.seed(), run.seconds(DRAW_EVERY_S));

    let flag = Flag {
        set_after,
        clear_after,
    };
    workers.start_with(FLAG, flag)?;
    let ops = Ops {
        seed,
        draw_every,
        wait_limit: wait_limit_s(set_after),
    };
    let ops = workers.start_with(OPS, ops)?;

    let mut results = workers.join_all()?;
    let report = results
        .swap_remove(ops.index())
        .map_err(DemoError::System)?
        .ok_or_else(|| DemoError::System("ops reported nothing".into()))?;
    run.measured("ops_wait_cpu_us", report.wait_cpu_us);
    run.measured("ops_wait_wall_us", report.wait_wall_us);
    Ok(())
}

/// `--trials` × (rank 0 sets `go`, the waiter wakes): the wake-up latency's median and p99.
fn wake_up_trials(run: &DemoRun) -> Result<(), DemoError> {
    let mut workers = Workers::serving(run, EventOwner::default());
    let trials = run.trials();

    workers.start_with(OPS, Waiter { trials })?;
    let gap = Duration::from_secs_f64(TRIAL_GAP_S);
    // Rank 0's own time of each set; the waiter learns it in the reply that wakes it.
    let set_at = SetTime::default();
    let events = EventsOnRankZero::new(&mut workers);
    let (go, done) = (events.event(EventName::Go), events.event(EventName::Done));
    let setter = wake_up_setter(&go, &done, &set_at, trials, gap);
    let failed = events.failure();

    // A waiter that died is the first thing to report; then a wait that failed, then a
    // setter that gave up.
    let latencies = workers.join_all()?.remove(0);
    if let Some(error) = failed {
        return Err(error);
    }
    setter?;
    let latencies_us = latencies.map_err(DemoError::System)?;
    for (key, value) in wakeup_figures(&latencies_us) {
        run.measured(key, value);
    }
    Ok(())
}

/// What `flag` and `ops` return: `ops` its wait's cost, `flag` nothing.
type DrawsResult = Result<Option<OpsReport>, String>;

/// The notebook's `flag` worker: sets the event, then clears it.
#[derive(Serialize, Deserialize)]
pub struct Flag {
    set_after: f64,
    clear_after: f64,
}

impl AskingJob for Flag {
    type Service = EventOwner;
    type Output = DrawsResult;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, EventOwner>) -> DrawsResult {
        let event = EventOfRankZero::new(owner, EventName::Event);
        event_flag::flag(out, &event, self.set_after, self.clear_after);
        Ok(None)
    }
}

/// The notebook's `ops` worker: waits for the event, then draws while it is set.
#[derive(Serialize, Deserialize)]
pub struct Ops {
    seed: u64,
    draw_every: f64,
    wait_limit: f64,
}

impl AskingJob for Ops {
    type Service = EventOwner;
    type Output = DrawsResult;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, EventOwner>) -> DrawsResult {
        let event = EventOfRankZero::new(owner, EventName::Event);
        event_flag::ops(out, &event, self.seed, self.draw_every, self.wait_limit).map(Some)
    }
}

/// The waiting side of the timed wake-ups: `trials` times, wait for `go`, note how long after
/// rank 0's set it woke, clear `go`, set `done` (as `event_flag::wake_up_waiter`, with the
/// set's time from the reply instead of shared memory). The latencies in microseconds; the
/// clocks are one on one machine.
#[derive(Serialize, Deserialize)]
pub struct Waiter {
    trials: u32,
}

impl AskingJob for Waiter {
    type Service = EventOwner;
    type Output = Result<Vec<f64>, String>;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, EventOwner>) -> Self::Output {
        out.emit("timing", Some(format!("{} wake-ups", self.trials)));
        let go = EventOfRankZero::new(owner, EventName::Go);
        let done = EventOfRankZero::new(owner, EventName::Done);
        let mut latencies_us = Vec::with_capacity(self.trials as usize);
        for trial in 0..self.trials {
            let Some(set_at_ns) = go.wait_for_set(TRIAL_LIMIT)? else {
                return Err(format!(
                    "trial {trial} was not set within {} s",
                    TRIAL_LIMIT.as_secs()
                ));
            };
            latencies_us.push(monotonic_ns().saturating_sub(set_at_ns) as f64 / 1e3);
            go.clear();
            done.set();
        }
        Ok(latencies_us)
    }
}
