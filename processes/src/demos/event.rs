//! `event` (notebook §7) on processes: `flag` sets an event then clears it, `ops` draws while
//! it is set; then timed set→wake-up trials.
//!
//! A worker process shares no memory, so the event is a word in a shared memory file that
//! the parent and the workers map, and a waiter sleeps on it with a shared futex (no
//! `FUTEX_PRIVATE_FLAG`), which a `FUTEX_WAKE` from any process mapping that page wakes.

use crate::shared_memory::{ProcessShared, Shared, SharedMapping};
use crate::sync::FutexEvent;
use crate::workers::{Job, Workers};
use contract::demos::event::EventOutcome;
use contract::demos::event::{
    CLEAR_AFTER_S, DRAW_EVERY_S, FLAG, OPS, SET_AFTER_S, TRIAL_GAP_S, wait_limit_s, wakeup_figures,
};
use contract::event_flag::{self, OpsReport, SetTime, wake_up_setter, wake_up_waiter};
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};
use std::time::Duration;

crate::spawned::jobs!(Flag, Ops, Waiter);

/// Where the event lives and how a waiter sleeps, for the report.
const SHARED_VIA: &str = "an IpcSharedMemory (a memfd mapped MAP_SHARED) in the parent and \
                          each worker: an AtomicU32 flag; a waiter sleeps in FUTEX_WAIT on it (shared futex, \
                          no FUTEX_PRIVATE_FLAG)";

/// The trials' mapping: main sets `go`, the waiter answers on `done`.
#[derive(Default)]
pub struct TrialEvents {
    go: FutexEvent,
    done: FutexEvent,
    set_at: SetTime,
}

// SAFETY: two futex words and an atomic time: no pointers, no destructor.
unsafe impl ProcessShared for TrialEvents {}

pub fn run(run: &DemoRun) -> Result<EventOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    flag_and_ops(run)?;
    let outcome = EventOutcome::from_events(&run.trace().events(), run.seed());
    wake_up_trials(run)?;
    Ok(outcome)
}

/// The notebook's two workers: `flag` sets then clears, `ops` waits, then draws while set.
fn flag_and_ops(run: &DemoRun) -> Result<(), DemoError> {
    let event = SharedMapping::new(FutexEvent::default())?;
    let mut workers = Workers::new(run);
    let (set_after, clear_after) = (run.seconds(SET_AFTER_S), run.seconds(CLEAR_AFTER_S));
    let (seed, draw_every) = (run.seed(), run.seconds(DRAW_EVERY_S));

    let flag = Flag {
        event: event.handle(),
        set_after,
        clear_after,
    };
    workers.start(FLAG, flag)?;
    let ops = Ops {
        event: event.handle(),
        seed,
        draw_every,
        wait_limit: wait_limit_s(set_after),
    };
    let ops = workers.start(OPS, ops)?;

    let mut results = workers.join_all()?;
    let report = results
        .swap_remove(ops.index())
        .map_err(DemoError::System)?
        .ok_or_else(|| DemoError::System("ops reported nothing".into()))?;
    run.measured("ops_wait_cpu_us", report.wait_cpu_us);
    run.measured("ops_wait_wall_us", report.wait_wall_us);
    Ok(())
}

/// `--trials` × (main sets `go`, the waiter wakes): the wake-up latency's median and p99.
fn wake_up_trials(run: &DemoRun) -> Result<(), DemoError> {
    let events = SharedMapping::new(TrialEvents::default())?;
    let mut workers = Workers::new(run);
    let trials = run.trials();

    let waiter = Waiter {
        events: events.handle(),
        trials,
    };
    workers.start(OPS, waiter)?;
    let gap = Duration::from_secs_f64(TRIAL_GAP_S);
    let setter = wake_up_setter(&events.go, &events.done, &events.set_at, trials, gap);

    // A waiter that died is the first thing to report; then a setter that gave up.
    let latencies = workers.join_all()?.remove(0);
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
    event: Shared<FutexEvent>,
    set_after: f64,
    clear_after: f64,
}

impl Job for Flag {
    type Output = DrawsResult;

    fn run(self, out: &dyn EventSink) -> DrawsResult {
        // SAFETY: the parent made this handle with `SharedMapping::handle` for this job.
        let event = unsafe { self.event.map() }?;
        event_flag::flag(out, &*event, self.set_after, self.clear_after);
        Ok(None)
    }
}

/// The notebook's `ops` worker: waits for the event, then draws while it is set.
#[derive(Serialize, Deserialize)]
pub struct Ops {
    event: Shared<FutexEvent>,
    seed: u64,
    draw_every: f64,
    wait_limit: f64,
}

impl Job for Ops {
    type Output = DrawsResult;

    fn run(self, out: &dyn EventSink) -> DrawsResult {
        // SAFETY: the parent made this handle with `SharedMapping::handle` for this job.
        let event = unsafe { self.event.map() }?;
        event_flag::ops(out, &*event, self.seed, self.draw_every, self.wait_limit).map(Some)
    }
}

/// The waiting side of the timed wake-ups.
#[derive(Serialize, Deserialize)]
pub struct Waiter {
    events: Shared<TrialEvents>,
    trials: u32,
}

impl Job for Waiter {
    type Output = Result<Vec<f64>, String>;

    fn run(self, out: &dyn EventSink) -> Result<Vec<f64>, String> {
        // SAFETY: the parent made this handle with `SharedMapping::handle` for this job.
        let events = unsafe { self.events.map() }?;
        out.emit("timing", Some(format!("{} wake-ups", self.trials)));
        let TrialEvents { go, done, set_at } = &*events;
        wake_up_waiter(go, done, set_at, self.trials)
    }
}
