//! What the report says about one demo: per-backend summaries of the successful runs, and
//! the differences between the backends (outcome, events, time), judged by their declared
//! kinds, never by their names.

use super::backends::{agreement_group, describe_kind};
use super::measure::{MIN_MEMORY_SAMPLES, Run};
use super::stats::{Finding, Interval, Summary, out_of_order, outliers};
use contract::demos::{Better, DemoId};
use contract::domain::BackendKind;
use contract::report::median;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One backend's runs of one demo, summarised. Only successful runs enter the statistics:
/// a failed run is counted and described, never averaged in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackendSummary {
    pub backend: String,
    /// The backend's listing names the demo; when it does not, the backend did not run it.
    pub supported: bool,
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
    pub fn of(backend: &str, supported: bool, runs: &[Run]) -> Self {
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
            supported,
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
            peak_pss_kib: summary(&|r| {
                (r.samples >= MIN_MEMORY_SAMPLES).then_some(r.peak_pss_kib as f64)
            }),
            largest_rss_kib: summary(&|r| {
                (r.samples >= MIN_MEMORY_SAMPLES).then_some(r.largest_rss_kib as f64)
            }),
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

/// A backend as the summary of one demo sees it.
#[derive(Clone, Copy, Debug)]
pub struct Contender<'a> {
    pub name: &'a str,
    pub kind: &'a BackendKind,
    /// Its listing names the demo.
    pub supported: bool,
}

/// An event as two correct runs must agree on it: worker, what, detail.
type EventKey = (String, String, Option<String>);

/// The differences between the backends for one demo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoSummary {
    pub backends: Vec<BackendSummary>,
    /// Every successful run of the backends that must agree had the same outcome (`None`:
    /// fewer than two successful runs to compare). For a demo whose outcome depends on the
    /// kind (crash), the backends of one kind must agree; across kinds outcomes differ by
    /// design, each checked against what the contract expects of its kind.
    pub outcomes_equal: Option<bool>,
    /// The first successful run of each backend emitted the same events as the first such
    /// backend's (ignoring order, and ignoring those that depend on the interleaving), among
    /// the backends that must agree (`None`: fewer than two to compare).
    pub events_same_multiset: Option<bool>,
    /// The most events of one backend that came in another order than in the first one's
    /// (length minus longest common subsequence).
    pub events_in_another_order: Option<usize>,
    /// Every figure the report shows for the demo, the ones it leads with first, each with
    /// every other backend against the first one with successful runs.
    pub figures: Vec<FigureComparison>,
    /// A run failed, outcomes or events differ where the contract says they must agree, or
    /// no backend supports the demo.
    pub failed: bool,
    /// Why it failed, one reason each (empty when it did not).
    pub problems: Vec<String>,
    /// What the comparison of outcomes and events found, its parts separated by ` · `.
    pub agreement: String,
    /// The one-line reading of all the above with the findings of the figures the report
    /// leads with, its parts separated by ` · `.
    pub verdict: String,
}

impl DemoSummary {
    /// `confidence` is that of each interval (see [`crate::stats::each_interval_confidence`]).
    pub fn of(demo: DemoId, contenders: &[Contender], runs: &[Run], confidence: f64) -> Self {
        let summaries: Vec<BackendSummary> = contenders
            .iter()
            .map(|c| BackendSummary::of(c.name, c.supported, runs))
            .collect();
        let by_design = demo.outcome_depends_on_kind();
        let groups = groups(contenders, by_design);
        let across_kinds = by_design && groups.len() > 1;
        let within = if across_kinds { " within a kind" } else { "" };

        let mut problems = Vec::new();
        if contenders.iter().all(|c| !c.supported) {
            problems.push("no backend supports it".to_string());
        }
        for s in summaries.iter().filter(|s| s.failed_runs > 0) {
            problems.push(format!(
                "{} FAILED {} of {} runs",
                s.backend,
                s.failed_runs,
                s.failed_runs + s.ok_runs
            ));
        }
        let mut parts = problems.clone();

        let outcomes = compare_outcomes(demo, &groups, runs);
        let outcomes_equal = outcomes.compared.then_some(outcomes.differences.is_empty());
        match outcomes_equal {
            Some(true) if across_kinds => {
                parts.push("outcomes agree within a kind and differ between kinds by design".into())
            }
            Some(true) => parts.push("outcomes equal".into()),
            Some(false) => {
                let problem = format!(
                    "OUTCOMES DIFFER{within}: {}",
                    outcomes.differences.join("; ")
                );
                problems.push(problem.clone());
                parts.push(problem);
            }
            None if across_kinds => parts
                .push("outcomes differ between kinds by design, each as the contract says".into()),
            None => parts.push("outcomes not comparable".into()),
        }

        let events = compare_events(demo, &groups, runs);
        let events_same_multiset = events.compared.then_some(events.differences.is_empty());
        let events_in_another_order = events.compared.then_some(events.moved);
        let within_each = if across_kinds {
            " within each kind"
        } else {
            ""
        };
        match events_same_multiset {
            Some(true) => parts.push(format!(
                "same events{within_each}, {} in another order",
                events.moved
            )),
            Some(false) => {
                let problem = format!(
                    "EVENTS DIFFER{within}: {}; {} in another order",
                    events.differences.join("; "),
                    events.moved
                );
                problems.push(problem.clone());
                parts.push(problem);
            }
            None if across_kinds => {
                parts.push("events not compared between kinds: they differ by design".into())
            }
            None => {}
        }

        // Every contrast is against the first backend given that has successful runs: the
        // order of the command line names the reference, N backends give N − 1 contrasts
        // instead of N(N − 1)/2 pairs, and each reads as "how does this one fare against the
        // reference". Crash's are only within a kind: across kinds the work differs by design.
        let comparable = |a: &Contender, b: &Contender| {
            !by_design || agreement_group(a.kind) == agreement_group(b.kind)
        };
        let figures: Vec<FigureComparison> = FigureSpec::of(demo)
            .iter()
            .map(|spec| FigureComparison::of(spec, contenders, runs, confidence, &comparable))
            .collect();
        let first_supported = contenders.iter().find(|c| c.supported);
        let kinds_not_compared = contenders
            .iter()
            .filter(|c| c.supported)
            .any(|c| first_supported.is_some_and(|first| !comparable(first, c)));
        if kinds_not_compared {
            parts.push("figures not compared between kinds: the work differs by design".into());
        }
        for c in contenders.iter().filter(|c| !c.supported) {
            parts.push(format!("not supported by {}", c.name));
        }
        let agreement = parts.join(" · ");
        let failed = !problems.is_empty();
        let findings: Vec<String> = figures
            .iter()
            .filter(|f| f.lead)
            .flat_map(FigureComparison::sentences)
            .collect();
        if !findings.is_empty() {
            if failed {
                parts.push(format!(
                    "(figures of successful runs only: {})",
                    findings.join("; ")
                ));
            } else {
                parts.extend(findings);
            }
        }
        DemoSummary {
            backends: summaries,
            outcomes_equal,
            events_same_multiset,
            events_in_another_order,
            figures,
            failed,
            problems,
            agreement,
            verdict: parts.join(" · "),
        }
    }
}

impl DemoSummary {
    /// The figure of this key, when the demo has it.
    pub fn figure(&self, key: &str) -> Option<&FigureComparison> {
        self.figures.iter().find(|f| f.key == key)
    }
}

/// Where one figure of a run comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A figure the backend measured, by its key.
    Measured(&'static str),
    /// Demo wall time minus the ideal: what the concurrency cost beyond the sleeps.
    OverheadOverIdeal,
    DemoWall,
    Cpu,
    PeakPss,
}

/// One figure the report shows for a demo.
#[derive(Clone, Copy, Debug)]
struct FigureSpec {
    key: &'static str,
    label: &'static str,
    better: Better,
    source: Source,
    /// The report leads with it: a headline of the demo, or the overhead of a sleep-bound one.
    lead: bool,
}

impl FigureSpec {
    /// The demo's figures in report order: its headlines, then for a demo that sleeps its
    /// overhead over the ideal (its lead when it has no headline), then demo time, CPU and
    /// peak memory.
    fn of(demo: DemoId) -> Vec<FigureSpec> {
        let mut specs: Vec<FigureSpec> = demo
            .headlines()
            .iter()
            .map(|h| FigureSpec {
                key: h.key,
                label: h.label,
                better: h.better,
                source: Source::Measured(h.key),
                lead: true,
            })
            .collect();
        if demo.row().ideal_wall_s > 0.0 {
            specs.push(FigureSpec {
                key: "overhead_over_ideal_s",
                label: "overhead over the ideal",
                better: Better::Lower,
                source: Source::OverheadOverIdeal,
                lead: specs.is_empty(),
            });
        }
        specs.extend([
            FigureSpec {
                key: "demo_wall_s",
                label: "demo time",
                better: Better::Lower,
                source: Source::DemoWall,
                lead: false,
            },
            FigureSpec {
                key: "cpu_s",
                label: "CPU, user + system",
                better: Better::Lower,
                source: Source::Cpu,
                lead: false,
            },
            FigureSpec {
                key: "peak_pss_kib",
                label: "peak PSS of the tree",
                better: Better::Lower,
                source: Source::PeakPss,
                lead: false,
            },
        ]);
        specs
    }

    /// The figure in one successful run, when the run has it.
    fn sample(&self, run: &Run) -> Option<f64> {
        let report = run.report.as_ref()?;
        match self.source {
            Source::Measured(key) => report.figures.measured.get(key).copied(),
            Source::OverheadOverIdeal => Some(report.wall_s - report.ideal_wall_s),
            Source::DemoWall => Some(report.wall_s),
            Source::Cpu => Some(run.cpu_s()),
            Source::PeakPss => {
                (run.samples >= MIN_MEMORY_SAMPLES).then_some(run.peak_pss_kib as f64)
            }
        }
    }
}

/// How many figures the report shows for a demo: with the number of backends, the size of
/// the family of intervals the report's confidence is shared over.
pub fn figure_count(demo: DemoId) -> usize {
    FigureSpec::of(demo).len()
}

/// The samples of one of a demo's figures (by its key) in a backend's successful runs, in
/// run order: what `--baseline` compares.
pub fn figure_samples(demo: DemoId, key: &str, backend: &str, runs: &[Run]) -> Vec<f64> {
    let Some(spec) = FigureSpec::of(demo).into_iter().find(|s| s.key == key) else {
        return Vec::new();
    };
    let mut mine: Vec<&Run> = runs
        .iter()
        .filter(|r| r.backend == backend && r.succeeded())
        .collect();
    mine.sort_by_key(|r| r.index);
    mine.into_iter().filter_map(|r| spec.sample(r)).collect()
}

/// One figure of one demo across the backends.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FigureComparison {
    /// `ns_per_update_locked`, `overhead_over_ideal_s`, `demo_wall_s`, `cpu_s`, `peak_pss_kib`:
    /// its unit is in its name.
    pub key: String,
    pub label: String,
    pub better: Better,
    /// The report leads with it.
    pub lead: bool,
    /// The backends with successful runs that have the figure, in the order given.
    pub backends: Vec<FigureOfBackend>,
    /// Every other backend against the first, where the contract lets them be compared.
    pub contrasts: Vec<Contrast>,
}

/// One backend's samples of a figure, summarised.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FigureOfBackend {
    pub backend: String,
    pub summary: Summary,
    /// The runs (numbered from 1) whose sample is an outlier by modified z-score.
    pub outlier_runs: Vec<u32>,
}

/// Another backend's figure against the reference's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Contrast {
    pub backend: String,
    pub reference: String,
    /// `None` with fewer than two successful runs on either side.
    pub interval: Option<Interval>,
}

impl Contrast {
    /// Whether the backend is better or worse than the reference, by the figure's direction;
    /// `None` when the interval holds no difference or there is no interval.
    pub fn winner(&self, better: Better) -> Option<&str> {
        let finding = self.interval.as_ref()?.finding();
        let other_is_better = match (finding, better) {
            (Finding::NoSignificantDifference, _) => return None,
            (Finding::Lower, Better::Lower) | (Finding::Higher, Better::Higher) => true,
            (Finding::Lower, Better::Higher) | (Finding::Higher, Better::Lower) => false,
        };
        Some(if other_is_better {
            &self.backend
        } else {
            &self.reference
        })
    }
}

impl FigureComparison {
    fn of(
        spec: &FigureSpec,
        contenders: &[Contender],
        runs: &[Run],
        confidence: f64,
        comparable: &dyn Fn(&Contender, &Contender) -> bool,
    ) -> Self {
        let samples_of = |name: &str| -> Vec<(u32, f64)> {
            runs.iter()
                .filter(|r| r.backend == name && r.succeeded())
                .filter_map(|r| Some((r.index, spec.sample(r)?)))
                .collect()
        };
        let with_samples: Vec<(&Contender, Vec<(u32, f64)>)> = contenders
            .iter()
            .filter(|c| c.supported)
            .map(|c| (c, samples_of(c.name)))
            .filter(|(_, samples)| !samples.is_empty())
            .collect();
        let values = |samples: &[(u32, f64)]| samples.iter().map(|&(_, x)| x).collect::<Vec<_>>();
        let backends = with_samples
            .iter()
            .filter_map(|(c, samples)| {
                let values = values(samples);
                Some(FigureOfBackend {
                    backend: c.name.to_string(),
                    summary: Summary::of(&values)?,
                    outlier_runs: outliers(&values)
                        .into_iter()
                        .map(|i| samples[i].0 + 1)
                        .collect(),
                })
            })
            .collect();
        let mut contrasts = Vec::new();
        if let Some(((reference, reference_samples), others)) = with_samples.split_first() {
            for (other, samples) in others.iter().filter(|(c, _)| comparable(reference, c)) {
                contrasts.push(Contrast {
                    backend: other.name.to_string(),
                    reference: reference.name.to_string(),
                    interval: Interval::between(
                        &values(reference_samples),
                        &values(samples),
                        confidence,
                    ),
                });
            }
        }
        FigureComparison {
            key: spec.key.to_string(),
            label: spec.label.to_string(),
            better: spec.better,
            lead: spec.lead,
            backends,
            contrasts,
        }
    }

    /// Each backend's median with its unit: `["threads 52.1 µs", "processes 210 µs"]`.
    pub fn medians(&self) -> Vec<String> {
        self.backends
            .iter()
            .map(|b| {
                format!(
                    "{} {}",
                    b.backend,
                    contract::units::show(&self.key, b.summary.median)
                )
            })
            .collect()
    }

    /// One sentence per contrast: `one update under the lock: processes 0.94× threads
    /// (0.80–1.10), no significant difference`.
    pub fn sentences(&self) -> Vec<String> {
        self.contrasts
            .iter()
            .map(|c| format!("{}: {}", self.label, self.contrast_phrase(c)))
            .collect()
    }

    /// `processes 4.01× threads (3.10–5.20), threads better`, or with a difference
    /// `processes +1.20 ms on threads (0.30 ms–2.10 ms), threads better`.
    pub fn contrast_phrase(&self, contrast: &Contrast) -> String {
        let Some(interval) = &contrast.interval else {
            return format!(
                "{} against {}: too few runs for an interval",
                contrast.backend, contrast.reference
            );
        };
        let show = |value: f64| contract::units::show(&self.key, value);
        let size = match interval.scale {
            crate::stats::Scale::Ratio => format!(
                "{} {}× {} ({}–{})",
                contrast.backend,
                contract::units::significant(interval.estimate),
                contrast.reference,
                contract::units::significant(interval.low),
                contract::units::significant(interval.high),
            ),
            crate::stats::Scale::Difference => format!(
                "{} {}{} on {} ({} to {})",
                contrast.backend,
                if interval.estimate >= 0.0 { "+" } else { "" },
                show(interval.estimate),
                contrast.reference,
                show(interval.low),
                show(interval.high),
            ),
        };
        match contrast.winner(self.better) {
            Some(winner) => format!("{size}, {winner} better"),
            None => format!("{size}, no significant difference"),
        }
    }
}

/// The groups of backends that must agree: every backend that supports the demo, or for a
/// demo whose outcome depends on the kind, those of one kind (worker and isolation), in the
/// order given.
fn groups<'a>(contenders: &[Contender<'a>], by_design: bool) -> Vec<Vec<Contender<'a>>> {
    let mut groups: Vec<Vec<Contender>> = Vec::new();
    for c in contenders.iter().filter(|c| c.supported) {
        let joins = groups
            .iter_mut()
            .find(|group| !by_design || agreement_group(group[0].kind) == agreement_group(c.kind));
        match joins {
            Some(group) => group.push(*c),
            None => groups.push(vec![*c]),
        }
    }
    groups
}

/// What comparing within the groups found.
#[derive(Default)]
struct Agreement {
    /// At least two things were compared.
    compared: bool,
    /// One line per difference.
    differences: Vec<String>,
    /// Events only: the most that came in another order.
    moved: usize,
}

/// The successful runs of a group's backends, in the order given, then by run.
fn successful_runs<'r>(group: &[Contender], runs: &'r [Run]) -> Vec<&'r Run> {
    let mut chosen: Vec<&Run> = runs
        .iter()
        .filter(|r| r.succeeded() && r.report.is_some())
        .filter(|r| group.iter().any(|c| c.name == r.backend))
        .collect();
    chosen.sort_by_key(|r| (group.iter().position(|c| c.name == r.backend), r.index));
    chosen
}

/// Every successful run's outcome against the first one of its group.
fn compare_outcomes(demo: DemoId, groups: &[Vec<Contender>], runs: &[Run]) -> Agreement {
    let mut agreement = Agreement::default();
    for group in groups {
        let outcomes: Vec<(&Run, serde_json::Value)> = successful_runs(group, runs)
            .into_iter()
            .filter_map(|r| Some((r, demo.comparable_outcome(&r.report.as_ref()?.outcome))))
            .collect();
        let Some(((reference_run, reference), others)) = outcomes.split_first() else {
            continue;
        };
        agreement.compared |= !others.is_empty();
        let differing: Vec<String> = others
            .iter()
            .filter(|(_, outcome)| outcome != reference)
            .map(|(r, _)| format!("{} run {}", r.backend, r.index + 1))
            .collect();
        if !differing.is_empty() {
            agreement.differences.push(format!(
                "{} differ{} from {} run {}",
                differing.join(", "),
                if differing.len() == 1 { "s" } else { "" },
                reference_run.backend,
                reference_run.index + 1
            ));
        }
    }
    agreement
}

/// The first successful run's events of each backend against the first backend's of its
/// group.
fn compare_events(demo: DemoId, groups: &[Vec<Contender>], runs: &[Run]) -> Agreement {
    let mut agreement = Agreement::default();
    for group in groups {
        let firsts: Vec<(&str, Vec<EventKey>)> = group
            .iter()
            .filter_map(|c| {
                let run = successful_runs(std::slice::from_ref(c), runs)
                    .into_iter()
                    .next()?;
                let events = run.report.as_ref()?.events.iter();
                Some((
                    c.name,
                    events.filter_map(|e| demo.comparable_event(e)).collect(),
                ))
            })
            .collect();
        let Some(((reference_name, reference), others)) = firsts.split_first() else {
            continue;
        };
        for (name, events) in others {
            agreement.compared = true;
            agreement.moved = agreement.moved.max(out_of_order(reference, events));
            let (missing, extra) = multiset_difference(reference, events);
            if missing.is_empty() && extra.is_empty() {
                continue;
            }
            let mut said = Vec::new();
            if let Some(first) = missing.first() {
                said.push(format!("{} missing (e.g. {})", missing.len(), show(first)));
            }
            if let Some(first) = extra.first() {
                said.push(format!("{} extra (e.g. {})", extra.len(), show(first)));
            }
            agreement.differences.push(format!(
                "{name} against {reference_name}: {}",
                said.join(", ")
            ));
        }
    }
    agreement
}

/// `t1 done`, `t2 result = 8`.
fn show(event: &EventKey) -> String {
    match &event.2 {
        Some(detail) => format!("`{} {} {detail}`", event.0, event.1),
        None => format!("`{} {}`", event.0, event.1),
    }
}

/// What `a` holds that `b` lacks, and what `b` holds that `a` lacks, counting repeats.
fn multiset_difference<T: Ord + Clone>(a: &[T], b: &[T]) -> (Vec<T>, Vec<T>) {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                only_a.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                only_b.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    only_a.extend_from_slice(&a[i..]);
    only_b.extend_from_slice(&b[j..]);
    (only_a, only_b)
}

/// `threads, spare (thread workers, not isolated) · processes (process workers, isolated,
/// started by fork)`: the backends by kind, in the order given.
pub fn kinds_line<'a>(backends: impl IntoIterator<Item = (&'a str, &'a BackendKind)>) -> String {
    let mut kinds: Vec<(&BackendKind, Vec<&str>)> = Vec::new();
    for (name, kind) in backends {
        match kinds.iter_mut().find(|(seen, _)| *seen == kind) {
            Some((_, names)) => names.push(name),
            None => kinds.push((kind, vec![name])),
        }
    }
    kinds
        .iter()
        .map(|(kind, names)| format!("{} ({})", names.join(", "), describe_kind(kind)))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::RunStatus;
    use contract::domain::WorkerKind;
    use contract::report::{DemoReport, Figures};
    use contract::trace::Event;

    fn kind(worker: WorkerKind, isolated: bool) -> BackendKind {
        BackendKind {
            worker,
            isolated,
            start_method: None,
            executor: None,
        }
    }

    fn run(backend: &str, index: u32, outcome: serde_json::Value, events: &[&str]) -> Run {
        Run {
            backend: backend.into(),
            index,
            status: RunStatus::Ok,
            problem: None,
            process_wall_s: 0.2,
            user_s: 0.01,
            sys_s: 0.01,
            voluntary_switches: 1,
            involuntary_switches: 1,
            peak_pss_kib: 100,
            largest_rss_kib: 100,
            processes_seen: 1,
            threads_seen: 2,
            samples: 1,
            report: Some(DemoReport {
                id: "crash".into(),
                ok: true,
                outcome,
                problem: None,
                wall_s: 0.1 + f64::from(index) / 100.0,
                ideal_wall_s: 0.0,
                events: events
                    .iter()
                    .map(|what| Event {
                        t_s: 0.0,
                        worker: "t1".into(),
                        what: what.to_string(),
                        detail: None,
                    })
                    .collect(),
                figures: Figures::default(),
            }),
        }
    }

    #[test]
    fn crash_agrees_within_a_kind_and_differs_between_kinds() {
        let thread = kind(WorkerKind::Thread, false);
        let process = kind(WorkerKind::Process, true);
        let contenders = [
            Contender {
                name: "a",
                kind: &thread,
                supported: true,
            },
            Contender {
                name: "b",
                kind: &process,
                supported: true,
            },
            Contender {
                name: "c",
                kind: &thread,
                supported: true,
            },
        ];
        let one = serde_json::json!({"x": 1});
        let two = serde_json::json!({"x": 2});
        let runs = [
            run("a", 0, one.clone(), &["died"]),
            run("b", 0, two.clone(), &["lived"]),
            run("c", 0, one.clone(), &["died"]),
        ];
        let summary = DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95);
        assert_eq!(summary.outcomes_equal, Some(true), "{}", summary.verdict);
        assert_eq!(summary.events_same_multiset, Some(true));
        assert!(!summary.failed, "{}", summary.verdict);
        assert_eq!(
            summary.figure("demo_wall_s").unwrap().contrasts.len(),
            1,
            "a against c only"
        );

        let runs = [
            run("a", 0, one.clone(), &["died"]),
            run("b", 0, two, &["lived"]),
            run("c", 0, serde_json::json!({"x": 3}), &["died", "again"]),
        ];
        let summary = DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95);
        assert_eq!(summary.outcomes_equal, Some(false));
        assert_eq!(summary.events_same_multiset, Some(false));
        assert!(summary.failed);
        assert!(
            summary
                .verdict
                .contains("OUTCOMES DIFFER within a kind: c run 1 differs from a run 1"),
            "{}",
            summary.verdict
        );
        assert!(
            summary
                .verdict
                .contains("EVENTS DIFFER within a kind: c against a: 1 extra (e.g. `t1 again`)"),
            "{}",
            summary.verdict
        );
    }

    #[test]
    fn other_demos_agree_across_kinds() {
        let thread = kind(WorkerKind::Thread, false);
        let process = kind(WorkerKind::Process, true);
        let contenders = [
            Contender {
                name: "a",
                kind: &thread,
                supported: true,
            },
            Contender {
                name: "b",
                kind: &process,
                supported: true,
            },
            Contender {
                name: "c",
                kind: &process,
                supported: false,
            },
        ];
        let runs = [
            run("a", 0, serde_json::json!({"x": 1}), &["done"]),
            run("b", 0, serde_json::json!({"x": 2}), &["done"]),
        ];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &runs, 0.95);
        assert_eq!(summary.outcomes_equal, Some(false));
        assert!(summary.failed);
        assert!(
            summary.verdict.contains("not supported by c"),
            "{}",
            summary.verdict
        );
        assert_eq!(summary.backends.len(), 3);
        assert!(!summary.backends[2].supported);
    }

    #[test]
    fn multiset_difference_counts_repeats() {
        assert_eq!(
            multiset_difference(&[1, 2, 2, 3], &[2, 3, 3]),
            (vec![1, 2], vec![3])
        );
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::measure::RunStatus;
    use contract::domain::WorkerKind;
    use contract::report::{DemoReport, Figures};
    use contract::trace::Event;

    const THREAD: BackendKind = BackendKind {
        worker: WorkerKind::Thread,
        isolated: false,
        start_method: None,
        executor: None,
    };

    fn process() -> BackendKind {
        BackendKind {
            worker: WorkerKind::Process,
            isolated: true,
            start_method: Some("fork".into()),
            executor: None,
        }
    }

    fn contender<'a>(name: &'a str, kind: &'a BackendKind) -> Contender<'a> {
        Contender {
            name,
            kind,
            supported: true,
        }
    }

    /// An event of `t1`, written `what` or `what detail`.
    fn event(said: &str) -> Event {
        let (what, detail) = match said.split_once(' ') {
            Some((what, detail)) => (what, Some(detail.to_string())),
            None => (said, None),
        };
        Event {
            t_s: 0.0,
            worker: "t1".into(),
            what: what.into(),
            detail,
        }
    }

    /// A successful run of `backend` whose demo took `wall_s`, with that outcome and events.
    fn ok(
        backend: &str,
        index: u32,
        wall_s: f64,
        outcome: serde_json::Value,
        events: &[&str],
    ) -> Run {
        Run {
            backend: backend.into(),
            index,
            status: RunStatus::Ok,
            problem: None,
            process_wall_s: wall_s + 0.5,
            user_s: 0.25,
            sys_s: 0.5,
            voluntary_switches: 10,
            involuntary_switches: 2,
            peak_pss_kib: 1000,
            largest_rss_kib: 800,
            processes_seen: 1,
            threads_seen: 3,
            samples: 5,
            report: Some(DemoReport {
                id: "start".into(),
                ok: true,
                outcome,
                problem: None,
                wall_s,
                ideal_wall_s: 0.0,
                events: events.iter().map(|said| event(said)).collect(),
                figures: Figures::default(),
            }),
        }
    }

    /// The same run, failed as `status` says, with `problem`.
    fn failed(mut run: Run, status: RunStatus, problem: &str) -> Run {
        run.status = status;
        run.problem = Some(problem.into());
        run
    }

    fn one() -> serde_json::Value {
        serde_json::json!({"x": 1})
    }

    #[test]
    fn only_the_successful_runs_of_a_backend_enter_its_figures() {
        let with_figures = |mut run: Run, workers, ipc: (u64, u64), spawn: &[f64], x: f64| {
            let figures = &mut run.report.as_mut().unwrap().figures;
            figures.workers_created = workers;
            figures.ipc_messages = Some(ipc.0);
            figures.ipc_bytes = Some(ipc.1);
            figures.spawn_to_first_event_us = spawn.to_vec();
            figures.measured.insert("x".into(), x);
            run
        };
        let mut second = ok("a", 2, 3.0, one(), &[]);
        second.user_s = 1.0;
        second.sys_s = 1.25;
        // No memory sample in this run: its memory figures are zeros, not measurements.
        second.samples = 0;
        (second.peak_pss_kib, second.largest_rss_kib) = (0, 0);
        second.processes_seen = 2;
        let mut other_backend = ok("b", 0, 100.0, one(), &[]);
        other_backend.processes_seen = 50;
        let wild = |run: Run| {
            let mut run = with_figures(run, 99, (999, 9999), &[1e6], 1000.0);
            run.processes_seen = 70;
            run.peak_pss_kib = 1 << 30;
            run
        };
        let runs = [
            with_figures(
                ok("a", 0, 1.0, one(), &[]),
                3,
                (10, 100),
                &[10.0, 30.0],
                1.0,
            ),
            failed(
                wild(ok("a", 1, 50.0, one(), &[])),
                RunStatus::OutcomeFailed,
                "t1 died",
            ),
            with_figures(second, 4, (20, 200), &[20.0], 3.0),
            failed(
                ok("a", 3, 60.0, one(), &[]),
                RunStatus::Signal,
                "killed by signal SIGKILL",
            ),
            failed(
                wild(ok("a", 4, 70.0, one(), &[])),
                RunStatus::OutcomeRejected,
                "lied",
            ),
            other_backend,
        ];
        let a = BackendSummary::of("a", true, &runs);
        assert_eq!((a.ok_runs, a.failed_runs), (2, 3));
        assert_eq!(
            a.failures,
            [
                "run 2: t1 died",
                "run 4: killed by signal SIGKILL",
                "run 5: lied"
            ]
        );
        let demo = a.demo_wall_s.unwrap();
        assert_eq!(
            (demo.n, demo.min, demo.max, demo.median),
            (2, 1.0, 3.0, 2.0)
        );
        assert_eq!(a.process_wall_s.unwrap().median, 2.5);
        // CPU: 0.25 + 0.5, then 1.0 + 1.25.
        let cpu = a.cpu_s.unwrap();
        assert_eq!((cpu.min, cpu.max), (0.75, 2.25));
        // The second successful run had no memory sample: only the first one's counts.
        let (pss, rss) = (a.peak_pss_kib.unwrap(), a.largest_rss_kib.unwrap());
        assert_eq!(
            (pss.n, pss.median, rss.n, rss.median),
            (1, 1000.0, 1, 800.0)
        );
        assert_eq!(a.voluntary_switches.unwrap().median, 10.0);
        assert_eq!(a.involuntary_switches.unwrap().median, 2.0);
        assert_eq!((a.processes_seen, a.threads_seen), (Some(2), Some(3)));
        assert_eq!(a.workers_created, Some(4));
        assert_eq!(a.spawn_to_first_event_us, Some(20.0));
        assert_eq!((a.ipc_messages, a.ipc_bytes), (Some(20), Some(200)));
        let x = a.measured["x"];
        assert_eq!((x.n, x.median), (2, 2.0));
        assert!(a.supported);

        let none = BackendSummary::of("c", false, &runs);
        assert_eq!(
            (none.ok_runs, none.failed_runs, none.demo_wall_s),
            (0, 0, None)
        );
        assert!(!none.supported);
    }

    #[test]
    fn outcomes_that_differ_fail_the_demo_and_only_successful_runs_are_compared() {
        let process = process();
        let contenders = [contender("a", &THREAD), contender("b", &process)];
        let two = serde_json::json!({"x": 2});
        // Given in another order than the backends': the reference is still a's first run.
        let runs = [
            ok("b", 0, 0.2, two.clone(), &["done"]),
            ok("a", 1, 0.1, one(), &["done"]),
            ok("a", 0, 0.1, one(), &["done"]),
        ];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &runs, 0.95);
        assert_eq!(summary.outcomes_equal, Some(false));
        assert!(summary.failed);
        assert_eq!(
            summary.problems,
            ["OUTCOMES DIFFER: b run 1 differs from a run 1"]
        );

        // A failed run's outcome is not compared: its failure is the problem.
        let runs = [
            ok("a", 0, 0.1, one(), &["done"]),
            failed(
                ok("b", 0, 0.2, two, &["done"]),
                RunStatus::OutcomeFailed,
                "t1 died",
            ),
            ok("b", 1, 0.2, one(), &["done"]),
        ];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &runs, 0.95);
        assert_eq!(summary.outcomes_equal, Some(true));
        assert_eq!(summary.problems, ["b FAILED 1 of 2 runs"]);
        assert!(summary.failed);
    }

    #[test]
    fn events_that_differ_with_the_same_count_fail_the_demo() {
        let contenders = [contender("a", &THREAD), contender("b", &THREAD)];
        let runs = [
            ok("a", 0, 0.1, one(), &["result = 8", "done", "done"]),
            ok("b", 0, 0.1, one(), &["result = 9", "done", "done"]),
        ];
        let summary = DemoSummary::of(DemoId::CustomInit, &contenders, &runs, 0.95);
        assert_eq!(summary.outcomes_equal, Some(true));
        assert_eq!(summary.events_same_multiset, Some(false));
        assert_eq!(
            summary.problems,
            [
                "EVENTS DIFFER: b against a: 1 missing (e.g. `t1 result = 8`), 1 extra (e.g. \
                 `t1 result = 9`); 1 in another order"
            ]
        );
        // One missing, none extra.
        let runs = [
            ok("a", 0, 0.1, one(), &["done", "done"]),
            ok("b", 0, 0.1, one(), &["done"]),
        ];
        let summary = DemoSummary::of(DemoId::CustomInit, &contenders, &runs, 0.95);
        assert_eq!(
            summary.problems,
            ["EVENTS DIFFER: b against a: 1 missing (e.g. `t1 done`); 1 in another order"]
        );
        // Only the order differs: the same events.
        let runs = [
            ok("a", 0, 0.1, one(), &["started", "done"]),
            ok("b", 0, 0.1, one(), &["done", "started"]),
        ];
        let summary = DemoSummary::of(DemoId::CustomInit, &contenders, &runs, 0.95);
        assert_eq!(summary.events_same_multiset, Some(true));
        assert_eq!(summary.events_in_another_order, Some(1));
        assert!(!summary.failed, "{}", summary.verdict);
    }

    #[test]
    fn the_verdict_of_two_backends_that_agree() {
        let contenders = [contender("a", &THREAD), contender("b", &THREAD)];
        let runs = [
            ok("a", 0, 0.1, one(), &["done"]),
            ok("b", 0, 0.3, one(), &["done"]),
            ok("a", 1, 0.1, one(), &["done"]),
            ok("b", 1, 0.3, one(), &["done"]),
            ok("a", 2, 0.1, one(), &["done"]),
            ok("b", 2, 0.3, one(), &["done"]),
        ];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &runs, 0.95);
        // `start` sleeps: it leads with its overhead over the ideal, b's three times a's.
        assert_eq!(
            summary.verdict,
            "outcomes equal · same events, 0 in another order · overhead over the ideal: b \
             3.00× a (3.00–3.00), a better"
        );
        assert_eq!(
            summary.agreement,
            "outcomes equal · same events, 0 in another order"
        );
        assert!(!summary.failed);
        assert!(summary.problems.is_empty());
        let keys: Vec<&str> = summary.figures.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "overhead_over_ideal_s",
                "demo_wall_s",
                "cpu_s",
                "peak_pss_kib"
            ]
        );
        let wall = summary.figure("demo_wall_s").unwrap();
        assert!(!wall.lead);
        assert_eq!(wall.contrasts.len(), 1);
        assert_eq!(wall.contrasts[0].winner(Better::Lower), Some("a"));
        // The same samples in another order: no significant difference.
        let runs = [
            ok("a", 0, 0.1, one(), &["done"]),
            ok("b", 0, 0.2, one(), &["done"]),
            ok("a", 1, 0.2, one(), &["done"]),
            ok("b", 1, 0.1, one(), &["done"]),
            ok("a", 2, 0.1, one(), &["done"]),
            ok("b", 2, 0.2, one(), &["done"]),
        ];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &runs, 0.95);
        assert!(
            summary.verdict.ends_with(
                "overhead over the ideal: b 1.26× a (0.509–3.12), no significant difference"
            ),
            "{}",
            summary.verdict
        );
    }

    #[test]
    fn the_timing_of_a_demo_that_failed_is_marked_as_of_the_successful_runs_only() {
        let process = process();
        let contenders = [
            contender("a", &THREAD),
            contender("b", &process),
            Contender {
                supported: false,
                ..contender("c", &THREAD)
            },
        ];
        let runs = [
            ok("a", 0, 0.1, one(), &["done"]),
            ok("b", 0, 0.2, one(), &["done"]),
            failed(
                ok("b", 1, 0.2, one(), &["done"]),
                RunStatus::TimedOut,
                "no end",
            ),
        ];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &runs, 0.95);
        assert_eq!(
            summary.verdict,
            "b FAILED 1 of 2 runs · outcomes equal · same events, 0 in another order · not \
             supported by c · (figures of successful runs only: overhead over the ideal: b \
             against a: too few runs for an interval)"
        );
        // Backends of other kinds are timed against each other, except for crash.
        assert_eq!(summary.figure("demo_wall_s").unwrap().contrasts.len(), 1);
    }

    #[test]
    fn a_demo_no_backend_supports_fails() {
        let contenders = [Contender {
            supported: false,
            ..contender("a", &THREAD)
        }];
        let summary = DemoSummary::of(DemoId::Start, &contenders, &[], 0.95);
        assert!(summary.failed);
        assert_eq!(summary.problems, ["no backend supports it"]);
        assert_eq!(
            summary.verdict,
            "no backend supports it · outcomes not comparable · not supported by a"
        );
    }

    #[test]
    fn crash_within_one_kind_is_compared_as_any_other_demo() {
        let contenders = [contender("a", &THREAD), contender("b", &THREAD)];
        let runs = [
            ok("a", 0, 0.1, one(), &["died"]),
            ok("b", 0, 0.1, serde_json::json!({"x": 2}), &["died"]),
        ];
        let summary = DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95);
        assert_eq!(
            summary.problems,
            ["OUTCOMES DIFFER: b run 1 differs from a run 1"]
        );
    }

    #[test]
    fn crash_agreeing_within_each_kind() {
        let process = process();
        let contenders = [
            contender("a", &THREAD),
            contender("b", &process),
            contender("c", &THREAD),
        ];
        let runs = [
            ok("a", 0, 0.1, one(), &["died"]),
            ok("b", 0, 1.0, serde_json::json!({"x": 2}), &["lived"]),
            ok("c", 0, 0.2, one(), &["died"]),
        ];
        let summary = DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95);
        assert_eq!(
            summary.verdict,
            "outcomes agree within a kind and differ between kinds by design · same events \
             within each kind, 0 in another order · figures not compared between kinds: the \
             work differs by design · overhead over the ideal: c against a: too few runs for an \
             interval"
        );
        assert!(!summary.failed);
    }

    #[test]
    fn crash_across_kinds_with_one_backend_of_each() {
        let process = process();
        let contenders = [contender("a", &THREAD), contender("b", &process)];
        let runs = [
            ok("a", 0, 0.1, one(), &["died"]),
            ok("b", 0, 1.0, serde_json::json!({"x": 2}), &["lived"]),
        ];
        let summary = DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95);
        assert_eq!(
            summary.verdict,
            "outcomes differ between kinds by design, each as the contract says · events not \
             compared between kinds: they differ by design · figures not compared between \
             kinds: the work differs by design"
        );
        assert!(!summary.failed);
        assert_eq!(
            (summary.outcomes_equal, summary.events_same_multiset),
            (None, None)
        );
        assert!(summary.figure("demo_wall_s").unwrap().contrasts.is_empty());
    }

    #[test]
    fn the_kinds_line_groups_the_backends_by_kind_in_the_order_given() {
        let process = process();
        let line = kinds_line([
            ("threads", &THREAD),
            ("processes", &process),
            ("spare", &THREAD),
        ]);
        assert_eq!(
            line,
            "threads, spare (thread workers, not isolated) · processes (process workers, \
             isolated, started by fork)"
        );
    }

    #[test]
    fn multiset_difference_of_sequences_in_any_order() {
        assert_eq!(
            multiset_difference(&[3, 1, 2, 2], &[2, 4, 3, 3]),
            (vec![1, 2], vec![3, 4])
        );
        assert_eq!(multiset_difference(&[1, 2], &[2, 1]), (vec![], vec![]));
        assert_eq!(multiset_difference(&[5, 6], &[]), (vec![5, 6], vec![]));
        assert_eq!(multiset_difference(&[], &[7]), (vec![], vec![7]));
    }
}
