//! The demos of the contract, one module each, and the catalogue: one [`Row`] per demo.
//!
//! A demo's module holds everything about it that does not depend on how workers are made:
//! its parameters and their defaults, its outcome type and the outcome's check, its headline
//! figures, and the work its workers do. Its `ROW` is its entry in the catalogue, and
//! [`for_each_demo!`](crate::for_each_demo) is the one list of the demos: the catalogue
//! below and every backend's `demos/mod.rs` are generated from it, so a backend that lacks
//! a demo's file does not compile.

use crate::outcome::Outcome;
use crate::trace::Event;
use std::fmt;
use std::str::FromStr;

/// Calls the macro named by its arguments with every demo, as `module => Variant,`, in
/// catalogue order. The one place that lists the demos: adding a demo is one line here.
#[macro_export]
macro_rules! for_each_demo {
    ($($callback:tt)+) => {
        $($callback)+! {
            start => Start,
            join => Join,
            run_hooks => RunHooks,
            custom_init => CustomInit,
            lock => Lock,
            queue => Queue,
            event => Event,
            download => Download,
            cpu => Cpu,
            crash => Crash,
            spawn => Spawn,
            channel => Channel,
        }
    };
}

/// What the demo modules share: their imports, and the helpers of their checks.
pub(crate) mod prelude {
    pub use super::{Better, Headline, Param, Row, check_json, same_events};
    pub use crate::outcome::{Outcome, sleeps_overlapped, sorted, sorted_workers_that};
    pub use crate::trace::{Event, EventSink, MAIN, format_seconds};
    pub use serde::{Deserialize, Serialize};
    pub use std::collections::BTreeMap;
}

/// The catalogue: the demo modules, [`DemoId`] and its rows.
macro_rules! catalogue {
    ($($module:ident => $variant:ident,)*) => {
        $(pub mod $module;)*

        /// One demo of the contract. The order of [`DemoId::ALL`] is the catalogue order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DemoId {
            $($variant,)*
        }

        impl DemoId {
            /// Every demo, in catalogue order (the order of a run without demo names).
            pub const ALL: [DemoId; [$(stringify!($variant)),*].len()] = [$(DemoId::$variant),*];

            /// The demo's row in the catalogue.
            pub fn row(self) -> &'static Row {
                match self {
                    $(DemoId::$variant => &$module::ROW,)*
                }
            }

            /// The parameters `compare --sweep` may vary for the demo, by option name.
            pub fn sweeps(self) -> &'static [&'static str] {
                match self {
                    $(DemoId::$variant => $module::SWEEPS,)*
                }
            }
        }
    };
}

for_each_demo!(catalogue);

/// Everything the harness and the runner know about one demo, declared in its module.
#[derive(Debug)]
pub struct Row {
    /// The stable id used on the command line and in JSON.
    pub id: &'static str,
    /// The section of the tutorial notebook the demo mirrors (`§4`), or `beyond`.
    pub section: &'static str,
    /// One line saying what the demo shows.
    pub description: &'static str,
    /// Its parameters with their defaults, for `--list` and the README.
    pub params: &'static [Param],
    /// The wall time with perfect concurrency, in notebook seconds (times `--scale` at run
    /// time); zero for a demo that does not sleep.
    pub ideal_wall_s: f64,
    /// The default of `--count`, for a demo that takes one.
    pub default_count: Option<u64>,
    /// The outcome depends on the backend's kind (what a worker is, whether it is
    /// isolated): backends of the same kind must agree, of different kinds may not.
    pub outcome_depends_on_kind: bool,
    /// The figures the demo exists to measure, which reports lead with.
    pub headlines: &'static [Headline],
    /// The contract's check of an outcome given as JSON.
    pub check: fn(&serde_json::Value) -> Result<(), String>,
    /// The part of an outcome two correct runs must agree on (the identity for most).
    pub comparable_outcome: fn(&serde_json::Value) -> serde_json::Value,
    /// An event as two correct runs must agree on it, or `None` for one whose presence
    /// depends on the interleaving ([`same_events`] for most).
    pub comparable_event: fn(&Event) -> Option<EventKey>,
}

/// An event as compared across runs: (worker, what, detail).
pub type EventKey = (String, String, Option<String>);

/// A named parameter of a demo with its default, for `--list` and the README.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: &'static str,
}

/// A figure a demo exists to measure: its key in the report's `measured` figures.
#[derive(Clone, Copy, Debug)]
pub struct Headline {
    /// The key in `figures.measured`, its unit in its name.
    pub key: &'static str,
    /// What it measures, in a few words.
    pub label: &'static str,
    pub better: Better,
}

/// Which direction of a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Better {
    Lower,
    Higher,
}

/// The check of a row: parses the outcome as `O` and runs its check.
pub fn check_json<O: Outcome + serde::de::DeserializeOwned>(
    outcome: &serde_json::Value,
) -> Result<(), String> {
    let outcome: O = serde_json::from_value(outcome.clone())
        .map_err(|e| format!("the outcome does not have this demo's shape: {e}"))?;
    outcome.check()
}

/// Every event compared as it is.
pub fn same_events(event: &Event) -> Option<EventKey> {
    Some(event.key())
}

/// The whole outcome compared as it is.
pub fn same_outcome(outcome: &serde_json::Value) -> serde_json::Value {
    outcome.clone()
}

impl DemoId {
    /// The stable id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// One line saying what the demo shows.
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The section of the tutorial notebook the demo mirrors.
    pub fn notebook_section(self) -> &'static str {
        self.row().section
    }

    /// The demo's parameters with their defaults.
    pub fn params(self) -> &'static [Param] {
        self.row().params
    }

    /// The wall time the demo would take with perfect concurrency, in notebook seconds
    /// (multiplied by `--scale` at run time); zero for demos that do not sleep.
    pub fn ideal_wall_s(self) -> f64 {
        self.row().ideal_wall_s
    }

    /// The default of `--count` for the demos that take one.
    pub fn default_count(self) -> Option<u64> {
        self.row().default_count
    }

    /// True for a demo whose outcome depends on the backend's kind (what a worker is, whether
    /// it is isolated): there the difference is the lesson (`crash`: what a dying worker takes
    /// down with it). Backends of the same kind must still agree.
    pub fn outcome_depends_on_kind(self) -> bool {
        self.row().outcome_depends_on_kind
    }

    /// The figures the demo exists to measure.
    pub fn headlines(self) -> &'static [Headline] {
        self.row().headlines
    }

    /// The part of an outcome that two correct runs must agree on.
    pub fn comparable_outcome(self, outcome: &serde_json::Value) -> serde_json::Value {
        (self.row().comparable_outcome)(outcome)
    }

    /// An event as two correct runs must agree on it (worker, what, detail), or `None` for
    /// one whose presence or count depends on the interleaving. The main flow's lines on the
    /// mechanism (pids, thread ids, bytes: [`Event::is_mechanism`]) are never compared.
    pub fn comparable_event(self, event: &Event) -> Option<EventKey> {
        if event.is_mechanism() {
            return None;
        }
        (self.row().comparable_event)(event)
    }

    /// Checks an outcome as a backend of `kind` reported it, in JSON, with the contract's one
    /// check: the harness runs this on every run of every backend and never trusts the
    /// backend's `ok`. An outcome that depends on the kind must state the kind the backend
    /// declared, so that a backend cannot pass its outcome off as another kind's.
    pub fn check_outcome(
        self,
        kind: &crate::domain::BackendKind,
        outcome: &serde_json::Value,
    ) -> Result<(), String> {
        if self.outcome_depends_on_kind() {
            let stated = (outcome.get("worker"), outcome.get("isolated"));
            let declared = (
                serde_json::to_value(kind.worker).ok(),
                Some(serde_json::Value::Bool(kind.isolated)),
            );
            if (stated.0.cloned(), stated.1.cloned()) != declared {
                return Err(format!(
                    "{self}: the outcome states worker {} and isolated {}, the backend \
                     declared {:?} workers, isolated {}",
                    stated.0.unwrap_or(&serde_json::Value::Null),
                    stated.1.unwrap_or(&serde_json::Value::Null),
                    kind.worker,
                    kind.isolated
                ));
            }
        }
        // A part of an outcome that states what a worker is (lock's plain counter, whose
        // fate depends on it) must state what the backend declared.
        let parts = outcome
            .as_object()
            .into_iter()
            .flat_map(|fields| fields.iter());
        for (part, value) in parts {
            if let Some(stated) = value.get("worker")
                && Some(stated) != serde_json::to_value(kind.worker).ok().as_ref()
            {
                return Err(format!(
                    "{self}: the outcome's {part} states worker {stated}, the backend declared \
                     {:?} workers",
                    kind.worker
                ));
            }
        }
        (self.row().check)(outcome).map_err(|problem| format!("{self}: {problem}"))
    }

    /// The `--list` text: one line per demo, ids aligned.
    pub fn listing() -> String {
        DemoId::ALL
            .iter()
            .map(|demo| {
                let params: Vec<String> = demo
                    .params()
                    .iter()
                    .map(|p| format!("{}={}", p.name, p.default))
                    .collect();
                format!(
                    "{:<12} {:<6} {} [{}]\n",
                    demo.id(),
                    demo.notebook_section(),
                    demo.description(),
                    params.join(", ")
                )
            })
            .collect()
    }
}

impl fmt::Display for DemoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for DemoId {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.trim().is_empty() {
            return Err("empty demo name".to_string());
        }
        DemoId::ALL
            .into_iter()
            .find(|demo| demo.id() == name)
            .ok_or_else(|| format!("unknown demo '{name}' (see --list)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        for (i, demo) in DemoId::ALL.iter().enumerate() {
            assert_eq!(demo.id().parse::<DemoId>(), Ok(*demo));
            assert!(DemoId::ALL[..i].iter().all(|d| d.id() != demo.id()));
        }
        assert_eq!("custom-init".parse(), Ok(DemoId::CustomInit));
    }

    #[test]
    fn a_kind_dependent_outcome_must_state_the_declared_kind() {
        use crate::domain::{BackendKind, WorkerKind};
        let threads = BackendKind {
            worker: WorkerKind::Thread,
            isolated: false,
            start_method: None,
        };
        let processes = BackendKind {
            worker: WorkerKind::Process,
            isolated: true,
            start_method: Some("fork".into()),
        };
        let round = |fault: &str, seen: &str, survivors: &[&str], survived: bool| {
            serde_json::json!({"fault": fault, "doomed": "t2", "seen": seen,
                "survivors": survivors, "program_survived": survived})
        };
        let outcome = serde_json::json!({"worker": "process", "isolated": true, "rounds": [
            round("panic", "exited with code 101 (it panicked)", &["t1", "t3", "t4"], true),
            round("kill", "was killed by signal SIGKILL", &["t1", "t3", "t4"], true),
        ]});
        assert_eq!(DemoId::Crash.check_outcome(&processes, &outcome), Ok(()));
        let passed_off = DemoId::Crash.check_outcome(&threads, &outcome).unwrap_err();
        assert!(passed_off.contains("declared Thread"), "{passed_off}");
        // A kill that took every worker is right for threads, wrong for processes.
        let mut whole = outcome.clone();
        whole["rounds"][1] = round(
            "kill",
            "the whole program was killed by signal SIGKILL",
            &[],
            false,
        );
        assert!(DemoId::Crash.check_outcome(&processes, &whole).is_err());
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::said;
    use crate::trace::MAIN;

    #[test]
    fn only_crash_depends_on_the_kind() {
        let dependent: Vec<DemoId> = DemoId::ALL
            .into_iter()
            .filter(|demo| demo.outcome_depends_on_kind())
            .collect();
        assert_eq!(dependent, [DemoId::Crash]);
        assert_eq!(DemoId::CustomInit.to_string(), "custom-init");
    }

    #[test]
    fn most_demos_compare_outcomes_and_events_as_they_are() {
        // Every field of the outcome, for every demo but lock.
        let outcome = serde_json::json!({"seed": 4, "draws_before_set": 0,
            "draws_follow_seed": true, "draws_about_ten": true, "thirteens_announced": true,
            "stopped_within_one_tick": true});
        assert_eq!(same_outcome(&outcome), outcome);
        for demo in DemoId::ALL.into_iter().filter(|demo| *demo != DemoId::Lock) {
            assert_eq!(demo.comparable_outcome(&outcome), outcome, "{demo}");
        }
        let done = said(0.5, "t1", "result", "= 8");
        let key = (
            "t1".to_string(),
            "result".to_string(),
            Some("= 8".to_string()),
        );
        assert_eq!(same_events(&done), Some(key.clone()));
        assert_eq!(DemoId::CustomInit.comparable_event(&done), Some(key));
        // Each demo's own keys are its row's: lock leaves out its unlocked total.
        let unlocked = said(1.0, MAIN, "unlocked total", "-3 after 38 updates, 2 lost");
        assert_eq!(DemoId::Lock.comparable_event(&unlocked), None);
        assert!(DemoId::Start.comparable_event(&unlocked).is_some());
        let lock = serde_json::json!({"count": 1, "locked": 0, "unlocked": 2});
        assert_eq!(
            DemoId::Lock.comparable_outcome(&lock),
            serde_json::json!({"count": 1, "locked": 0})
        );
        assert_eq!(
            DemoId::Start.check_outcome(
                &crate::domain::BackendKind {
                    worker: crate::domain::WorkerKind::Thread,
                    isolated: false,
                    start_method: None
                },
                &serde_json::json!({"order": ["t1 sleeping", "main hello"]})
            ),
            Err(
                "start: order [\"t1 sleeping\", \"main hello\"], expected [\"t1 sleeping\", \
                 \"main hello\", \"main hello\", \"t1 finished\"]"
                    .to_string()
            )
        );
    }

    #[test]
    fn an_outcome_of_another_shape_does_not_check() {
        let start = serde_json::json!({"order": ["t1 sleeping", "main hello", "main hello", "t1 finished"]});
        assert_eq!(check_json::<start::StartOutcome>(&start), Ok(()));
        let problem =
            check_json::<start::StartOutcome>(&serde_json::json!({"finished": []})).unwrap_err();
        assert!(
            problem.contains("does not have this demo's shape"),
            "{problem}"
        );
    }
}
