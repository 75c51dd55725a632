//! `lock` (notebook §5): four workers apply +2, +3, −4, −1 to one counter, `--count` times each.

use super::prelude::*;
use crate::counter::Tally;

/// The catalogue's row of `lock`.
pub const ROW: Row = Row {
    id: "lock",
    section: "§5",
    description: "four workers update one shared counter, with one lock around each loop and without",
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
/// whose lost updates depend on the interleaving.
fn comparable_outcome(outcome: &serde_json::Value) -> serde_json::Value {
    let mut outcome = outcome.clone();
    if let Some(fields) = outcome.as_object_mut() {
        fields.remove("unlocked");
    }
    outcome
}

/// Every event but the unlocked total, which depends on the interleaving.
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let varies = event.worker == MAIN && event.what == "unlocked total";
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
            .map_err(|problem| format!("unlocked counter: {problem}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            })
        );
        let total =
            |worker: &str, what: &str| said(1.0, worker, what, "0 after 40 updates, 0 lost");
        assert_eq!(comparable_event(&total(MAIN, "unlocked total")), None);
        for kept in [total(MAIN, "locked total"), total("t1", "unlocked total")] {
            assert_eq!(comparable_event(&kept), Some(kept.key()));
        }
    }
}
