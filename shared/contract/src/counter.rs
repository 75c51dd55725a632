//! `lock`'s counter: its value and the number of updates it holds, packed in one 64-bit word.
//!
//! Each update adds its delta to the value and 1 to the update count in a single store, so
//! an update that a stale store from another worker overwrites disappears from both. The
//! final count is then the number of updates that survived: without the lock, the lost
//! updates are counted exactly instead of guessed from how far the value is from 0.

use crate::demos::lock::LockOutcome;
use crate::run::{DemoError, DemoRun};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The word of a counter at 0 with no update applied.
pub const ZERO: u64 = 0;

/// Packs an update count (high 32 bits) and a value (low 32 bits, two's complement).
pub fn pack(updates: u32, value: i32) -> u64 {
    (u64::from(updates) << 32) | u64::from(value as u32)
}

/// The update count and the value of a packed word.
pub fn unpack(word: u64) -> (u32, i32) {
    ((word >> 32) as u32, word as u32 as i32)
}

/// The word after one more update of `delta`.
pub fn updated(word: u64, delta: i32) -> u64 {
    let (updates, value) = unpack(word);
    pack(updates.wrapping_add(1), value.wrapping_add(delta))
}

/// One worker's loop, the same with and without the lock: a separate load and store.
///
/// Under the lock nobody else touches the counter between the two, so every update lands.
/// Without it, another worker's updates made between this load and this store are lost,
/// which is the point of the `unlocked` variant. Both steps are atomic, so it is a race
/// on the value, never undefined behaviour. Returns the loop's duration in nanoseconds.
pub fn apply_updates(counter: &AtomicU64, delta: i32, count: u64) -> u64 {
    let started = Instant::now();
    for _ in 0..count {
        // Relaxed is enough: the lock orders the locked variant, and the unlocked one is
        // meant to race.
        let word = counter.load(Ordering::Relaxed);
        counter.store(updated(word, delta), Ordering::Relaxed);
    }
    started.elapsed().as_nanos() as u64
}

/// The `plain` variant's loop: `count` updates of a plain word, no atomic, no lock. The
/// word is the worker's own: what it is a copy of is the lesson (see `demos::lock`).
pub fn count_plain(word: &mut u64, delta: i32, count: u64) {
    for _ in 0..count {
        *word = updated(*word, delta);
    }
}

/// The `plain` variant's end: narrates what the parent's counter holds and what each worker
/// counted, and returns the variant's outcome. `own_words` are the workers' final words in
/// start order (their copies', or with `shared` what each added, packed alike).
pub fn report_plain(
    run: &DemoRun,
    shared: bool,
    parent_word: u64,
    own_words: &[u64],
    count: u64,
) -> crate::demos::lock::PlainCounter {
    let plain = crate::demos::lock::PlainCounter::from_words(
        run.kind().worker,
        shared,
        parent_word,
        own_words,
        count,
    );
    run.main_says("plain total", Some(plain.describe()));
    plain
}

/// Waits at the unlocked variant's start line until `open` is true; false after `limit`.
///
/// It spins instead of sleeping: a loop of 100,000 updates takes about 75 µs, while waking
/// sleepers costs tens of µs each, one after another, so sleeping workers would mostly run
/// their loops in turn and lose nothing. Spinners that are on a CPU start the instant the
/// line opens. (Yielding in the spin is worse: the scheduler then keeps every spinner on
/// one core as "cache-hot".) The spin lasts only while the workers are being started.
pub fn wait_at_start_line(open: &AtomicBool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !open.load(Ordering::Acquire) {
        if Instant::now() > deadline {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

/// What one variant left in the counter, read by the parent once every worker ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The final value; 0 when no update was lost.
    pub value: i64,
    /// Updates whose effect is in the final value.
    pub updates: u64,
    /// Updates overwritten by another worker's stale store.
    pub lost_updates: u64,
}

impl Tally {
    /// Reads the final word, knowing how many updates the workers made.
    pub fn from_word(word: u64, updates_made: u64) -> Self {
        let (updates, value) = unpack(word);
        let updates = u64::from(updates);
        Tally {
            value: i64::from(value),
            updates,
            lost_updates: updates_made.saturating_sub(updates),
        }
    }

    /// For the narration: `0 after 400000 updates, 0 lost`.
    pub fn describe(&self) -> String {
        format!(
            "{} after {} updates, {} lost",
            self.value, self.updates, self.lost_updates
        )
    }

    /// The tally agrees with itself: surviving plus lost updates are all the updates made,
    /// no loss means a final 0 (the deltas sum to 0), and the value is at most
    /// `max_delta` away from 0 per lost update.
    pub fn consistent(&self, updates_made: u64, max_delta: u64) -> Result<(), String> {
        if self.updates + self.lost_updates != updates_made {
            return Err(format!(
                "{} updates kept + {} lost is not the {updates_made} made",
                self.updates, self.lost_updates
            ));
        }
        if self.lost_updates == 0 && self.value != 0 {
            return Err(format!("no update lost, yet the value is {}", self.value));
        }
        if self.value.unsigned_abs() > max_delta * self.lost_updates {
            return Err(format!(
                "value {} is further from 0 than {} lost updates of at most {max_delta} allow",
                self.value, self.lost_updates
            ));
        }
        Ok(())
    }
}

/// What a worker of `lock` reports: its loop's nanoseconds, or why it did not run it
/// (the lock was poisoned by a worker that died holding it).
pub type LoopResult = Result<u64, String>;

/// Once every worker of a variant has ended: reads the final `word`, narrates it, records
/// the nanoseconds per update (all loops' time over all updates) and returns the tally.
pub fn report(
    run: &DemoRun,
    variant: &str,
    word: u64,
    loops: &[LoopResult],
    count: u64,
) -> Result<Tally, DemoError> {
    // A worker that could not run its loop although none died would be a bug: a poisoned
    // lock means a dead holder, and `join_all` reports that first.
    let nanos = loops.iter().try_fold(0, |total, result| match result {
        Ok(nanos) => Ok(total + nanos),
        Err(why) => Err(DemoError::System(format!(
            "a worker stopped, yet none died: {why}"
        ))),
    })?;
    let made = LockOutcome::updates_made(count);
    let tally = Tally::from_word(word, made);
    run.measured(
        &format!("ns_per_update_{variant}"),
        nanos as f64 / made as f64,
    );
    run.main_says(&format!("{variant} total"), Some(tally.describe()));
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_negative_values() {
        for (updates, value) in [(0, 0), (1, -4), (400_000, 300_000), (u32::MAX, i32::MIN)] {
            assert_eq!(unpack(pack(updates, value)), (updates, value));
        }
        assert_eq!(unpack(updated(pack(7, -1), -4)), (8, -5));
    }

    #[test]
    fn four_loops_in_turn_end_at_zero_with_every_update() {
        let counter = AtomicU64::new(ZERO);
        for delta in crate::demos::lock::DELTAS {
            apply_updates(&counter, delta, 1000);
        }
        let tally = Tally::from_word(counter.into_inner(), 4000);
        assert_eq!(
            tally,
            Tally {
                value: 0,
                updates: 4000,
                lost_updates: 0
            }
        );
        assert_eq!(tally.consistent(4000, 4), Ok(()));
    }

    #[test]
    fn an_overwritten_update_is_counted_as_lost() {
        let counter = AtomicU64::new(ZERO);
        // Worker A loads, worker B updates twice, A stores on top of its stale load.
        let stale = counter.load(Ordering::Relaxed);
        apply_updates(&counter, 3, 2);
        counter.store(updated(stale, 2), Ordering::Relaxed);
        apply_updates(&counter, -4, 1);
        apply_updates(&counter, -1, 1);
        // Made 5 updates (+2 +3 +3 -4 -1), kept 3 (+2 -4 -1).
        let tally = Tally::from_word(counter.into_inner(), 5);
        assert_eq!((tally.value, tally.updates, tally.lost_updates), (-3, 3, 2));
        assert_eq!(tally.consistent(5, 4), Ok(()));
    }

    #[test]
    fn inconsistent_tallies_are_caught() {
        let lost_nothing_but_off = Tally {
            value: 2,
            updates: 10,
            lost_updates: 0,
        };
        assert!(lost_nothing_but_off.consistent(10, 4).is_err());
        let too_far = Tally {
            value: 9,
            updates: 8,
            lost_updates: 2,
        };
        assert!(too_far.consistent(10, 4).is_err());
        let miscounted = Tally {
            value: 0,
            updates: 9,
            lost_updates: 0,
        };
        assert!(miscounted.consistent(10, 4).is_err());
    }

    #[test]
    fn a_tally_is_consistent_exactly_at_its_bounds() {
        let tally = |value, updates, lost_updates| Tally {
            value,
            updates,
            lost_updates,
        };
        // (tally, updates made, the largest delta) → consistent?
        for (tally, made, consistent) in [
            (tally(0, 10, 0), 10, true),
            (tally(0, 8, 2), 10, true),
            (tally(7, 8, 2), 10, true),
            // Two lost updates of at most 4 move the value by at most 8, either way.
            (tally(8, 8, 2), 10, true),
            (tally(-8, 8, 2), 10, true),
            (tally(9, 8, 2), 10, false),
            (tally(-9, 8, 2), 10, false),
            (tally(2, 10, 0), 10, false),
            (tally(0, 9, 0), 10, false),
            (tally(0, 8, 3), 10, false),
        ] {
            assert_eq!(tally.consistent(made, 4).is_ok(), consistent, "{tally:?}");
        }
        assert_eq!(tally(-3, 3, 2).describe(), "-3 after 3 updates, 2 lost");
    }

    #[test]
    fn packing_keeps_the_count_and_the_value_apart() {
        assert_eq!(pack(0, 0), ZERO);
        assert_eq!(pack(1, 0), 1 << 32);
        assert_eq!(pack(0, -1), 0xFFFF_FFFF);
        assert_eq!(pack(3, 5), (3 << 32) | 5);
        assert_eq!(unpack(0x0000_0002_FFFF_FFFE), (2, -2));
        assert_eq!(updated(ZERO, 3), pack(1, 3));
    }

    #[test]
    fn a_loop_of_updates_takes_time() {
        let counter = AtomicU64::new(ZERO);
        // 100,000 loads and stores cannot take less than a microsecond.
        let nanos = apply_updates(&counter, 1, 100_000);
        assert!(nanos > 1_000, "{nanos} ns");
        assert_eq!(unpack(counter.into_inner()), (100_000, 100_000));
    }

    #[test]
    fn the_start_line_lets_through_once_open_and_gives_up_when_it_stays_closed() {
        let open = AtomicBool::new(true);
        assert!(wait_at_start_line(&open, Duration::from_secs(10)));
        // A line that stays closed is given up on once the limit has passed, not before.
        let closed = AtomicBool::new(false);
        let limit = Duration::from_millis(5);
        let started = Instant::now();
        assert!(!wait_at_start_line(&closed, limit));
        assert!(started.elapsed() >= limit);
    }

    #[test]
    fn the_report_records_the_time_per_update_and_the_tally() {
        let run = crate::outcome::testing::demo_run(crate::demos::DemoId::Lock, Default::default());
        // Four loops of 10 updates each (count 10): 1000 ns over 40 updates.
        let loops = [Ok(100), Ok(200), Ok(300), Ok(400)];
        let word = pack(38, -3);
        let tally = report(&run, "unlocked", word, &loops, 10).unwrap();
        assert_eq!(
            tally,
            Tally {
                value: -3,
                updates: 38,
                lost_updates: 2
            }
        );
        assert_eq!(run.measured_value("ns_per_update_unlocked"), Some(25.0));
        let events = run.trace().events();
        let said: Vec<(&str, Option<&str>)> = events
            .iter()
            .map(|e| (e.what.as_str(), e.detail.as_deref()))
            .collect();
        assert_eq!(
            said,
            [("unlocked total", Some("-3 after 38 updates, 2 lost"))]
        );

        let stopped = [Ok(100), Err("poisoned".to_string())];
        assert!(report(&run, "locked", ZERO, &stopped, 10).is_err());
    }
}
