//! What a run reports: the `--json` document and the verdict lines of the terminal.

use crate::trace::Event;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole `--json` document of one binary's run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunDocument {
    /// The backend's name (`threads`, `processes`, or any other).
    pub backend: String,
    /// What its workers are: the harness keys on this, never on the name.
    pub kind: crate::domain::BackendKind,
    /// The language and runtime the backend runs on, e.g. `{"language": "Rust"}`.
    #[serde(default)]
    pub runtime: BTreeMap<String, String>,
    /// The `--scale` the run used.
    pub scale: f64,
    pub demos: Vec<DemoReport>,
}

/// What `--list --json` prints: who the backend is and which demos it has, without running any.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Listing {
    pub backend: String,
    pub kind: crate::domain::BackendKind,
    #[serde(default)]
    pub runtime: BTreeMap<String, String>,
    /// The ids of the demos it implements.
    pub demos: Vec<String>,
}

/// One demo's report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoReport {
    pub id: String,
    /// The outcome checked against the contract.
    pub ok: bool,
    /// The demo's typed outcome; `null` when the demo did not complete.
    pub outcome: serde_json::Value,
    /// Why `ok` is false: the check that failed, or the worker that died and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The demo's own wall time.
    pub wall_s: f64,
    /// The wall time with perfect concurrency at this scale (0 for demos that do not sleep).
    pub ideal_wall_s: f64,
    pub events: Vec<Event>,
    pub figures: Figures,
}

/// The backend's own figures for one demo.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Figures {
    /// Threads spawned or processes forked.
    pub workers_created: u32,
    /// Per worker, in start order: microseconds from asking for it to its first event.
    pub spawn_to_first_event_us: Vec<f64>,
    /// How each worker's result reached the parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_via: Option<String>,
    /// Where the state the workers share lives, and what guards it (shared-state demos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_via: Option<String>,
    /// Messages the parent received over IPC, plus the replies it sent (processes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc_messages: Option<u64>,
    /// Payload bytes of those messages and replies, as serialised (processes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc_bytes: Option<u64>,
    /// Named measurements of the demo (e.g. `ns_per_update_locked`), each with its unit
    /// in its name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measured: BTreeMap<String, f64>,
    /// Named facts of the run that are not numbers (e.g. `output_dir`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
}

impl Figures {
    /// Counts one message of `bytes` received over IPC.
    pub fn count_ipc_message(&mut self, bytes: usize) {
        *self.ipc_messages.get_or_insert(0) += 1;
        *self.ipc_bytes.get_or_insert(0) += bytes as u64;
    }
}

/// The name of a signal number, e.g. `SIGKILL`.
pub fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string())
}

/// The median of some samples (the mean of the middle two for an even count).
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The `p`-th percentile (0–100) of some samples, by nearest rank.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// One verdict line: `join         ok        5.004 s  ideal 5 s  ·  5 workers, spawn→first event 61 µs`.
pub fn verdict_line(report: &DemoReport) -> String {
    let status = if report.ok { "ok" } else { "differs" };
    let mut line = format!("  {:<12} {:<8} {:>8.3} s", report.id, status, report.wall_s);
    if report.ideal_wall_s > 0.0 {
        line.push_str(&format!(
            "  ideal {} s",
            crate::trace::format_seconds(report.ideal_wall_s)
        ));
    }
    let figures = &report.figures;
    line.push_str(&format!("  · workers {}", figures.workers_created));
    if let Some(us) = median(&figures.spawn_to_first_event_us) {
        line.push_str(&format!(", spawn→first event {us:.0} µs"));
    }
    if let (Some(messages), Some(bytes)) = (figures.ipc_messages, figures.ipc_bytes) {
        line.push_str(&format!(", IPC {messages} msgs / {bytes} B"));
    }
    for (name, value) in &figures.measured {
        line.push_str(&format!(", {name} {value:.3}"));
    }
    if let Some(shared_via) = &figures.shared_via {
        line.push_str(&format!("\n               shared via {shared_via}"));
    }
    for (name, value) in &figures.notes {
        line.push_str(&format!(", {name} {value}"));
    }
    if let Some(problem) = &report.problem {
        line.push_str(&format!("\n               {problem}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn percentile_by_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 99.0), Some(99.0));
        assert_eq!(percentile(&samples, 50.0), Some(50.0));
        assert_eq!(percentile(&[5.0], 99.0), Some(5.0));
        assert_eq!(percentile(&[], 99.0), None);
    }

    #[test]
    fn median_picks_the_middle_of_the_sorted_samples() {
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[8.0, 2.0]), Some(5.0));
        assert_eq!(median(&[5.0, 1.0, 4.0, 2.0, 3.0]), Some(3.0));
        assert_eq!(median(&[100.0, 1.0, 5.0, 2.0, 4.0, 3.0]), Some(3.5));
        assert_eq!(median(&[-4.0, -1.0, -3.0]), Some(-3.0));
    }

    #[test]
    fn percentile_of_unsorted_samples_by_nearest_rank() {
        // 1 … 200 in a scrambled order: the p99 is the 198th smallest, the p50 the 100th.
        let samples: Vec<f64> = (0..200).map(|i| f64::from((i * 77) % 200 + 1)).collect();
        assert_eq!(percentile(&samples, 99.0), Some(198.0));
        assert_eq!(percentile(&samples, 50.0), Some(100.0));
        assert_eq!(percentile(&samples, 100.0), Some(200.0));
        assert_eq!(percentile(&samples, 0.0), Some(1.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0, 4.0], 25.0), Some(1.0));
    }
}
