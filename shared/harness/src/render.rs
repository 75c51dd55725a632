//! The report as text: the terminal table (coloured when it may be) and the Markdown export.

use super::DemoComparison;
use super::stats::Summary;
use super::summary::BackendSummary;

/// Column headers of the per-backend rows.
const HEADERS: [&str; 12] = [
    "demo",
    "backend",
    "ok runs",
    "demo time: median (min–max)",
    "process wall",
    "CPU user+sys",
    "peak PSS (tree)",
    "largest RSS",
    "ctx switches vol/invol",
    "seen procs/threads",
    "workers, spawn→1st event",
    "IPC msgs / bytes",
];

/// `1.23 s`, `45.6 ms`, `789 µs`.
pub fn time(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

/// `512 KiB`, `3.4 MiB`.
pub fn kib(value: f64) -> String {
    if value >= 1024.0 {
        format!("{:.1} MiB", value / 1024.0)
    } else {
        format!("{value:.0} KiB")
    }
}

fn median_of(summary: &Option<Summary>, show: fn(f64) -> String) -> String {
    summary.as_ref().map_or("–".into(), |s| show(s.median))
}

fn cells(demo: &str, s: &BackendSummary) -> Vec<String> {
    let runs = s.ok_runs + s.failed_runs;
    vec![
        demo.to_string(),
        s.backend.clone(),
        format!("{}/{}", s.ok_runs, runs),
        s.demo_wall_s.as_ref().map_or("–".into(), |t| {
            format!("{} ({}–{})", time(t.median), time(t.min), time(t.max))
        }),
        median_of(&s.process_wall_s, time),
        median_of(&s.cpu_s, time),
        median_of(&s.peak_pss_kib, kib),
        median_of(&s.largest_rss_kib, kib),
        match (&s.voluntary_switches, &s.involuntary_switches) {
            (Some(v), Some(i)) => format!("{:.0} / {:.0}", v.median, i.median),
            _ => "–".into(),
        },
        match (s.processes_seen, s.threads_seen) {
            (Some(p), Some(t)) => format!("{p} / {t}"),
            _ => "–".into(),
        },
        match (s.workers_created, s.spawn_to_first_event_us) {
            (Some(w), Some(us)) => format!("{w}, {us:.0} µs"),
            (Some(w), None) => format!("{w}"),
            _ => "–".into(),
        },
        match (s.ipc_messages, s.ipc_bytes) {
            (Some(m), Some(b)) => format!("{m} / {b} B"),
            _ => "–".into(),
        },
    ]
}

/// Colours for the terminal, or none.
#[derive(Clone, Copy)]
pub struct Style {
    pub colour: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
    fn good(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn bad(self, text: &str) -> String {
        self.paint("1;31", text)
    }
}

/// The widths the terminal table uses: wide enough for the headers and typical values.
fn widths() -> Vec<usize> {
    vec![12, 10, 7, 30, 12, 12, 15, 11, 22, 18, 24, 16]
}

/// The terminal table's header line.
pub fn terminal_header(style: Style) -> String {
    let line: Vec<String> = HEADERS
        .iter()
        .zip(widths())
        .map(|(h, w)| format!("{h:<w$}"))
        .collect();
    style.bold(line.join(" ").trim_end())
}

/// The terminal rows of one demo: one per backend, then the verdict.
pub fn terminal_rows(comparison: &DemoComparison, style: Style) -> String {
    let mut out = String::new();
    for (i, backend) in comparison.summary.backends.iter().enumerate() {
        let demo = if i == 0 { comparison.id.as_str() } else { "" };
        let row: Vec<String> = cells(demo, backend)
            .into_iter()
            .zip(widths())
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let mut row = row.join(" ").trim_end().to_string();
        if backend.failed_runs > 0 {
            row = style.bad(&row);
        }
        out.push_str(&row);
        out.push('\n');
        for failure in &backend.failures {
            out.push_str(&style.bad(&format!("{:13}{} {failure}", "", backend.backend)));
            out.push('\n');
        }
    }
    let verdict = format!("{:13}⇒ {}", "", comparison.summary.verdict);
    out.push_str(&if comparison.summary.failed {
        style.bad(&verdict)
    } else {
        style.good(&verdict)
    });
    out.push('\n');
    out
}

/// The whole report as Markdown.
pub fn markdown(header: &str, comparisons: &[DemoComparison]) -> String {
    let mut out = format!("# threads vs processes\n\n{header}\n\n");
    out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADERS.len())));
    for comparison in comparisons {
        for (i, backend) in comparison.summary.backends.iter().enumerate() {
            let demo = if i == 0 {
                format!("`{}`", comparison.id)
            } else {
                String::new()
            };
            out.push_str(&format!("| {} |\n", cells(&demo, backend).join(" | ")));
        }
    }
    out.push_str("\n## Verdicts\n\n");
    for comparison in comparisons {
        out.push_str(&format!(
            "- `{}`: {}\n",
            comparison.id, comparison.summary.verdict
        ));
        for backend in &comparison.summary.backends {
            for failure in &backend.failures {
                out.push_str(&format!("  - {} {}\n", backend.backend, failure));
            }
        }
    }
    out.push_str(&format!("\n{}\n", super::METHOD_NOTE));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_readable() {
        assert_eq!(time(5.0021), "5.002 s");
        assert_eq!(time(0.0504), "50.4 ms");
        assert_eq!(time(0.000127), "127 µs");
        assert_eq!(kib(512.0), "512 KiB");
        assert_eq!(kib(3481.6), "3.4 MiB");
    }
}
