//! `join` (notebook §2): five sleepers (or `--workers N`) started, then all joined.

use super::prelude::*;

/// The catalogue's row of `join`.
pub const ROW: Row = Row {
    id: "join",
    section: "§2",
    description: "start five workers (--workers N), then join them all: the sleeps overlap",
    params: &[
        Param { name: "workers", default: "5" },
        Param { name: "sleep", default: "5 s" },
    ],
    ideal_wall_s: SLEEP_S,
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[],
    check: check_json::<JoinOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event: same_events,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["workers", "scale"];

pub const WORKERS: usize = 5;

/// How many sleepers this run starts: `--workers`, or five as in the notebook.
pub fn workers(run: &crate::DemoRun) -> usize {
    run.options().workers.unwrap_or(WORKERS)
}
pub const SLEEP_S: f64 = 5.0;

/// Worker names `t0`…`t4`, as in the notebook.
pub fn worker_name(index: usize) -> String {
    format!("t{index}")
}

/// `join`: who finished, and whether the sleeps overlapped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinOutcome {
    /// How many workers were started.
    pub workers: usize,
    /// Workers that emitted `finished`, sorted.
    pub finished: Vec<String>,
    /// Every worker was sleeping before the first one finished.
    pub overlapped: bool,
}

impl JoinOutcome {
    pub fn from_events(workers: usize, events: &[Event]) -> Self {
        JoinOutcome {
            workers,
            finished: sorted_workers_that(events, "finished"),
            overlapped: sleeps_overlapped(events),
        }
    }
}

impl Outcome for JoinOutcome {
    fn check(&self) -> Result<(), String> {
        if self.workers == 0 {
            return Err("no worker was started".to_string());
        }
        let expected: Vec<String> = sorted((0..self.workers).map(worker_name));
        if self.finished != expected {
            return Err(format!(
                "finished {:?}, expected {:?}",
                self.finished, expected
            ));
        }
        if !self.overlapped {
            return Err("a worker finished before all had started sleeping".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::testing::event;
    #[test]
    fn join_sees_sequential_sleeps() {
        let mut events = Vec::new();
        for i in 0..5 {
            let name = format!("t{i}");
            events.push(event(i as f64, &name, "sleeping"));
            events.push(event(i as f64 + 0.5, &name, "finished"));
        }
        let outcome = JoinOutcome::from_events(5, &events);
        assert_eq!(outcome.finished.len(), 5);
        assert!(!outcome.overlapped);
        assert!(outcome.check().is_err());
    }

}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::event;

    fn five_sleeps_at_once() -> Vec<Event> {
        let mut events: Vec<Event> = (0..5)
            .map(|i| event(0.1 * f64::from(i), &format!("t{i}"), "sleeping"))
            .collect();
        events
            .extend((0..5).map(|i| event(5.0 + 0.1 * f64::from(i), &format!("t{i}"), "finished")));
        events
    }

    #[test]
    fn join_wants_five_overlapping_sleeps() {
        let outcome = JoinOutcome::from_events(5, &five_sleeps_at_once());
        assert_eq!(
            outcome,
            JoinOutcome {
                workers: 5,
                finished: vec![
                    "t0".into(),
                    "t1".into(),
                    "t2".into(),
                    "t3".into(),
                    "t4".into()
                ],
                overlapped: true,
            }
        );
        assert_eq!(outcome.check(), Ok(()));
        let mut four = five_sleeps_at_once();
        four.retain(|e| !(e.worker == "t3" && e.what == "finished"));
        assert!(JoinOutcome::from_events(5, &four).check().is_err());
        // The same five sleeps checked against three or six workers: wrong either way.
        assert!(JoinOutcome::from_events(6, &five_sleeps_at_once()).check().is_err());
        assert!(JoinOutcome::from_events(3, &five_sleeps_at_once()).check().is_err());
        assert!(JoinOutcome::from_events(0, &[]).check().is_err());
    }
}
