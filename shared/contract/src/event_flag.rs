//! `event`'s workers, its seeded draws and its wake-up trials, written once for both backends.
//!
//! A backend supplies only the event, behind [`EventFlag`]: in `threads` a flag under a
//! mutex with a condition variable, in `processes` a word in a shared mapping with a
//! process-shared futex.

use crate::demos::event::{DRAW_MAX, LUCKY};
use crate::interrupt;
use crate::run::DemoError;
use crate::trace::{EventSink, format_seconds, monotonic_ns};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Python's `threading.Event`: a flag that workers set, clear and wait for.
pub trait EventFlag {
    /// Sets the flag and wakes every waiter.
    fn set(&self);
    fn clear(&self);
    fn is_set(&self) -> bool;
    /// Blocks until the flag is set, at most `timeout`, without using the CPU. Returns true
    /// if it is set, or was set since the wait began, even if a clear has followed (as
    /// Python's `Event.wait()`: a waiter woken by a set is not sent back to sleep by a
    /// clear that came before it ran); false once `timeout` has passed without a set.
    fn wait(&self, timeout: Duration) -> bool;
}

/// The numbers `ops` draws: SplitMix64 from `--seed`, mapped to `1..=15`. Deterministic, so
/// both backends draw the same sequence.
#[derive(Clone, Debug)]
pub struct Draws {
    state: u64,
}

impl Draws {
    pub fn new(seed: u64) -> Self {
        Draws { state: seed }
    }

    /// The first `n` draws of `seed`.
    pub fn first(seed: u64, n: usize) -> Vec<u32> {
        let mut draws = Draws::new(seed);
        (0..n).map(|_| draws.next_draw()).collect()
    }

    /// The next number in `1..=15`.
    pub fn next_draw(&mut self) -> u32 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // Widening multiply: an unbiased-enough map of 64 random bits onto 1..=15.
        ((u128::from(z) * u128::from(DRAW_MAX)) >> 64) as u32 + 1
    }
}

/// The notebook's `flag`: after `set_after` sets the event, after `clear_after` more clears it.
///
/// `countdown begun` is emitted just *before* the set, so that every draw comes after it in
/// the trace. The clear is bracketed by `clearing` and `cleared`: `ops` stops after
/// `clearing`, and at most the one draw it had in flight comes after `cleared`.
pub fn flag(out: &dyn EventSink, event: &dyn EventFlag, set_after: f64, clear_after: f64) {
    out.emit(
        "counting down",
        Some(format!("{} s", format_seconds(set_after))),
    );
    std::thread::sleep(Duration::from_secs_f64(set_after));
    out.emit(
        "countdown begun",
        Some(format!("set for {} s", format_seconds(clear_after))),
    );
    event.set();
    std::thread::sleep(Duration::from_secs_f64(clear_after));
    out.emit("clearing", None);
    event.clear();
    out.emit("cleared", None);
}

/// What `ops` did: its draws, and what its wait for the set cost it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpsReport {
    pub draws: Vec<u32>,
    /// CPU time this worker used while blocked in the wait (its own thread's clock).
    pub wait_cpu_us: f64,
    /// Wall time of that wait.
    pub wait_wall_us: f64,
}

/// The notebook's `start_operations`: waits for the event, then draws one number per
/// `draw_every` while it stays set, announcing 13s, and says `stopped` once it is cleared.
///
/// The draws keep to a fixed schedule from the wake-up (not sleep after sleep), so that
/// sleeping late once does not push every later check back.
pub fn ops(
    out: &dyn EventSink,
    event: &dyn EventFlag,
    seed: u64,
    draw_every: f64,
    wait_limit: f64,
) -> Result<OpsReport, String> {
    out.emit("waiting", Some("for the event".into()));
    let cpu_before = thread_cpu_time();
    let wall_before = Instant::now();
    if !event.wait(Duration::from_secs_f64(wait_limit)) {
        out.emit(
            "gave up",
            Some(format!("after {} s", format_seconds(wait_limit))),
        );
        return Err(format!("the event was not set within {wait_limit} s"));
    }
    let woke = Instant::now();
    let mut report = OpsReport {
        wait_cpu_us: (thread_cpu_time() - cpu_before).as_secs_f64() * 1e6,
        wait_wall_us: (woke - wall_before).as_secs_f64() * 1e6,
        draws: Vec::new(),
    };
    let mut draws = Draws::new(seed);
    let tick = Duration::from_secs_f64(draw_every);
    while event.is_set() {
        let number = draws.next_draw();
        report.draws.push(number);
        let due = woke + tick * report.draws.len() as u32;
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        out.emit("drew", Some(number.to_string()));
        if number == LUCKY {
            out.emit("13!", None);
        }
    }
    out.emit("stopped", Some("the event was cleared".into()));
    Ok(report)
}

/// The CPU time used so far by the calling thread (in a single-threaded child: the process).
pub fn thread_cpu_time() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

/// The memory the two sides of the wake-up trials share: when `go` was set, on the
/// system-wide monotonic clock, which every process of the run reads alike.
#[derive(Debug, Default)]
pub struct SetTime {
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

/// The setter's side of the wake-up trials (the main flow): `trials` times, pause so that
/// the waiter is asleep, note the time, set `go`, then wait for `done` and clear it. The main
/// flow's pauses and waits go in turns (see [`crate::interrupt`]): Ctrl-C or SIGTERM ends the
/// trials within a turn, with [`DemoError::Interrupted`].
pub fn wake_up_setter(
    go: &dyn EventFlag,
    done: &dyn EventFlag,
    set_at: &SetTime,
    trials: u32,
    gap: Duration,
) -> Result<(), DemoError> {
    for trial in 0..trials {
        interrupt::sleep(gap)?;
        set_at.store_now();
        go.set();
        let answered = interrupt::wait(Some(TRIAL_LIMIT), |turn| done.wait(turn).then_some(()))?;
        if answered.is_none() {
            return Err(DemoError::System(format!(
                "the waiter did not answer trial {trial} within {} s",
                TRIAL_LIMIT.as_secs()
            )));
        }
        done.clear();
    }
    Ok(())
}

/// The waiter's side (the `ops` worker): `trials` times, wait for `go`, note how long after
/// the set it woke, clear `go`, set `done`. Returns the latencies in microseconds.
pub fn wake_up_waiter(
    go: &dyn EventFlag,
    done: &dyn EventFlag,
    set_at: &SetTime,
    trials: u32,
) -> Result<Vec<f64>, String> {
    let mut latencies_us = Vec::with_capacity(trials as usize);
    for trial in 0..trials {
        if !go.wait(TRIAL_LIMIT) {
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

/// How long either side of a trial waits for the other before it gives up.
const TRIAL_LIMIT: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_in_range_and_repeat_with_the_seed() {
        let draws = Draws::first(7, 1000);
        assert!(draws.iter().all(|n| (1..=DRAW_MAX).contains(n)));
        assert_eq!(draws, Draws::first(7, 1000));
        assert_ne!(draws[..20], Draws::first(8, 20)[..]);
        // Every value turns up.
        for value in 1..=DRAW_MAX {
            assert!(draws.contains(&value), "{value} never drawn");
        }
    }
}
