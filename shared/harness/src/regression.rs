//! `--baseline FILE`: the figures each demo leads with, per backend, against an earlier export
//! of compare (`--export-json`), each change with its interval and whether it is significant;
//! with `--fail-on-regression`, a significant change for the worse fails the comparison.

use super::CompareDocument;
use super::error::Error;
use super::stats::{Finding, Interval, Summary, each_interval_confidence};
use super::summary::figure_samples;
use contract::demos::{Better, DemoId};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What changed since the baseline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// The baseline file as given.
    pub file: String,
    pub changes: Vec<Change>,
    /// How many changes are significant and for the worse.
    pub regressions: usize,
}

/// One lead figure of one backend on one demo, then and now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub demo: String,
    pub backend: String,
    pub key: String,
    pub label: String,
    pub before: Summary,
    pub after: Summary,
    /// Now against then (a ratio, or a difference when a sample is not positive); `None`
    /// with fewer than two runs on either side.
    pub interval: Option<Interval>,
    pub verdict: ChangeVerdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeVerdict {
    Regressed,
    Improved,
    NoSignificantChange,
    TooFewRuns,
}

/// Reads an earlier `--export-json`; a missing or foreign file is bad input.
pub fn load(path: &Path) -> Result<CompareDocument, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::BaselineUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| Error::BaselineNotAnExport {
        path: path.to_path_buf(),
        source,
    })
}

/// Every lead figure of every backend and demo found in both documents, now against then.
/// The intervals hold together with the report's confidence (Bonferroni over the changes).
pub fn compare(
    file: &str,
    baseline: &CompareDocument,
    current: &CompareDocument,
) -> BaselineComparison {
    struct Pending {
        demo: String,
        backend: String,
        key: String,
        label: String,
        better: Better,
        before: Vec<f64>,
        after: Vec<f64>,
    }
    let mut pending = Vec::new();
    for now in &current.demos {
        let Some(demo) = DemoId::ALL.into_iter().find(|d| d.id() == now.id) else {
            continue;
        };
        let Some(then) = baseline.demos.iter().find(|d| d.id == now.id) else {
            continue;
        };
        for figure in now.summary.figures.iter().filter(|f| f.lead) {
            for backend in &figure.backends {
                let before = figure_samples(demo, &figure.key, &backend.backend, &then.runs);
                let after = figure_samples(demo, &figure.key, &backend.backend, &now.runs);
                if before.is_empty() || after.is_empty() {
                    continue;
                }
                pending.push(Pending {
                    demo: now.id.clone(),
                    backend: backend.backend.clone(),
                    key: figure.key.clone(),
                    label: figure.label.clone(),
                    better: figure.better,
                    before,
                    after,
                });
            }
        }
    }
    let confidence = each_interval_confidence(pending.len());
    let changes: Vec<Change> = pending
        .into_iter()
        .filter_map(|p| {
            let interval = Interval::between(&p.before, &p.after, confidence);
            let verdict = match interval.map(|i| (i.finding(), p.better)) {
                None => ChangeVerdict::TooFewRuns,
                Some((Finding::NoSignificantDifference, _)) => ChangeVerdict::NoSignificantChange,
                Some((Finding::Higher, Better::Lower) | (Finding::Lower, Better::Higher)) => {
                    ChangeVerdict::Regressed
                }
                Some((Finding::Lower, Better::Lower) | (Finding::Higher, Better::Higher)) => {
                    ChangeVerdict::Improved
                }
            };
            Some(Change {
                before: Summary::of(&p.before)?,
                after: Summary::of(&p.after)?,
                demo: p.demo,
                backend: p.backend,
                key: p.key,
                label: p.label,
                interval,
                verdict,
            })
        })
        .collect();
    BaselineComparison {
        file: file.to_string(),
        regressions: changes
            .iter()
            .filter(|c| c.verdict == ChangeVerdict::Regressed)
            .count(),
        changes,
    }
}

impl Change {
    /// `lock threads one update under the lock: 1.40 ns → 2.10 ns, 1.50× (1.20–1.90), REGRESSED`.
    pub fn line(&self) -> String {
        let show = |value: f64| contract::units::show(&self.key, value);
        let size = match &self.interval {
            Some(i) if i.scale == super::stats::Scale::Ratio => format!(
                ", {}× ({}–{})",
                contract::units::significant(i.estimate),
                contract::units::significant(i.low),
                contract::units::significant(i.high)
            ),
            Some(i) => format!(
                ", {} ({} to {})",
                show(i.estimate),
                show(i.low),
                show(i.high)
            ),
            None => String::new(),
        };
        let verdict = match self.verdict {
            ChangeVerdict::Regressed => "REGRESSED",
            ChangeVerdict::Improved => "improved",
            ChangeVerdict::NoSignificantChange => "no significant change",
            ChangeVerdict::TooFewRuns => "too few runs for an interval",
        };
        format!(
            "{} {} {}: {} → {}{size}, {verdict}",
            self.demo,
            self.backend,
            self.label,
            show(self.before.median),
            show(self.after.median)
        )
    }
}
