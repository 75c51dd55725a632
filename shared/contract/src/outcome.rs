//! What every demo's outcome is: serialisable and checkable; and the helpers the checks of
//! several demos share. Each demo's outcome type lives in its module under `demos`.
//!
//! Outcomes hold no timings, so that the two backends' outcomes can be compared for
//! equality. Concurrency is checked by order, not by the clock: sleeps that overlap
//! show as every `sleeping` coming before the first `finished`.

use crate::trace::Event;
use serde::Serialize;

/// A demo's outcome: serialisable, and checkable against the contract.
pub trait Outcome: Serialize {
    /// `Ok` when the outcome is what the contract says; otherwise the first difference.
    fn check(&self) -> Result<(), String>;
}

pub fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names
}

pub fn sorted_workers_that(events: &[Event], what: &str) -> Vec<String> {
    sorted(
        events
            .iter()
            .filter(|e| e.what == what)
            .map(|e| e.worker.clone()),
    )
}

/// True when the last `sleeping` came before the first `finished`: all sleeps overlapped.
pub fn sleeps_overlapped(events: &[Event]) -> bool {
    let last_sleeping = events
        .iter()
        .filter(|e| e.what == "sleeping")
        .map(|e| e.t_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let first_finished = events
        .iter()
        .filter(|e| e.what == "finished")
        .map(|e| e.t_s)
        .fold(f64::INFINITY, f64::min);
    last_sleeping < first_finished
}

/// Events for the outcome tests.
#[cfg(test)]
pub mod testing {
    use crate::trace::Event;

    pub fn event(t_s: f64, worker: &str, what: &str) -> Event {
        Event {
            t_s,
            worker: worker.into(),
            what: what.into(),
            detail: None,
        }
    }

    pub fn said(t_s: f64, worker: &str, what: &str, detail: &str) -> Event {
        Event {
            detail: Some(detail.into()),
            ..event(t_s, worker, what)
        }
    }

    /// A silent run of `demo` on a thread backend with the command line's defaults but
    /// `options`, for the tests of what a demo records.
    pub fn demo_run(
        demo: crate::demos::DemoId,
        options: crate::settings::DemoOptions,
    ) -> crate::run::DemoRun {
        download_run(demo, options, Default::default())
    }

    /// Like [`demo_run`], with `download`'s options too.
    pub fn download_run(
        demo: crate::demos::DemoId,
        options: crate::settings::DemoOptions,
        download: crate::settings::DownloadArgs,
    ) -> crate::run::DemoRun {
        use crate::domain::{BackendKind, WorkerKind};
        let settings = crate::run::RunSettings {
            scale: 1.0,
            inject: None,
            start: Default::default(),
            options,
            download,
            crash_copy: false,
        };
        let kind = BackendKind {
            worker: WorkerKind::Thread,
            isolated: false,
            start_method: None,
            executor: None,
        };
        crate::run::DemoRun::new(
            demo,
            ("threads", &kind),
            &settings,
            crate::trace::Echo::Silent,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::event;
    use super::*;

    #[test]
    fn the_workers_that_did_something_come_sorted_and_only_they() {
        let events = [
            event(0.0, "t3", "finished"),
            event(0.1, "t1", "sleeping"),
            event(0.2, "t2", "finished"),
            event(0.3, "t1", "finished"),
        ];
        assert_eq!(sorted_workers_that(&events, "finished"), ["t1", "t2", "t3"]);
        assert_eq!(sorted_workers_that(&events, "sleeping"), ["t1"]);
        assert!(sorted_workers_that(&events, "waiting").is_empty());
    }

    #[test]
    fn sleeps_overlap_only_if_every_sleep_began_before_the_first_end() {
        let overlapped = [
            event(0.0, "t1", "sleeping"),
            event(0.1, "t2", "sleeping"),
            event(1.0, "t1", "finished"),
            event(1.1, "t2", "finished"),
        ];
        assert!(sleeps_overlapped(&overlapped));
        // t2 began its sleep as t1 ended it: not before.
        let mut at_the_same_time = overlapped.clone();
        at_the_same_time[1].t_s = 1.0;
        assert!(!sleeps_overlapped(&at_the_same_time));
        let mut one_after_the_other = overlapped;
        one_after_the_other[1].t_s = 1.05;
        assert!(!sleeps_overlapped(&one_after_the_other));
    }
}
