//! What the report says about one demo: per-backend summaries of the successful runs, and
//! the differences between the backends (outcome, events, time).

use super::measure::Run;
use super::stats::{Ratio, Summary, out_of_order};
use contract::report::median;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One backend's runs of one demo, summarised. Only successful runs enter the statistics:
/// a failed run is counted and described, never averaged in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackendSummary {
    pub backend: String,
    pub ok_runs: usize,
    pub failed_runs: usize,
    /// The problem of each failed run, as `run N: …`.
    pub failures: Vec<String>,
    pub demo_wall_s: Option<Summary>,
    pub process_wall_s: Option<Summary>,
    pub cpu_s: Option<Summary>,
    pub peak_pss_kib: Option<Summary>,
    pub largest_rss_kib: Option<Summary>,
    pub voluntary_switches: Option<Summary>,
    pub involuntary_switches: Option<Summary>,
    pub processes_seen: Option<usize>,
    pub threads_seen: Option<usize>,
    pub workers_created: Option<u32>,
    pub spawn_to_first_event_us: Option<f64>,
    pub ipc_messages: Option<u64>,
    pub ipc_bytes: Option<u64>,
    /// The backend's own named measurements, summarised across runs.
    pub measured: BTreeMap<String, Summary>,
}

impl BackendSummary {
    pub fn of(backend: &str, runs: &[Run]) -> Self {
        let mine: Vec<&Run> = runs.iter().filter(|r| r.backend == backend).collect();
        let ok: Vec<&Run> = mine.iter().copied().filter(|r| r.succeeded()).collect();
        let summary = |f: &dyn Fn(&Run) -> Option<f64>| {
            Summary::of(&ok.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        let reports: Vec<_> = ok.iter().filter_map(|r| r.report.as_ref()).collect();
        let mut measured_samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for report in &reports {
            for (name, value) in &report.figures.measured {
                measured_samples
                    .entry(name.clone())
                    .or_default()
                    .push(*value);
            }
        }
        let spawn: Vec<f64> = reports
            .iter()
            .flat_map(|r| r.figures.spawn_to_first_event_us.iter().copied())
            .collect();
        BackendSummary {
            backend: backend.to_string(),
            ok_runs: ok.len(),
            failed_runs: mine.len() - ok.len(),
            failures: mine
                .iter()
                .filter(|r| !r.succeeded())
                .map(|r| {
                    format!(
                        "run {}: {}",
                        r.index + 1,
                        r.problem.as_deref().unwrap_or("failed")
                    )
                })
                .collect(),
            demo_wall_s: summary(&|r| r.demo_wall_s()),
            process_wall_s: summary(&|r| Some(r.process_wall_s)),
            cpu_s: summary(&|r| Some(r.cpu_s())),
            peak_pss_kib: summary(&|r| (r.samples > 0).then_some(r.peak_pss_kib as f64)),
            largest_rss_kib: summary(&|r| (r.samples > 0).then_some(r.largest_rss_kib as f64)),
            voluntary_switches: summary(&|r| Some(r.voluntary_switches as f64)),
            involuntary_switches: summary(&|r| Some(r.involuntary_switches as f64)),
            processes_seen: ok.iter().map(|r| r.processes_seen).max(),
            threads_seen: ok.iter().map(|r| r.threads_seen).max(),
            workers_created: reports.iter().map(|r| r.figures.workers_created).max(),
            spawn_to_first_event_us: median(&spawn),
            ipc_messages: reports.iter().filter_map(|r| r.figures.ipc_messages).max(),
            ipc_bytes: reports.iter().filter_map(|r| r.figures.ipc_bytes).max(),
            measured: measured_samples
                .into_iter()
                .filter_map(|(name, samples)| Some((name, Summary::of(&samples)?)))
                .collect(),
        }
    }
}

/// The differences between the two backends for one demo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoSummary {
    pub backends: Vec<BackendSummary>,
    /// Every successful run of both backends had the same outcome (`None`: nothing to
    /// compare). For a demo whose outcome differs by design, each backend's runs agreed.
    pub outcomes_equal: Option<bool>,
    /// The first successful run of each backend emitted the same events (ignoring order, and
    /// ignoring those that depend on the interleaving).
    pub events_same_multiset: Option<bool>,
    /// How many events came in another order (length minus longest common subsequence).
    pub events_in_another_order: Option<usize>,
    /// Demo wall time, faster against slower; only when both backends had successful runs.
    pub ratio: Option<Ratio>,
    /// Some run failed, or the outcomes differ.
    pub failed: bool,
    /// The one-line reading of all the above.
    pub verdict: String,
}

impl DemoSummary {
    pub fn of(demo: contract::demos::DemoId, backends: &[&str], runs: &[Run]) -> Self {
        let summaries: Vec<BackendSummary> = backends
            .iter()
            .map(|b| BackendSummary::of(b, runs))
            .collect();
        let all_have_runs = summaries.iter().all(|s| s.ok_runs > 0);

        // Outcomes must agree across every successful run; for a demo whose outcome differs
        // by design between backends (crash), across the runs of each backend.
        let by_design = demo.outcome_depends_on_kind();
        let same_outcomes = |backend: Option<&str>| {
            let outcomes: Vec<serde_json::Value> = runs
                .iter()
                .filter(|r| r.succeeded() && backend.is_none_or(|b| r.backend == b))
                .filter_map(|r| {
                    r.report
                        .as_ref()
                        .map(|rep| demo.comparable_outcome(&rep.outcome))
                })
                .collect();
            outcomes.windows(2).all(|w| w[0] == w[1])
        };
        let outcomes_equal = all_have_runs.then(|| {
            if by_design {
                backends.iter().all(|b| same_outcomes(Some(b)))
            } else {
                same_outcomes(None)
            }
        });

        let first_events: Vec<Vec<(String, String, Option<String>)>> = backends
            .iter()
            .filter_map(|b| runs.iter().find(|r| r.backend == *b && r.succeeded()))
            .filter_map(|r| r.report.as_ref())
            .map(|report| {
                report
                    .events
                    .iter()
                    .filter_map(|e| demo.comparable_event(e))
                    .collect()
            })
            .collect();
        let (events_same_multiset, events_in_another_order) = match first_events.as_slice() {
            [a, b] if all_have_runs => {
                let (mut sorted_a, mut sorted_b) = (a.clone(), b.clone());
                sorted_a.sort();
                sorted_b.sort();
                (Some(sorted_a == sorted_b), Some(out_of_order(a, b)))
            }
            _ => (None, None),
        };

        let ratio = match summaries.as_slice() {
            [a, b] => match (&a.demo_wall_s, &b.demo_wall_s) {
                (Some(ta), Some(tb)) => Ratio::between((&a.backend, ta), (&b.backend, tb)),
                _ => None,
            },
            _ => None,
        };

        let any_failed_run = summaries.iter().any(|s| s.failed_runs > 0);
        let failed = any_failed_run || outcomes_equal == Some(false) || !all_have_runs;
        let mut parts = Vec::new();
        for s in summaries.iter().filter(|s| s.failed_runs > 0) {
            parts.push(format!(
                "{} FAILED {} of {} runs",
                s.backend,
                s.failed_runs,
                s.failed_runs + s.ok_runs
            ));
        }
        match outcomes_equal {
            Some(true) if by_design => {
                parts.push("outcomes differ by design, each as the contract says".into())
            }
            Some(true) => parts.push("outcomes equal".into()),
            Some(false) => parts.push("OUTCOMES DIFFER".into()),
            None => parts.push("outcomes not comparable".into()),
        }
        if let (Some(same), Some(moved)) = (events_same_multiset, events_in_another_order) {
            let events = if same {
                "same events"
            } else {
                "DIFFERENT events"
            };
            parts.push(format!("{events}, {moved} in another order"));
        }
        match &ratio {
            // The backends do different work by design (a threads crash round that aborts
            // ends at once): their times say nothing about the mechanisms.
            Some(_) if by_design => {
                parts.push("times not compared: the work differs by design".into())
            }
            Some(ratio) if !failed => parts.push(ratio.sentence()),
            Some(ratio) => parts.push(format!(
                "(timing of successful runs only: {})",
                ratio.sentence()
            )),
            None => {}
        }
        DemoSummary {
            backends: summaries,
            outcomes_equal,
            events_same_multiset,
            events_in_another_order,
            ratio,
            failed,
            verdict: parts.join(" · "),
        }
    }
}
