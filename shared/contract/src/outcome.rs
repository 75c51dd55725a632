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
}
