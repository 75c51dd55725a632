//! `start` (notebook §1): one worker sleeps while the main flow says hello twice.

use super::prelude::*;

/// The catalogue's row of `start`.
pub const ROW: Row = Row {
    id: "start",
    section: "§1",
    description: "start one worker; the main flow goes on while it sleeps, then waits for it",
    params: &[Param { name: "sleep", default: "5 s" }],
    ideal_wall_s: SLEEP_S,
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[],
    check: check_json::<StartOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event: same_events,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["scale"];

pub const WORKER: &str = "t1";
pub const SLEEP_S: f64 = 5.0;
pub const HELLOS: usize = 2;

/// `start`: the order in which things happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartOutcome {
    /// `worker what` for each event, in time order.
    pub order: Vec<String>,
}

impl StartOutcome {
    pub fn from_events(events: &[Event]) -> Self {
        StartOutcome {
            order: events
                .iter()
                .filter(|e| !e.is_mechanism())
                .map(|e| format!("{} {}", e.worker, e.what))
                .collect(),
        }
    }

    /// t1 sleeping, main hello ×2, t1 finished.
    pub fn expected_order() -> Vec<String> {
        let mut order = vec![format!("{} sleeping", WORKER)];
        order.extend((0..HELLOS).map(|_| format!("{MAIN} hello")));
        order.push(format!("{} finished", WORKER));
        order
    }
}

impl Outcome for StartOutcome {
    fn check(&self) -> Result<(), String> {
        let expected = Self::expected_order();
        if self.order == expected {
            Ok(())
        } else {
            Err(format!("order {:?}, expected {:?}", self.order, expected))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::testing::event;
    #[test]
    fn start_checks_the_order() {
        let good = [
            event(0.0, "t1", "sleeping"),
            event(0.1, "main", "hello"),
            event(0.2, "main", "hello"),
            event(5.0, "t1", "finished"),
        ];
        assert_eq!(StartOutcome::from_events(&good).check(), Ok(()));
        let mut bad = good.clone();
        bad.swap(0, 1);
        assert!(StartOutcome::from_events(&bad).check().is_err());
    }

}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::event;

    #[test]
    fn start_wants_two_hellos_while_t1_sleeps() {
        assert_eq!(
            StartOutcome::expected_order(),
            ["t1 sleeping", "main hello", "main hello", "t1 finished"]
        );
        let events = [event(0.0, "t1", "sleeping"), event(0.1, "main", "hello")];
        assert_eq!(
            StartOutcome::from_events(&events).order,
            ["t1 sleeping", "main hello"]
        );
    }
}
