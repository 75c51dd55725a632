//! `event` (notebook §7): `flag` sets the event after 3 s and clears it 5 s later; `ops` draws
//! a number every 0.5 s while it is set.

use super::prelude::*;
use crate::event_flag::Draws;

/// The catalogue's row of `event`.
pub const ROW: Row = Row {
    id: "event",
    section: "§7",
    description: "a flag worker sets then clears an event; the ops worker draws while it is set",
    params: &[
        Param { name: "set-after", default: "3 s" },
        Param { name: "clear-after", default: "5 s" },
        Param { name: "draw-every", default: "0.5 s" },
        Param { name: "seed", default: "4" },
        Param { name: "trials", default: "200" },
    ],
    ideal_wall_s: SET_AFTER_S + CLEAR_AFTER_S,
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "wakeup_latency_us_median", label: "wake-up after a set, median", better: Better::Lower },
        Headline { key: "wakeup_latency_us_p99", label: "wake-up after a set, p99", better: Better::Lower },
        Headline { key: "ops_wait_cpu_us", label: "CPU while waiting for the set", better: Better::Lower },
    ],
    check: check_json::<EventOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event,
};

pub const FLAG: &str = "flag";
pub const OPS: &str = "ops";
pub const SET_AFTER_S: f64 = 3.0;
pub const CLEAR_AFTER_S: f64 = 5.0;
pub const DRAW_EVERY_S: f64 = 0.5;
/// Draws while the event is set: 5 s / 0.5 s, give or take the one in flight at the clear.
pub const EXPECTED_DRAWS: usize = 10;
pub const DRAW_TOLERANCE: usize = 1;
/// Draws are in `1..=DRAW_MAX`; this one is announced with `13!`.
pub const DRAW_MAX: u32 = 15;
pub const LUCKY: u32 = 13;
/// The pause before each timed set, so that the waiter is asleep when it comes.
pub const TRIAL_GAP_S: f64 = 0.001;

/// How long `ops` waits for the set before it gives up (nothing waits forever): twice
/// the scaled countdown, plus a second for a loaded machine.
pub fn wait_limit_s(scaled_set_after_s: f64) -> f64 {
    2.0 * scaled_set_after_s + 1.0
}

/// Every event but the draws and their `13!`: whether `ops` fitted 10 or 11 draws into its
/// window depends on the interleaving (the outcome checks the draws against the seed).
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let varies = event.worker == OPS && (event.what == "drew" || event.what == "13!");
    (!varies).then(|| event.key())
}

/// `event`: the order of what `flag` and `ops` did, checked without the clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub seed: u64,
    /// `ops` draws emitted before `flag` set the event (must be 0).
    pub draws_before_set: usize,
    /// The draws are the start of the sequence `--seed` gives.
    pub draws_follow_seed: bool,
    /// 10 draws, give or take one (5 s set / 0.5 s per draw).
    pub draws_about_ten: bool,
    /// Every 13 was followed by `13!`, and `13!` came after nothing else.
    pub thirteens_announced: bool,
    /// `stopped` came after `clearing`, and at most the one draw in flight came after
    /// `cleared`: no draw started once the event was clear.
    pub stopped_within_one_tick: bool,
}

impl EventOutcome {
    pub fn from_events(events: &[Event], seed: u64) -> Self {
        let position = |worker: &str, what: &str| {
            events
                .iter()
                .position(|e| e.worker == worker && e.what == what)
        };
        let set_at = position(FLAG, "countdown begun").unwrap_or(usize::MAX);
        let clearing_at = position(FLAG, "clearing");
        let cleared_at = position(FLAG, "cleared");
        let stopped_at = position(OPS, "stopped");
        let ops_events: Vec<(usize, &Event)> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.worker == OPS)
            .collect();
        let draws: Vec<(usize, u32)> = ops_events
            .iter()
            .filter(|(_, e)| e.what == "drew")
            .filter_map(|(i, e)| Some((*i, e.detail.as_deref()?.parse().ok()?)))
            .collect();
        let numbers: Vec<u32> = draws.iter().map(|(_, n)| *n).collect();
        let thirteens_announced = ops_events.windows(2).all(|pair| {
            let (_, this) = pair[0];
            let (_, next) = pair[1];
            let lucky = this.what == "drew" && this.detail.as_deref() == Some("13");
            lucky == (next.what == "13!")
        }) && ops_events.first().is_none_or(|(_, e)| e.what != "13!");
        let stopped_within_one_tick = match (clearing_at, cleared_at, stopped_at) {
            (Some(clearing), Some(cleared), Some(stopped)) if clearing < stopped => {
                draws.iter().filter(|(i, _)| *i > cleared).count() <= 1
            }
            _ => false,
        };
        EventOutcome {
            seed,
            draws_before_set: draws.iter().filter(|(i, _)| *i < set_at).count(),
            draws_follow_seed: numbers == Draws::first(seed, numbers.len()),
            draws_about_ten: numbers.len().abs_diff(EXPECTED_DRAWS) <= DRAW_TOLERANCE,
            thirteens_announced,
            stopped_within_one_tick,
        }
    }
}

impl Outcome for EventOutcome {
    fn check(&self) -> Result<(), String> {
        let problems = [
            (
                self.draws_before_set == 0,
                "ops drew before the event was set",
            ),
            (
                self.draws_follow_seed,
                "the draws are not the seeded sequence",
            ),
            (
                self.draws_about_ten,
                "ops did not draw 10 ± 1 times while the event was set",
            ),
            (
                self.thirteens_announced,
                "a 13 was not announced, or `13!` came after another number",
            ),
            (
                self.stopped_within_one_tick,
                "ops did not stop within one draw of the clear",
            ),
        ];
        match problems.iter().find(|(ok, _)| !ok) {
            Some((_, problem)) => Err(problem.to_string()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::testing::{event, said};
    fn event_run(seed: u64, draws: usize) -> Vec<Event> {
        let mut events = vec![
            said(0.0, "flag", "counting down", "3 s"),
            said(0.0, "ops", "waiting", "for the event"),
            said(3.0, "flag", "countdown begun", "set for 5 s"),
        ];
        for (k, number) in Draws::first(seed, draws).into_iter().enumerate() {
            events.push(said(
                3.5 + k as f64 * 0.5,
                "ops",
                "drew",
                &number.to_string(),
            ));
            if number == 13 {
                events.push(event(3.5 + k as f64 * 0.5, "ops", "13!"));
            }
        }
        let clear = 8.0;
        events.push(event(clear, "flag", "clearing"));
        events.push(event(clear, "flag", "cleared"));
        events.push(event(clear + 0.6, "ops", "stopped"));
        events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        events
    }

    #[test]
    fn event_checks_order_count_and_draws() {
        let seed = 7;
        assert_eq!(
            EventOutcome::from_events(&event_run(seed, 10), seed).check(),
            Ok(())
        );
        assert_eq!(
            EventOutcome::from_events(&event_run(seed, 11), seed).check(),
            Ok(())
        );
        assert!(
            EventOutcome::from_events(&event_run(seed, 13), seed)
                .check()
                .is_err()
        );
        assert!(
            EventOutcome::from_events(&event_run(seed, 10), seed + 1)
                .check()
                .is_err()
        );

        let mut early = event_run(seed, 10);
        let first_draw = early.iter().position(|e| e.what == "drew").unwrap();
        early[first_draw].t_s = 1.0;
        early.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        assert_eq!(EventOutcome::from_events(&early, seed).draws_before_set, 1);

        let mut never_stopped = event_run(seed, 10);
        never_stopped.retain(|e| e.what != "stopped");
        assert!(!EventOutcome::from_events(&never_stopped, seed).stopped_within_one_tick);

        // Two draws after `cleared`: ops started one although the event was clear.
        let mut kept_drawing = event_run(seed, 10);
        let cleared = kept_drawing
            .iter()
            .position(|e| e.what == "cleared")
            .unwrap();
        kept_drawing[cleared].t_s = 7.2;
        kept_drawing.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        assert!(!EventOutcome::from_events(&kept_drawing, seed).stopped_within_one_tick);

        let mut silent = event_run(seed, 10);
        silent.retain(|e| e.what != "13!");
        let has_thirteen = Draws::first(seed, 10).contains(&13);
        assert_eq!(
            EventOutcome::from_events(&silent, seed).thirteens_announced,
            !has_thirteen
        );
    }

}

