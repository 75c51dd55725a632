//! `run-hooks` (notebook §3): four sleepers wrapped in before/after hooks.

use super::prelude::*;
use crate::job::Job;
use crate::workloads::sleeper;

/// The catalogue's row of `run-hooks`.
pub const ROW: Row = Row {
    id: "run-hooks",
    section: "§3",
    description: "wrap a worker's target between before/after hooks (Python: override run())",
    params: &[
        Param { name: "workers", default: "4" },
        Param { name: "sleep", default: "3 s" },
    ],
    ideal_wall_s: SLEEP_S,
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[],
    check: check_json::<RunHooksOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event: same_events,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["scale"];

pub const WORKERS: usize = 4;
pub const SLEEP_S: f64 = 3.0;

/// Worker names `t1`…`t4`, as in the notebook.
pub fn worker_name(index: usize) -> String {
    format!("t{}", index + 1)
}

/// `run-hooks`: each worker's own sequence of events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunHooksOutcome {
    pub per_worker: BTreeMap<String, Vec<String>>,
    pub overlapped: bool,
}

impl RunHooksOutcome {
    pub const PER_WORKER: [&'static str; 4] = ["started", "sleeping", "finished", "done"];

    pub fn from_events(events: &[Event]) -> Self {
        let mut per_worker: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for event in events.iter().filter(|e| e.worker != MAIN) {
            per_worker
                .entry(event.worker.clone())
                .or_default()
                .push(event.what.clone());
        }
        RunHooksOutcome {
            per_worker,
            overlapped: sleeps_overlapped(events),
        }
    }
}

impl Outcome for RunHooksOutcome {
    fn check(&self) -> Result<(), String> {
        let names: Vec<String> = sorted((0..WORKERS).map(worker_name));
        let seen: Vec<String> = self.per_worker.keys().cloned().collect();
        if seen != names {
            return Err(format!("workers {seen:?}, expected {names:?}"));
        }
        for (worker, whats) in &self.per_worker {
            if whats != &Self::PER_WORKER {
                return Err(format!(
                    "{worker} did {whats:?}, expected {:?}",
                    Self::PER_WORKER
                ));
            }
        }
        if !self.overlapped {
            return Err("a worker finished before all had started sleeping".to_string());
        }
        Ok(())
    }
}

/// The Rust stand-in for subclassing `Thread` and overriding `run()` (notebook §3).
///
/// Rust has no subclassing: instead of changing the worker, the task carries hooks that run
/// before and after its target. The worker (a thread or a process) runs `Hooked::run`, and
/// the same type serves both backends.
pub struct Hooked<F> {
    target: F,
}

impl<F, R> Hooked<F>
where
    F: FnOnce(&dyn EventSink) -> R,
{
    /// Wraps `target` between the `started` and `done` hooks.
    pub fn new(target: F) -> Self {
        Hooked { target }
    }

    /// Runs before-hook, target, after-hook; emits `started` … `done` around the target's events.
    pub fn run(self, out: &dyn EventSink) -> R {
        self.before(out);
        let result = (self.target)(out);
        Self::after(out);
        result
    }

    fn before(&self, out: &dyn EventSink) {
        out.emit("started", None);
    }

    fn after(out: &dyn EventSink) {
        out.emit("done", None);
    }
}

/// A sleeper between hooks, as a job. The task, not the worker, carries the hooks: Rust has
/// no Thread to subclass, and a process's job must be data.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct HookedSleeper {
    pub seconds: f64,
}

impl Job for HookedSleeper {
    type Output = ();

    fn run(self, out: &dyn EventSink) {
        let seconds = self.seconds;
        Hooked::new(move |out: &dyn EventSink| sleeper(out, seconds)).run(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::testing::event;
    use crate::workloads::testing::Recorder;
    #[test]
    fn run_hooks_checks_each_workers_order() {
        let mut events = Vec::new();
        for name in ["t1", "t2", "t3", "t4"] {
            events.push(event(0.0, name, "started"));
            events.push(event(0.1, name, "sleeping"));
        }
        for name in ["t1", "t2", "t3", "t4"] {
            events.push(event(1.0, name, "finished"));
            events.push(event(1.1, name, "done"));
        }
        assert_eq!(RunHooksOutcome::from_events(&events).check(), Ok(()));
        events.retain(|e| !(e.worker == "t3" && e.what == "done"));
        assert!(RunHooksOutcome::from_events(&events).check().is_err());
    }


    #[test]
    fn hooks_wrap_the_target() {
        let out = Recorder::default();
        let value = Hooked::new(|o: &dyn EventSink| {
            sleeper(o, 0.0);
            7
        })
        .run(&out);
        assert_eq!(value, 7);
        assert_eq!(*out.0.borrow(), ["started", "sleeping", "finished", "done"]);
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::event;

    #[test]
    fn the_main_flow_is_not_a_worker_and_every_worker_must_overlap() {
        let mut events = vec![event(0.0, MAIN, "started")];
        for name in ["t1", "t2", "t3", "t4"] {
            events.push(event(0.0, name, "started"));
            events.push(event(0.1, name, "sleeping"));
        }
        for name in ["t1", "t2", "t3", "t4"] {
            events.push(event(3.0, name, "finished"));
            events.push(event(3.1, name, "done"));
        }
        let outcome = RunHooksOutcome::from_events(&events);
        assert_eq!(
            outcome.per_worker.keys().collect::<Vec<_>>(),
            ["t1", "t2", "t3", "t4"]
        );
        assert_eq!(outcome.check(), Ok(()));
        let one_after_another = RunHooksOutcome {
            overlapped: false,
            ..outcome.clone()
        };
        assert!(one_after_another.check().is_err());
        let mut three = outcome;
        three.per_worker.remove("t4");
        assert!(three.check().is_err());
        assert_eq!(worker_name(0), "t1");
    }
}
