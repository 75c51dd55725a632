//! `lock` (notebook §5): four workers apply +2, +3, −4, −1 to one counter, `--count` times each.
//!
//! Three variants: `locked` (the notebook's `with lock:` around each loop), `unlocked` (the
//! same loop without it: updates are lost), and `plain`, the newcomer's mistake: a plain
//! counter, no atomic, no lock, no shared memory. What happens to it is the lesson, and it
//! depends on what a worker is:
//!
//! - Python's threads share a plain global: the parent sees the workers' total, with lost
//!   updates possible (`shared`).
//! - A worker process has its own memory: each child counts in its own copy, and the parent's
//!   counter stays 0 (Python's `global x` in a `multiprocessing` worker, Rust's value in a job).
//! - Rust's threads are not allowed to share it: two threads holding `&mut counter` do not
//!   compile (the `threads` crate's doctests keep that refused). What compiles is a `move` of
//!   the `Copy` counter into each thread, which gives each thread its own copy too.

use super::prelude::*;
use crate::counter::Tally;

/// The catalogue's row of `lock`.
pub const ROW: Row = Row {
    id: "lock",
    section: "§5",
    description: "four workers update one shared counter, with one lock around each loop, without, \
                  and as a plain variable",
    params: &[
        Param { name: "workers", default: "4" },
        Param { name: "deltas", default: "+2 +3 -4 -1" },
        Param { name: "count", default: "100000" },
    ],
    ideal_wall_s: 0.0,
    default_count: Some(DEFAULT_COUNT),
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "ns_per_update_locked", label: "one update under the lock", better: Better::Lower },
        Headline { key: "ns_per_update_unlocked", label: "one update without it", better: Better::Lower },
    ],
    check: check_json::<LockOutcome>,
    comparable_outcome,
    comparable_event,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["count"];

/// What each worker adds, in start order: the sum is 0, so the final value must be 0.
pub const DELTAS: [i32; 4] = [2, 3, -4, -1];
/// Updates per worker (`--count`), as in the notebook.
pub const DEFAULT_COUNT: u64 = 100_000;
/// How long an unlocked worker waits at the start line before it gives up.
pub const START_LINE_LIMIT_S: f64 = 10.0;

/// Worker names `t1`…`t4`, as in the notebook.
pub fn worker_name(index: usize) -> String {
    format!("t{}", index + 1)
}

/// The part of the outcome two correct runs must agree on: all but the unlocked counter,
/// whose lost updates depend on the interleaving, and of the plain counter only each
/// worker's own count: whether the workers shared it depends on the language (Python's
/// threads do), and a shared one loses updates as the unlocked one does.
fn comparable_outcome(outcome: &serde_json::Value) -> serde_json::Value {
    let mut outcome = outcome.clone();
    if let Some(fields) = outcome.as_object_mut() {
        fields.remove("unlocked");
        if let Some(plain) = fields.get_mut("plain") {
            *plain = serde_json::json!({ "own_counts": plain.get("own_counts") });
        }
    }
    outcome
}

/// Every event but the unlocked and plain totals, which depend on the interleaving and, for
/// the plain one, on the language.
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let varies = event.worker == MAIN && ["unlocked total", "plain total"].contains(&event.what.as_str());
    (!varies).then(|| event.key())
}

/// `lock`: what each variant left in the counter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockOutcome {
    /// Updates each worker made (`--count`).
    pub count: u64,
    /// One lock around each worker's loop: 0, with every update kept.
    pub locked: Tally,
    /// No lock: whatever the interleaving left. Never checked equal to anything, and left
    /// out when the two backends' outcomes are compared; only checked to agree with itself.
    pub unlocked: Tally,
    /// A plain counter: where the updates went.
    pub plain: PlainCounter,
}

/// The `plain` variant: four workers update a plain counter of the parent's (no atomic, no
/// lock, no shared memory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainCounter {
    /// What the backend's workers are: a process cannot share a plain counter. The harness
    /// holds it to the kind the backend declared.
    pub worker: crate::domain::WorkerKind,
    /// The workers updated one counter they all reach (Python's threads and a global) rather
    /// than each its own copy.
    pub shared: bool,
    /// The parent's counter once every worker ended: untouched (0 after 0 updates) when
    /// each worker had its own copy.
    pub parent: Tally,
    /// Each worker's own count at its end, in start order: its copy's value, or, for a
    /// shared counter, what it added as it tallied it itself.
    pub own_counts: Vec<i64>,
}

impl PlainCounter {
    /// Each worker's own count when none is lost: its delta times `count`.
    pub fn expected_own_counts(count: u64) -> Vec<i64> {
        DELTAS
            .iter()
            .map(|&delta| i64::from(delta) * count as i64)
            .collect()
    }

    /// The variant as the parent saw it: its own counter's final word, and each worker's
    /// copy's final word (or, with `shared`, what each added), in start order.
    pub fn from_words(
        worker: crate::domain::WorkerKind,
        shared: bool,
        parent_word: u64,
        own_words: &[u64],
        count: u64,
    ) -> Self {
        PlainCounter {
            worker,
            shared,
            parent: Tally::from_word(parent_word, LockOutcome::updates_made(count)),
            own_counts: own_words
                .iter()
                .map(|&word| i64::from(crate::counter::unpack(word).1))
                .collect(),
        }
    }

    /// The main flow's line: the parent's counter, and each worker's own count.
    pub fn describe(&self) -> String {
        let own: Vec<String> = self
            .own_counts
            .iter()
            .enumerate()
            .map(|(index, own)| format!("{} {own:+}", worker_name(index)))
            .collect();
        if self.shared {
            format!(
                "{}: one counter every worker updated, without a lock (they added {})",
                self.parent.describe(),
                own.join(", ")
            )
        } else {
            format!(
                "{} after {} updates: the parent's counter was never touched; each worker \
                 counted in its own copy ({})",
                self.parent.value,
                self.parent.updates,
                own.join(", ")
            )
        }
    }

    fn check(&self, count: u64) -> Result<(), String> {
        let expected = Self::expected_own_counts(count);
        if self.own_counts != expected {
            return Err(format!(
                "the workers' own counts are {:?}, expected {expected:?}",
                self.own_counts
            ));
        }
        let made = LockOutcome::updates_made(count);
        match (self.worker, self.shared) {
            (crate::domain::WorkerKind::Process, true) => Err(
                "a plain counter cannot be shared between processes: each has its own memory"
                    .into(),
            ),
            (_, true) => self.parent.consistent(made, LockOutcome::max_delta()),
            (_, false) => {
                let untouched = Tally {
                    value: 0,
                    updates: 0,
                    lost_updates: made,
                };
                if self.parent == untouched {
                    Ok(())
                } else {
                    Err(format!(
                        "the parent's counter is {:?}, expected it untouched ({untouched:?}): \
                         each worker had its own copy",
                        self.parent
                    ))
                }
            }
        }
    }
}

impl LockOutcome {
    /// The largest amount one update moves the counter by.
    pub fn max_delta() -> u64 {
        DELTAS
            .iter()
            .map(|d| d.unsigned_abs())
            .max()
            .map_or(0, u64::from)
    }

    /// Updates made by all the workers together.
    pub fn updates_made(count: u64) -> u64 {
        count * DELTAS.len() as u64
    }
}

impl Outcome for LockOutcome {
    fn check(&self) -> Result<(), String> {
        let made = Self::updates_made(self.count);
        let expected = Tally {
            value: 0,
            updates: made,
            lost_updates: 0,
        };
        if self.locked != expected {
            return Err(format!(
                "locked counter {:?}, expected {expected:?}",
                self.locked
            ));
        }
        self.unlocked
            .consistent(made, Self::max_delta())
            .map_err(|problem| format!("unlocked counter: {problem}"))?;
        self.plain
            .check(self.count)
            .map_err(|problem| format!("plain counter: {problem}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WorkerKind;

    /// The plain variant as a process or a Rust thread does it: each worker its own copy.
    pub(super) fn copies(count: u64) -> PlainCounter {
        let own: Vec<u64> = DELTAS
            .iter()
            .map(|&delta| {
                let mut copy = crate::counter::ZERO;
                crate::counter::count_plain(&mut copy, delta, count);
                copy
            })
            .collect();
        PlainCounter::from_words(WorkerKind::Process, false, crate::counter::ZERO, &own, count)
    }

    #[test]
    fn the_plain_counter_stays_zero_in_the_parent_unless_the_language_shares_it() {
        let plain = copies(10);
        assert_eq!(plain.own_counts, [20, 30, -40, -10]);
        assert_eq!(plain.check(10), Ok(()));
        assert_eq!(
            plain.describe(),
            "0 after 0 updates: the parent's counter was never touched; each worker counted in \
             its own copy (t1 +20, t2 +30, t3 -40, t4 -10)"
        );
        // A parent that saw the updates, from workers that say they had their own copies.
        let touched = PlainCounter {
            parent: Tally::from_word(crate::counter::pack(40, 0), 40),
            ..plain.clone()
        };
        assert!(touched.check(10).unwrap_err().contains("expected it untouched"));
        // Processes cannot share one; threads (Python's) can, and may lose updates.
        let shared = PlainCounter {
            shared: true,
            parent: Tally::from_word(crate::counter::pack(38, -3), 40),
            ..plain.clone()
        };
        assert!(shared.check(10).unwrap_err().contains("cannot be shared between processes"));
        let python_threads = PlainCounter {
            worker: WorkerKind::Thread,
            ..shared
        };
        assert_eq!(python_threads.check(10), Ok(()));
        let inconsistent = PlainCounter {
            parent: Tally::from_word(crate::counter::pack(38, 9), 40),
            ..python_threads
        };
        assert!(inconsistent.check(10).is_err());
        // A worker that counted something else.
        let mut wrong = plain;
        wrong.own_counts[2] = -39;
        assert!(wrong.check(10).unwrap_err().contains("own counts"));
    }

    #[test]
    fn lock_wants_zero_with_every_update_kept() {
        let all_kept = Tally {
            value: 0,
            updates: 40,
            lost_updates: 0,
        };
        let some_lost = Tally {
            value: -3,
            updates: 38,
            lost_updates: 2,
        };
        let outcome = LockOutcome {
            count: 10,
            locked: all_kept,
            unlocked: some_lost,
            plain: copies(10),
        };
        assert_eq!(outcome.check(), Ok(()));
        // A private copy of the counter in each worker: the parent's stays at 0, untouched.
        let untouched = Tally {
            value: 0,
            updates: 0,
            lost_updates: 40,
        };
        assert!(
            LockOutcome {
                locked: untouched,
                ..outcome.clone()
            }
            .check()
            .is_err()
        );
        let inconsistent = Tally {
            value: 9,
            ..some_lost
        };
        assert!(
            LockOutcome {
                unlocked: inconsistent,
                ..outcome
            }
            .check()
            .is_err()
        );
    }

}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::said;

    fn outcome(locked: Tally) -> LockOutcome {
        LockOutcome {
            count: 10,
            locked,
            unlocked: Tally {
                value: -3,
                updates: 38,
                lost_updates: 2,
            },
            plain: super::tests::copies(10),
        }
    }

    #[test]
    fn the_locked_counter_must_end_at_zero_with_every_update_kept() {
        let right = Tally {
            value: 0,
            updates: 40,
            lost_updates: 0,
        };
        assert_eq!(outcome(right).check(), Ok(()));
        // Every update counted, but the final value is wrong.
        let wrong_value = Tally { value: 4, ..right };
        assert_eq!(
            outcome(wrong_value).check(),
            Err(
                "locked counter Tally { value: 4, updates: 40, lost_updates: 0 }, expected \
                 Tally { value: 0, updates: 40, lost_updates: 0 }"
                    .to_string()
            )
        );
        // A lost update under the lock, however consistent the tally is with itself.
        let lost_one = Tally {
            value: 2,
            updates: 39,
            lost_updates: 1,
        };
        assert!(outcome(lost_one).check().is_err());
        assert_eq!(LockOutcome::updates_made(10), 40);
        assert_eq!(LockOutcome::max_delta(), 4);
        assert_eq!(worker_name(0), "t1");
    }

    #[test]
    fn lock_compares_everything_but_the_unlocked_counter() {
        let value = serde_json::to_value(outcome(Tally {
            value: 0,
            updates: 40,
            lost_updates: 0,
        }))
        .unwrap();
        assert_eq!(
            comparable_outcome(&value),
            serde_json::json!({
                "count": 10,
                "locked": {"value": 0, "updates": 40, "lost_updates": 0},
                "plain": {"own_counts": [20, 30, -40, -10]},
            })
        );
        // Python's threads share the plain counter: only the own counts are compared.
        let mut shared = value.clone();
        shared["plain"]["shared"] = serde_json::json!(true);
        shared["plain"]["parent"] = serde_json::json!({"value": -3, "updates": 38, "lost_updates": 2});
        assert_eq!(comparable_outcome(&shared), comparable_outcome(&value));
        let total =
            |worker: &str, what: &str| said(1.0, worker, what, "0 after 40 updates, 0 lost");
        assert_eq!(comparable_event(&total(MAIN, "unlocked total")), None);
        assert_eq!(comparable_event(&total(MAIN, "plain total")), None);
        for kept in [total(MAIN, "locked total"), total("t1", "unlocked total")] {
            assert_eq!(comparable_event(&kept), Some(kept.key()));
        }
    }
}
