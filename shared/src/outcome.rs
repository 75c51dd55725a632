//! Each demo's typed outcome, how it is derived, and its check against the contract.
//!
//! Outcomes hold no timings, so that the two backends' outcomes can be compared for
//! equality. Concurrency is checked by order, not by the clock: sleeps that overlap
//! show as every `sleeping` coming before the first `finished`.

use crate::catalogue::{custom_init, join, run_hooks, start};
use crate::images::ManifestEntry;
use crate::trace::{Event, MAIN};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A demo's outcome: serialisable, and checkable against DEMOS.md.
pub trait Outcome: Serialize {
    /// `Ok` when the outcome is what the contract says; otherwise the first difference.
    fn check(&self) -> Result<(), String>;
}

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
                .map(|e| format!("{} {}", e.worker, e.what))
                .collect(),
        }
    }

    /// t1 sleeping, main hello ×2, t1 finished.
    pub fn expected_order() -> Vec<String> {
        let mut order = vec![format!("{} sleeping", start::WORKER)];
        order.extend((0..start::HELLOS).map(|_| format!("{MAIN} hello")));
        order.push(format!("{} finished", start::WORKER));
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

/// `join`: who finished, and whether the sleeps overlapped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinOutcome {
    /// Workers that emitted `finished`, sorted.
    pub finished: Vec<String>,
    /// Every worker was sleeping before the first one finished.
    pub overlapped: bool,
}

impl JoinOutcome {
    pub fn from_events(events: &[Event]) -> Self {
        JoinOutcome {
            finished: sorted_workers_that(events, "finished"),
            overlapped: sleeps_overlapped(events),
        }
    }
}

impl Outcome for JoinOutcome {
    fn check(&self) -> Result<(), String> {
        let expected: Vec<String> = sorted((0..join::WORKERS).map(join::worker_name));
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
        let names: Vec<String> = sorted((0..run_hooks::WORKERS).map(run_hooks::worker_name));
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

/// `custom-init`: each worker's number with the value it computed, as the parent received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomInitOutcome {
    pub values: BTreeMap<u32, u64>,
}

impl CustomInitOutcome {
    /// Worker k yields 8·(k−1): the set {0, 8, …, 72}.
    pub fn expected() -> BTreeMap<u32, u64> {
        (1..=custom_init::WORKERS)
            .map(|k| {
                (
                    k,
                    crate::workloads::double(custom_init::input(k), custom_init::CYCLES),
                )
            })
            .collect()
    }
}

impl Outcome for CustomInitOutcome {
    fn check(&self) -> Result<(), String> {
        let expected = Self::expected();
        if self.values == expected {
            Ok(())
        } else {
            Err(format!("values {:?}, expected {:?}", self.values, expected))
        }
    }
}

/// `download`: what each pass saved, per URL, and what it should have saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadOutcome {
    /// The server's manifest (name, length, sha256), when it serves one; without it the
    /// two passes are checked against each other.
    pub expected: Option<Vec<ManifestEntry>>,
    pub sequential: PassOutcome,
    pub concurrent: PassOutcome,
}

/// One pass of `download`: every URL, in the order given, with what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassOutcome {
    pub images: Vec<ImageResult>,
    /// Files in the pass's folder that are not a saved image (a partial file would be one).
    pub stray_files: Vec<String>,
}

/// One URL of a pass: the file it is saved as, and whether it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageResult {
    /// `<name>.png`, from the URL's last path segment.
    pub name: String,
    pub fetched: Fetched,
}

/// Saved whole (the bytes on disk, as the parent read them back) or failed, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched {
    Saved { length: u64, sha256: String },
    Failed { reason: String },
}

impl PassOutcome {
    fn check(&self, pass: &str) -> Result<(), String> {
        let failures: Vec<String> = self
            .images
            .iter()
            .filter_map(|image| match &image.fetched {
                Fetched::Failed { reason } => Some(format!("{} failed: {reason}", image.name)),
                Fetched::Saved { .. } => None,
            })
            .collect();
        if !failures.is_empty() {
            return Err(format!(
                "{pass}: {} of {} failed: {}",
                failures.len(),
                self.images.len(),
                failures.join("; ")
            ));
        }
        if !self.stray_files.is_empty() {
            return Err(format!(
                "{pass}: stray files in the folder: {:?}",
                self.stray_files
            ));
        }
        Ok(())
    }

    fn saved(&self) -> Vec<(String, u64, String)> {
        self.images
            .iter()
            .filter_map(|image| match &image.fetched {
                Fetched::Saved { length, sha256 } => {
                    Some((image.name.clone(), *length, sha256.clone()))
                }
                Fetched::Failed { .. } => None,
            })
            .collect()
    }
}

impl Outcome for DownloadOutcome {
    fn check(&self) -> Result<(), String> {
        self.sequential.check("sequential")?;
        self.concurrent.check("concurrent")?;
        let expected: Vec<(String, u64, String)> = match &self.expected {
            Some(manifest) => manifest
                .iter()
                .map(|e| (e.name.clone(), e.length, e.sha256.clone()))
                .collect(),
            None => self.sequential.saved(),
        };
        for (pass, outcome) in [
            ("sequential", &self.sequential),
            ("concurrent", &self.concurrent),
        ] {
            if self.expected.is_none() && pass == "sequential" {
                continue;
            }
            let saved = outcome.saved();
            if saved != expected {
                let against = if self.expected.is_some() {
                    "the manifest"
                } else {
                    "the sequential pass"
                };
                let differing: Vec<&str> = saved
                    .iter()
                    .zip(&expected)
                    .filter(|(s, e)| s != e)
                    .map(|(s, _)| s.0.as_str())
                    .collect();
                return Err(format!(
                    "{pass}: {} files differ from {against} (lengths {} vs {}): {differing:?}",
                    differing.len().max(saved.len().abs_diff(expected.len())),
                    saved.len(),
                    expected.len()
                ));
            }
        }
        Ok(())
    }
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names
}

fn sorted_workers_that(events: &[Event], what: &str) -> Vec<String> {
    sorted(
        events
            .iter()
            .filter(|e| e.what == what)
            .map(|e| e.worker.clone()),
    )
}

/// True when the last `sleeping` came before the first `finished`: all sleeps overlapped.
fn sleeps_overlapped(events: &[Event]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t_s: f64, worker: &str, what: &str) -> Event {
        Event {
            t_s,
            worker: worker.into(),
            what: what.into(),
            detail: None,
        }
    }

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

    #[test]
    fn join_sees_sequential_sleeps() {
        let mut events = Vec::new();
        for i in 0..5 {
            let name = format!("t{i}");
            events.push(event(i as f64, &name, "sleeping"));
            events.push(event(i as f64 + 0.5, &name, "finished"));
        }
        let outcome = JoinOutcome::from_events(&events);
        assert_eq!(outcome.finished.len(), 5);
        assert!(!outcome.overlapped);
        assert!(outcome.check().is_err());
    }

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

    fn pass(entries: &[ManifestEntry]) -> PassOutcome {
        PassOutcome {
            images: entries
                .iter()
                .map(|e| ImageResult {
                    name: e.name.clone(),
                    fetched: Fetched::Saved {
                        length: e.length,
                        sha256: e.sha256.clone(),
                    },
                })
                .collect(),
            stray_files: Vec::new(),
        }
    }

    #[test]
    fn download_checks_both_passes_against_the_manifest() {
        let manifest: Vec<ManifestEntry> = ["a.png", "b.png"]
            .iter()
            .map(|name| ManifestEntry {
                name: name.to_string(),
                length: 10,
                sha256: format!("hash of {name}"),
            })
            .collect();
        let good = DownloadOutcome {
            expected: Some(manifest.clone()),
            sequential: pass(&manifest),
            concurrent: pass(&manifest),
        };
        assert_eq!(good.check(), Ok(()));

        let mut wrong_bytes = good.clone();
        wrong_bytes.concurrent.images[1].fetched = Fetched::Saved {
            length: 10,
            sha256: "something else".into(),
        };
        assert!(wrong_bytes.check().unwrap_err().contains("concurrent"));

        let mut failed = good.clone();
        failed.sequential.images[0].fetched = Fetched::Failed {
            reason: "HTTP 500".into(),
        };
        let problem = failed.check().unwrap_err();
        assert!(problem.contains("a.png failed: HTTP 500"), "{problem}");

        let mut stray = good.clone();
        stray.concurrent.stray_files.push("b.png.part".into());
        assert!(stray.check().is_err());

        let mut without_manifest = good;
        without_manifest.expected = None;
        assert_eq!(without_manifest.check(), Ok(()));
        without_manifest.concurrent.images.pop();
        assert!(without_manifest.check().is_err());
    }

    #[test]
    fn custom_init_expects_multiples_of_eight() {
        let expected = CustomInitOutcome::expected();
        assert_eq!(
            expected.values().copied().collect::<Vec<_>>(),
            (0..10).map(|k| 8 * k).collect::<Vec<_>>()
        );
        let mut wrong = expected.clone();
        wrong.insert(3, 17);
        assert!(CustomInitOutcome { values: wrong }.check().is_err());
    }
}
