//! The report as text: the terminal table (laid out by comfy-table within 100 columns, and
//! coloured with anstyle; the caller writes it through anstream, which drops the colours
//! for a pipe or under `NO_COLOR`) and the Markdown export.

use super::stats::Summary;
use super::summary::BackendSummary;
use super::{CompareDocument, DemoComparison};
use anstyle::{AnsiColor, Style};
use comfy_table::{ColumnConstraint, Table, Width, presets};

/// The widest the terminal report gets, in columns (failure reasons aside, which are shown
/// whole).
pub const TERMINAL_WIDTH: usize = 100;

/// The terminal table's columns: a two-line header, and the width (content and the one
/// space after it). Each backend's row holds two lines, as the headers say.
const TERMINAL_COLUMNS: [(&str, u16); 9] = [
    ("demo", 12),
    ("backend\nok runs", 11),
    ("demo time\n(min–max)", 18),
    ("wall\nCPU", 9),
    ("peak PSS\nlargest RSS", 12),
    ("ctx vol\ninvol", 8),
    ("procs\nthreads", 8),
    ("workers\nspawn→1st", 10),
    ("IPC msgs\nbytes", 10),
];

/// Where the verdict and failure lines start: under the backend column.
const INDENT: usize = TERMINAL_COLUMNS[0].1 as usize;

const BOLD: Style = Style::new().bold();
const GOOD: Style = AnsiColor::Green.on_default();
const BAD: Style = AnsiColor::Red.on_default().bold();

/// Column headers of the Markdown table.
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

/// The Markdown row of one backend.
fn cells(demo: &str, s: &BackendSummary) -> Vec<String> {
    vec![
        demo.to_string(),
        s.backend.clone(),
        ok_runs(s),
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

/// `2/3`, or `not listed` for a backend whose listing lacks the demo.
fn ok_runs(s: &BackendSummary) -> String {
    if s.supported {
        format!("{}/{}", s.ok_runs, s.ok_runs + s.failed_runs)
    } else {
        "not listed".into()
    }
}

/// The terminal cells of one backend: each holds two figures, one per line.
fn terminal_cells(demo: &str, s: &BackendSummary) -> Vec<String> {
    let two = |first: String, second: String| format!("{first}\n{second}");
    if !s.supported {
        let mut cells = vec![demo.to_string(), two(s.backend.clone(), ok_runs(s))];
        cells.resize(TERMINAL_COLUMNS.len(), String::new());
        return cells;
    }
    let dash = || "–".to_string();
    vec![
        demo.to_string(),
        two(s.backend.clone(), format!("{} ok", ok_runs(s))),
        s.demo_wall_s.as_ref().map_or_else(dash, |t| {
            two(time(t.median), format!("{}–{}", time(t.min), time(t.max)))
        }),
        two(
            median_of(&s.process_wall_s, time),
            median_of(&s.cpu_s, time),
        ),
        two(
            median_of(&s.peak_pss_kib, kib),
            median_of(&s.largest_rss_kib, kib),
        ),
        match (&s.voluntary_switches, &s.involuntary_switches) {
            (Some(v), Some(i)) => two(format!("{:.0}", v.median), format!("{:.0}", i.median)),
            _ => dash(),
        },
        match (s.processes_seen, s.threads_seen) {
            (Some(p), Some(t)) => two(p.to_string(), t.to_string()),
            _ => dash(),
        },
        match (s.workers_created, s.spawn_to_first_event_us) {
            (Some(w), Some(us)) => two(w.to_string(), format!("{us:.0} µs")),
            (Some(w), None) => w.to_string(),
            _ => dash(),
        },
        match (s.ipc_messages, s.ipc_bytes) {
            (Some(m), Some(b)) => two(m.to_string(), format!("{b} B")),
            _ => dash(),
        },
    ]
}

/// Lays out one row (header or backend) as the terminal table does (no borders, every
/// column at its fixed width, so that rows laid out one by one line up) and paints it.
fn terminal_row(cells: Vec<String>, style: Style) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING).add_row(cells);
    // Columns exist once a row does.
    table.set_constraints(
        TERMINAL_COLUMNS
            .iter()
            .map(|(_, width)| ColumnConstraint::Absolute(Width::Fixed(*width))),
    );
    for column in table.column_iter_mut() {
        column.set_padding((0, 1));
    }
    let painted: Vec<String> = table
        .trim_fmt()
        .lines()
        .map(|line| format!("{style}{line}{style:#}"))
        .collect();
    painted.join("\n") + "\n"
}

/// The terminal table's header lines.
pub fn terminal_header() -> String {
    let cells = TERMINAL_COLUMNS
        .iter()
        .map(|(header, _)| header.to_string())
        .collect();
    terminal_row(cells, BOLD)
}

/// The terminal rows of one demo: one per backend (two lines each) with its failures under
/// it, then the verdict.
pub fn terminal_rows(comparison: &DemoComparison) -> String {
    let mut out = String::new();
    for (i, backend) in comparison.summary.backends.iter().enumerate() {
        let demo = if i == 0 { comparison.id.as_str() } else { "" };
        let style = if backend.failed_runs > 0 {
            BAD
        } else {
            Style::new()
        };
        out.push_str(&terminal_row(terminal_cells(demo, backend), style));
        for failure in &backend.failures {
            out.push_str(&format!(
                "{BAD}{:INDENT$}{} {failure}{BAD:#}\n",
                "", backend.backend
            ));
        }
    }
    let style = if comparison.summary.failed { BAD } else { GOOD };
    let prefix = format!("{:INDENT$}⇒ ", "");
    for line in wrap(
        &prefix,
        &comparison.summary.verdict,
        INDENT + 2,
        TERMINAL_WIDTH,
    ) {
        out.push_str(&format!("{style}{line}{style:#}\n"));
    }
    out
}

/// Paints a line of the report as failed or as good.
pub fn verdict_line(text: &str, failed: bool) -> String {
    let style = if failed { BAD } else { GOOD };
    format!("{style}{text}{style:#}")
}

/// `text` as lines of at most `width` columns where its parts allow: the first line starts
/// with `prefix`, the next ones with `indent` spaces; its parts (separated by ` · `) are kept
/// whole, and a part that does not fit goes to the next line.
pub fn wrap(prefix: &str, text: &str, indent: usize, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = prefix.to_string();
    let mut empty = true;
    for part in text.split(" · ") {
        let fits = line.chars().count() + 3 + part.chars().count() <= width;
        if empty {
            line.push_str(part);
            empty = false;
        } else if fits {
            line.push_str(" · ");
            line.push_str(part);
        } else {
            lines.push(line);
            line = format!("{:indent$}{part}", "");
        }
    }
    lines.push(line);
    lines
}

/// The whole report as Markdown.
pub fn markdown(title: &str, header: &str, document: &CompareDocument) -> String {
    let comparisons = &document.demos;
    let mut out = format!("# {title}\n\n{header}\n\n");
    if let Some(verdict) = &document.verdict {
        out.push_str(&format!("**{verdict}**\n\n"));
    }
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

    #[test]
    fn a_long_verdict_wraps_at_its_parts() {
        let verdict = ["outcomes equal"; 12].join(" · ");
        let lines = wrap("    ⇒ ", &verdict, 6, TERMINAL_WIDTH);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= TERMINAL_WIDTH));
        assert!(lines[0].trim_start().starts_with("⇒ outcomes equal · "));
    }

    #[test]
    fn the_terminal_header_fits_in_100_columns() {
        let header = terminal_header();
        let plain = anstream::adapter::strip_str(&header).to_string();
        assert_eq!(plain.lines().count(), 2, "{plain}");
        assert!(
            plain.lines().all(|l| l.chars().count() <= TERMINAL_WIDTH),
            "{plain}"
        );
    }
}
