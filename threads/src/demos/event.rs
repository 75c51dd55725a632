//! `event` (notebook §7) on threads: `flag` sets an event then clears it, `ops` draws while
//! it is set; then timed set→wake-up trials.
//!
//! A thread shares the parent's memory, so the event is one value in it (a flag under a
//! `Mutex`, with a `Condvar` to sleep on), which both threads reach through an `Arc`.

use crate::sync::ThreadEvent;
use crate::workers::Workers;
use contract::demos::event::EventOutcome;
use contract::demos::event::{
    CLEAR_AFTER_S, DRAW_EVERY_S, FLAG, OPS, SET_AFTER_S, TRIAL_GAP_S, wait_limit_s, wakeup_figures,
};
use contract::event_flag::{self, SetTime, wake_up_setter, wake_up_waiter};
use contract::{DemoError, DemoRun};
use std::sync::Arc;
use std::time::Duration;

/// Where the event lives and how a waiter sleeps, for the report.
const SHARED_VIA: &str = "the process's own memory: Arc<(Mutex<bool>, Condvar)>; a waiter \
                          sleeps on the Condvar (private futex)";

pub fn run(run: &DemoRun) -> Result<EventOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    flag_and_ops(run)?;
    let outcome = EventOutcome::from_events(&run.trace().events(), run.seed());
    wake_up_trials(run)?;
    Ok(outcome)
}

/// The notebook's two workers: `flag` sets then clears, `ops` waits, then draws while set.
fn flag_and_ops(run: &DemoRun) -> Result<(), DemoError> {
    let event = Arc::new(ThreadEvent::default());
    let mut workers = Workers::new(run);
    let (set_after, clear_after) = (run.seconds(SET_AFTER_S), run.seconds(CLEAR_AFTER_S));
    let (seed, draw_every) = (run.seed(), run.seconds(DRAW_EVERY_S));

    let for_flag = Arc::clone(&event);
    workers.start(FLAG, move |out| {
        event_flag::flag(out, &*for_flag, set_after, clear_after);
        Ok(None)
    })?;
    let for_ops = Arc::clone(&event);
    let ops = workers.start(OPS, move |out| {
        event_flag::ops(out, &*for_ops, seed, draw_every, wait_limit_s(set_after)).map(Some)
    })?;

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
    let go = Arc::new(ThreadEvent::default());
    let done = Arc::new(ThreadEvent::default());
    let set_at = Arc::new(SetTime::default());
    let mut workers = Workers::new(run);
    let trials = run.trials();

    let (waiter_go, waiter_done, waiter_set_at) =
        (Arc::clone(&go), Arc::clone(&done), Arc::clone(&set_at));
    workers.start(OPS, move |out| {
        out.emit("timing", Some(format!("{trials} wake-ups")));
        wake_up_waiter(&*waiter_go, &*waiter_done, &waiter_set_at, trials)
    })?;
    let gap = Duration::from_secs_f64(TRIAL_GAP_S);
    let setter = wake_up_setter(&*go, &*done, &set_at, trials, gap);

    // A waiter that died is the first thing to report; then a setter that gave up.
    let latencies = workers.join_all()?.remove(0);
    setter?;
    let latencies_us = latencies.map_err(DemoError::System)?;
    for (key, value) in wakeup_figures(&latencies_us) {
        run.measured(key, value);
    }
    Ok(())
}
