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
    /// Messages the parent received over IPC, plus the replies it sent (processes only):
    /// not the messages workers send each other (`channel`'s timed messages).
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

/// `text` as lines of at most `width` columns, broken between words: the first line starts
/// with `prefix`, the next ones with `indent` spaces. A word longer than a line stands alone.
pub fn wrap_words(prefix: &str, text: &str, indent: usize, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = prefix.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if empty {
            line.push_str(word);
            empty = false;
        } else if line.chars().count() + 1 + word.chars().count() <= width {
            line.push(' ');
            line.push_str(word);
        } else {
            lines.push(line);
            line = format!("{:indent$}{word}", "");
        }
    }
    lines.push(line);
    lines
}

/// A demo's verdict after a narrated run, at most 100 columns: its status and wall time, then
/// the figures it exists to measure with their units. With `verbose`, every other figure too.
///
/// ```text
///   lock         ok   49.7 ms · 4 workers
///       one update under the lock 0.845 ns · one update without it 0.838 ns
/// ```
pub fn verdict_line(report: &DemoReport, verbose: bool) -> String {
    use crate::units::{seconds, show};
    let status = if report.ok { "ok" } else { "differs" };
    let figures = &report.figures;
    let mut head = format!(
        "  {:<12} {:<4} {}",
        report.id,
        status,
        seconds(report.wall_s)
    );
    if report.ideal_wall_s > 0.0 {
        head.push_str(&format!(" (ideal {})", seconds(report.ideal_wall_s)));
    }
    head.push_str(&format!(
        " · {} worker{}",
        figures.workers_created,
        if figures.workers_created == 1 {
            ""
        } else {
            "s"
        }
    ));
    let headlines = crate::demos::DemoId::ALL
        .iter()
        .find(|d| d.id() == report.id)
        .map_or(&[][..], |d| d.headlines());
    let mut parts: Vec<String> = headlines
        .iter()
        .filter_map(|h| {
            Some(format!(
                "{} {}",
                h.label,
                show(h.key, *figures.measured.get(h.key)?)
            ))
        })
        .collect();
    if verbose {
        if let Some(us) = median(&figures.spawn_to_first_event_us) {
            parts.push(format!("spawn→first event {}", seconds(us / 1e6)));
        }
        if let (Some(messages), Some(bytes)) = (figures.ipc_messages, figures.ipc_bytes) {
            parts.push(format!(
                "IPC to and from the parent {messages} msgs, {bytes} B"
            ));
        }
        for (name, value) in &figures.measured {
            if !headlines.iter().any(|h| h.key == name) {
                parts.push(format!("{name} {}", show(name, *value)));
            }
        }
        for (name, value) in &figures.notes {
            parts.push(format!("{name} {value}"));
        }
    }
    let mut lines = vec![head];
    let mut line = String::new();
    for part in parts {
        if !line.is_empty() && 6 + line.chars().count() + 3 + part.chars().count() > 100 {
            lines.push(format!("      {line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(" · ");
        }
        line.push_str(&part);
    }
    if !line.is_empty() {
        lines.push(format!("      {line}"));
    }
    if let Some(shared_via) = &figures.shared_via {
        lines.extend(wrap_words("      shared via ", shared_via, 6, 100));
    }
    if let Some(problem) = &report.problem {
        lines.extend(wrap_words("      ", problem, 6, 100));
    }
    lines.join("\n")
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
