//! `event` (notebook §7) on tasks: `flag` sets an event then clears it, `ops` draws while
//! it is set; then timed set→wake-up trials.
//!
//! A task shares the parent's memory, so the event is one value in it (a flag in a tokio
//! `watch` channel), which both tasks reach through an `Arc`. A waiting task is parked on the
//! channel: it is not polled, and uses no CPU, until the set wakes it.

use crate::sync::TaskEvent;
use crate::workers::{TaskSink, Workers, in_turns, on_runtime};
use contract::demos::event::EventOutcome;
use contract::demos::event::{
    CLEAR_AFTER_S, DRAW_EVERY_S, FLAG, LUCKY, OPS, SET_AFTER_S, TRIAL_GAP_S, wait_limit_s,
    wakeup_figures,
};
use contract::event_flag::{Draws, OpsReport, thread_cpu_time};
use contract::trace::{format_seconds, monotonic_ns};
use contract::{DemoError, DemoRun, EventSink};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Where the event lives and how a waiter waits, for the report.
const SHARED_VIA: &str = "the process's own memory: Arc<tokio::sync::watch::Sender<flag>>; a \
                          waiter is a task parked on the channel, its thread free";

pub fn run(run: &DemoRun) -> Result<EventOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    on_runtime(run, |run| async move { flag_and_ops(&run).await })?;
    let outcome = EventOutcome::from_events(&run.trace().events(), run.seed());
    on_runtime(run, |run| async move { wake_up_trials(&run).await })?;
    Ok(outcome)
}

/// The notebook's two workers: `flag` sets then clears, `ops` waits, then draws while set.
async fn flag_and_ops(run: &DemoRun) -> Result<(), DemoError> {
    let event = Arc::new(TaskEvent::default());
    let mut workers = Workers::new(run);
    let (set_after, clear_after) = (run.seconds(SET_AFTER_S), run.seconds(CLEAR_AFTER_S));
    let (seed, draw_every) = (run.seed(), run.seconds(DRAW_EVERY_S));

    let for_flag = Arc::clone(&event);
    workers
        .start(FLAG, move |out| async move {
            flag(&out, &for_flag, set_after, clear_after).await;
            Ok(None)
        })
        .await?;
    let for_ops = Arc::clone(&event);
    let ops = workers
        .start(OPS, move |out| async move {
            ops(out, &for_ops, seed, draw_every, wait_limit_s(set_after))
                .await
                .map(Some)
        })
        .await?;

    let mut results = workers.join_all().await?;
    let report = results
        .swap_remove(ops.index())
        .map_err(DemoError::System)?
        .ok_or_else(|| DemoError::System("ops reported nothing".into()))?;
    run.measured("ops_wait_cpu_us", report.wait_cpu_us);
    run.measured("ops_wait_wall_us", report.wait_wall_us);
    Ok(())
}

/// The notebook's `flag` (`contract::event_flag::flag`), its sleeps awaited.
async fn flag(out: &TaskSink, event: &TaskEvent, set_after: f64, clear_after: f64) {
    out.emit(
        "counting down",
        Some(format!("{} s", format_seconds(set_after))),
    );
    tokio::time::sleep(Duration::from_secs_f64(set_after)).await;
    out.emit(
        "countdown begun",
        Some(format!("set for {} s", format_seconds(clear_after))),
    );
    event.set();
    tokio::time::sleep(Duration::from_secs_f64(clear_after)).await;
    out.emit("clearing", None);
    event.clear();
    out.emit("cleared", None);
}

/// The notebook's `start_operations` (`contract::event_flag::ops`), its waits awaited. The
/// CPU of its wait is what polling this task cost while it waited: read from the thread
/// clock of whichever worker thread polled it, around each poll.
async fn ops(
    out: TaskSink,
    event: &TaskEvent,
    seed: u64,
    draw_every: f64,
    wait_limit: f64,
) -> Result<OpsReport, String> {
    out.emit("waiting", Some("for the event".into()));
    let wall_before = Instant::now();
    let (was_set, wait_cpu) =
        CpuOfPolls::new(event.wait(Duration::from_secs_f64(wait_limit))).await;
    if !was_set {
        out.emit(
            "gave up",
            Some(format!("after {} s", format_seconds(wait_limit))),
        );
        return Err(format!("the event was not set within {wait_limit} s"));
    }
    let woke = Instant::now();
    let mut report = OpsReport {
        wait_cpu_us: wait_cpu.as_secs_f64() * 1e6,
        wait_wall_us: (woke - wall_before).as_secs_f64() * 1e6,
        draws: Vec::new(),
    };
    let mut draws = Draws::new(seed);
    let tick = Duration::from_secs_f64(draw_every);
    while event.is_set() {
        let number = draws.next_draw();
        report.draws.push(number);
        let due = woke + tick * report.draws.len() as u32;
        tokio::time::sleep_until(due.into()).await;
        out.emit("drew", Some(number.to_string()));
        if number == LUCKY {
            out.emit("13!", None);
        }
    }
    out.emit("stopped", Some("the event was cleared".into()));
    Ok(report)
}

/// A future with the CPU time its polls took, on the clocks of the threads that polled it:
/// a task's own CPU, wherever the runtime runs it.
struct CpuOfPolls<F> {
    inner: Pin<Box<F>>,
    cpu: Duration,
}

impl<F: Future> CpuOfPolls<F> {
    fn new(inner: F) -> Self {
        CpuOfPolls {
            inner: Box::pin(inner),
            cpu: Duration::ZERO,
        }
    }
}

impl<F: Future> Future for CpuOfPolls<F> {
    type Output = (F::Output, Duration);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let before = thread_cpu_time();
        let polled = self.inner.as_mut().poll(cx);
        self.cpu += thread_cpu_time().saturating_sub(before);
        polled.map(|output| (output, self.cpu))
    }
}

/// When `go` was set, on the system-wide monotonic clock.
#[derive(Debug, Default)]
struct SetTime {
    nanos: AtomicU64,
}

impl SetTime {
    fn store_now(&self) {
        self.nanos.store(monotonic_ns(), Ordering::Release);
    }

    fn seconds_since(&self) -> f64 {
        let set_at = self.nanos.load(Ordering::Acquire);
        monotonic_ns().saturating_sub(set_at) as f64 / 1e9
    }
}

/// How long either side of a trial waits for the other before it gives up.
const TRIAL_LIMIT: Duration = Duration::from_secs(5);

/// `--trials` × (main sets `go`, the waiter wakes): the wake-up latency's median and p99.
async fn wake_up_trials(run: &DemoRun) -> Result<(), DemoError> {
    let go = Arc::new(TaskEvent::default());
    let done = Arc::new(TaskEvent::default());
    let set_at = Arc::new(SetTime::default());
    let mut workers = Workers::new(run);
    let trials = run.trials();

    let (waiter_go, waiter_done, waiter_set_at) =
        (Arc::clone(&go), Arc::clone(&done), Arc::clone(&set_at));
    workers
        .start(OPS, move |out| async move {
            out.emit("timing", Some(format!("{trials} wake-ups")));
            wake_up_waiter(&waiter_go, &waiter_done, &waiter_set_at, trials).await
        })
        .await?;
    let gap = Duration::from_secs_f64(TRIAL_GAP_S);
    let setter = wake_up_setter(&go, &done, &set_at, trials, gap).await;

    // A waiter that died is the first thing to report; then a setter that gave up.
    let latencies = workers.join_all().await?.remove(0);
    setter?;
    let latencies_us = latencies.map_err(DemoError::System)?;
    for (key, value) in wakeup_figures(&latencies_us) {
        run.measured(key, value);
    }
    Ok(())
}

/// The setter's side (the main flow; `contract::event_flag::wake_up_setter`): `trials`
/// times, pause so that the waiter is parked, note the time, set `go`, then wait for `done`
/// and clear it. Every wait goes in turns: Ctrl-C ends the trials within one.
async fn wake_up_setter(
    go: &TaskEvent,
    done: &TaskEvent,
    set_at: &SetTime,
    trials: u32,
    gap: Duration,
) -> Result<(), DemoError> {
    for trial in 0..trials {
        pause(gap).await?;
        set_at.store_now();
        go.set();
        if !in_turns(&mut std::pin::pin!(done.wait(TRIAL_LIMIT))).await? {
            return Err(DemoError::System(format!(
                "the waiter did not answer trial {trial} within {} s",
                TRIAL_LIMIT.as_secs()
            )));
        }
        done.clear();
    }
    Ok(())
}

/// The pause before a set, so that the waiter is parked (not polled) and the runtime's
/// threads idle, as long as a thread's: slept by a thread of the blocking pool, which the main
/// flow awaits. Tokio's timer counts in whole milliseconds, and a 1 ms `tokio::time::sleep`
/// lasted about 5 ms a trial here (the deadline rounded up to the next tick, then the wait for
/// the driver's thread to wake): twice as long as a thread's whole trial, for nothing the
/// trials measure.
async fn pause(gap: Duration) -> Result<(), DemoError> {
    let mut slept = tokio::task::spawn_blocking(move || std::thread::sleep(gap));
    in_turns(&mut slept)
        .await?
        .map_err(|e| DemoError::system("pausing between trials", e))
}

/// The waiter's side (the `ops` worker; `contract::event_flag::wake_up_waiter`): `trials`
/// times, wait for `go`, note how long after the set it woke, clear `go`, set `done`.
async fn wake_up_waiter(
    go: &TaskEvent,
    done: &TaskEvent,
    set_at: &SetTime,
    trials: u32,
) -> Result<Vec<f64>, String> {
    let mut latencies_us = Vec::with_capacity(trials as usize);
    for trial in 0..trials {
        if !go.wait(TRIAL_LIMIT).await {
            return Err(format!(
                "trial {trial} was not set within {} s",
                TRIAL_LIMIT.as_secs()
            ));
        }
        latencies_us.push(set_at.seconds_since() * 1e6);
        go.clear();
        done.set();
    }
    Ok(latencies_us)
}
