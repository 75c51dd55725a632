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

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["trials", "scale"];

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

/// The headline figures of the wake-up trials, from their latencies in microseconds: the
/// median and the p99 (0 for no trial).
pub fn wakeup_figures(latencies_us: &[f64]) -> [(&'static str, f64); 2] {
    use crate::report::{median, percentile};
    [
        (
            "wakeup_latency_us_median",
            median(latencies_us).unwrap_or(0.0),
        ),
        (
            "wakeup_latency_us_p99",
            percentile(latencies_us, 99.0).unwrap_or(0.0),
        ),
    ]
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
        // A 13 left unannounced: see `a_thirteen_is_announced_right_after_it_and_nothing_else_is`
        // (seed 7 draws no 13 in its first ten).
    }

}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::{event, said};

    /// A run of `event` as it should go, with `draws` draws of `seed`, each 13 announced.
    fn run(seed: u64, draws: usize) -> Vec<Event> {
        let mut events = vec![
            said(0.0, FLAG, "counting down", "3 s"),
            said(0.0, OPS, "waiting", "for the event"),
            said(3.0, FLAG, "countdown begun", "set for 5 s"),
        ];
        for number in Draws::first(seed, draws) {
            events.push(said(3.5, OPS, "drew", &number.to_string()));
            if number == LUCKY {
                events.push(event(3.5, OPS, "13!"));
            }
        }
        events.push(event(8.0, FLAG, "clearing"));
        events.push(event(8.0, FLAG, "cleared"));
        events.push(said(8.5, OPS, "stopped", "the event was cleared"));
        events
    }

    /// Seed 4 draws 7, 14, 13, …: its third draw is announced.
    const SEED: u64 = 4;

    #[test]
    fn the_outcome_of_a_run_as_it_should_go() {
        assert_eq!(Draws::first(SEED, 3), [7, 14, 13]);
        let outcome = EventOutcome::from_events(&run(SEED, 10), SEED);
        assert_eq!(
            outcome,
            EventOutcome {
                seed: SEED,
                draws_before_set: 0,
                draws_follow_seed: true,
                draws_about_ten: true,
                thirteens_announced: true,
                stopped_within_one_tick: true,
            }
        );
        assert_eq!(outcome.check(), Ok(()));
    }

    #[test]
    fn ten_draws_give_or_take_one_and_no_more() {
        for (draws, about_ten) in [(8, false), (9, true), (10, true), (11, true), (12, false)] {
            let outcome = EventOutcome::from_events(&run(SEED, draws), SEED);
            assert_eq!(outcome.draws_about_ten, about_ten, "{draws} draws");
            assert_eq!(outcome.check().is_ok(), about_ten, "{draws} draws");
        }
    }

    #[test]
    fn a_thirteen_is_announced_right_after_it_and_nothing_else_is() {
        let announced =
            |events: &[Event]| EventOutcome::from_events(events, SEED).thirteens_announced;
        let lucky = run(SEED, 10).iter().position(|e| e.what == "13!").unwrap();
        // The 13 drawn, then nothing said.
        let mut silent = run(SEED, 10);
        silent.remove(lucky);
        assert!(!announced(&silent));
        // `13!` after a 7.
        let mut after_seven = run(SEED, 10);
        after_seven.insert(4, event(3.5, OPS, "13!"));
        assert!(!announced(&after_seven));
        // `13!` twice for one 13.
        let mut twice = run(SEED, 10);
        twice.insert(lucky, event(3.5, OPS, "13!"));
        assert!(!announced(&twice));
        // `13!` as the first thing ops says.
        let mut first = run(SEED, 10);
        first.insert(0, event(0.0, OPS, "13!"));
        assert!(!announced(&first));
        // Another worker's events between a 13 and its `13!` do not matter.
        let mut interleaved = run(SEED, 10);
        interleaved.insert(lucky, event(3.5, FLAG, "13!"));
        assert!(announced(&interleaved));
        assert_eq!(
            EventOutcome::from_events(&silent, SEED).check(),
            Err("a 13 was not announced, or `13!` came after another number".into())
        );
    }

    #[test]
    fn draws_must_come_after_the_set_and_stop_at_the_clear() {
        // No countdown at all: every draw came before a set.
        let mut never_set = run(SEED, 10);
        never_set.retain(|e| e.what != "countdown begun");
        assert_eq!(
            EventOutcome::from_events(&never_set, SEED).draws_before_set,
            10
        );
        // ops stopped before the flag began to clear.
        let mut stopped_early = run(SEED, 10);
        let stopped = stopped_early.pop().unwrap();
        let clearing = stopped_early
            .iter()
            .position(|e| e.what == "clearing")
            .unwrap();
        stopped_early.insert(clearing, stopped);
        assert!(!EventOutcome::from_events(&stopped_early, SEED).stopped_within_one_tick);
        // One draw after `cleared` is the one in flight; two are one too many.
        let cleared_then = |draws_after: usize| {
            let mut events = run(SEED, 10);
            for _ in 0..draws_after {
                let clearing = events.iter().position(|e| e.what == "clearing").unwrap();
                let last_draw = events.remove(clearing - 1);
                let cleared = events.iter().position(|e| e.what == "cleared").unwrap();
                events.insert(cleared + 1, last_draw);
            }
            EventOutcome::from_events(&events, SEED).stopped_within_one_tick
        };
        assert!(cleared_then(0));
        assert!(cleared_then(1));
        assert!(!cleared_then(2));
        // Draws of another seed.
        assert!(!EventOutcome::from_events(&run(SEED + 1, 10), SEED).draws_follow_seed);
        let wrong = EventOutcome {
            draws_before_set: 1,
            ..EventOutcome::from_events(&run(SEED, 10), SEED)
        };
        assert_eq!(
            wrong.check(),
            Err("ops drew before the event was set".into())
        );
    }

    #[test]
    fn only_the_draws_and_their_announcements_are_left_out_of_the_comparison() {
        for (worker, what, compared) in [
            (OPS, "drew", false),
            (OPS, "13!", false),
            (OPS, "waiting", true),
            (FLAG, "drew", true),
            (FLAG, "13!", true),
            (MAIN, "clearing", true),
        ] {
            let e = event(1.0, worker, what);
            assert_eq!(comparable_event(&e).is_some(), compared, "{worker} {what}");
        }
    }

    #[test]
    fn the_timings_of_the_demo() {
        assert_eq!(wait_limit_s(3.0), 7.0);
        assert_eq!(wait_limit_s(0.5), 2.0);
        assert_eq!(ROW.ideal_wall_s, 8.0, "set after 3 s, cleared 5 s later");
    }

    #[test]
    fn the_wakeup_figures_are_the_median_and_the_p99() {
        // 1 … 200 µs in a scrambled order: the median is 100.5, the p99 the 198th smallest.
        let latencies: Vec<f64> = (0..200).map(|i| f64::from((i * 77) % 200 + 1)).collect();
        assert_eq!(
            wakeup_figures(&latencies),
            [
                ("wakeup_latency_us_median", 100.5),
                ("wakeup_latency_us_p99", 198.0)
            ]
        );
        assert_eq!(
            wakeup_figures(&[]),
            [
                ("wakeup_latency_us_median", 0.0),
                ("wakeup_latency_us_p99", 0.0)
            ]
        );
    }

    /// An event that is set at once and stays set for `set_for` looks at it.
    struct SetFor {
        looks: std::sync::atomic::AtomicUsize,
        set_for: usize,
    }

    impl crate::event_flag::EventFlag for SetFor {
        fn set(&self) {}
        fn clear(&self) {}
        fn is_set(&self) -> bool {
            let looked = self
                .looks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            looked < self.set_for
        }
        fn wait(&self, _: std::time::Duration) -> bool {
            true
        }
    }

    /// Records every event as `what detail`.
    #[derive(Default)]
    struct Said(std::cell::RefCell<Vec<String>>);

    impl crate::trace::EventSink for Said {
        fn worker(&self) -> &str {
            OPS
        }
        fn emit(&self, what: &str, detail: Option<String>) {
            self.0.borrow_mut().push(match detail {
                Some(detail) => format!("{what} {detail}"),
                None => what.to_string(),
            });
        }
    }

    #[test]
    fn ops_draws_on_its_schedule_asleep_between_draws() {
        use crate::event_flag::{ops, thread_cpu_time};
        let event = SetFor {
            looks: Default::default(),
            set_for: 5,
        };
        let out = Said::default();
        let tick = 0.02;
        let cpu_before = thread_cpu_time();
        let started = std::time::Instant::now();
        let report = ops(&out, &event, SEED, tick, 1.0).unwrap();
        let wall = started.elapsed();
        let cpu = thread_cpu_time() - cpu_before;
        assert_eq!(report.draws, [7, 14, 13, 8, 6]);
        assert_eq!(
            *out.0.borrow(),
            [
                "waiting for the event",
                "drew 7",
                "drew 14",
                "drew 13",
                "13!",
                "drew 8",
                "drew 6",
                "stopped the event was cleared"
            ]
        );
        // The fifth draw is due five ticks after the wake-up: a sleep never ends early.
        assert!(
            wall >= std::time::Duration::from_secs_f64(5.0 * tick),
            "{wall:?}"
        );
        // Asleep between draws, not spinning: a spin would use about as much CPU as wall time.
        assert!(cpu < wall / 4, "{cpu:?} of CPU in {wall:?}");
    }
}
