//! The report as text: the terminal blocks (one per demo within 100 columns, and
//! coloured with anstyle; the caller writes it through anstream, which drops the colours
//! for a pipe or under `NO_COLOR`) and the Markdown export.

use super::regression::{BaselineComparison, ChangeVerdict};
use super::stats::{Scale, Summary};
use super::summary::{BackendSummary, Contrast, DemoSummary, FigureComparison};
use super::sweep::SweepReport;
use super::verdict::VerdictLine;
use super::{CompareDocument, DemoComparison};
use anstyle::{AnsiColor, Style};
use contract::demos::DemoId;
pub use contract::report::wrap_words;
use contract::units::significant;

/// The widest the terminal report gets, in columns (failure reasons aside, which are shown
/// whole).
pub const TERMINAL_WIDTH: usize = 100;

/// Where a demo's figure rows start their backend names.
const ROW_INDENT: usize = 4;

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
    "IPC msgs / bytes to and from the parent",
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

/// The terminal block of one demo, like hyperfine's: what the demo is, the figures it leads
/// with (median, min … max, and each other backend against the first with its interval),
/// its other figures in a line each, the failures, and what the comparison of outcomes and
/// events found. At most [`TERMINAL_WIDTH`] columns.
pub fn terminal_block(comparison: &DemoComparison) -> String {
    let summary = &comparison.summary;
    let mut out = String::new();
    let about = DemoId::ALL
        .iter()
        .find(|d| d.id() == comparison.id)
        .map(|d| {
            let ideal = comparison
                .runs
                .iter()
                .find_map(|r| r.report.as_ref())
                .map_or(0.0, |r| r.ideal_wall_s);
            let runs = summary
                .backends
                .iter()
                .map(|b| b.ok_runs + b.failed_runs)
                .max()
                .unwrap_or(0);
            let mut about = format!("{} · {runs} runs each", d.description());
            if ideal > 0.0 {
                about.push_str(&format!(" · ideal {}", contract::units::seconds(ideal)));
            }
            about
        })
        .unwrap_or_default();
    let head = format!("{BOLD}{}{BOLD:#} · ", comparison.id);
    let plain_head = format!("{} · ", comparison.id);
    for (i, line) in wrap_words(&plain_head, &about, 2, TERMINAL_WIDTH)
        .into_iter()
        .enumerate()
    {
        let line = if i == 0 {
            line.replacen(&plain_head, &head, 1)
        } else {
            line
        };
        out.push_str(&format!("{line}\n"));
    }
    let name_width = summary
        .backends
        .iter()
        .map(|b| b.backend.chars().count())
        .max()
        .unwrap_or(0)
        .max(9);
    // A figure no backend measured (one an option turns on, such as spawn's --touched-mib) is
    // left out rather than shown as an empty row.
    for figure in summary
        .figures
        .iter()
        .filter(|f| f.lead && !f.backends.is_empty())
    {
        out.push_str(&lead_rows(figure, name_width));
    }
    for figure in summary.figures.iter().filter(|f| !f.lead) {
        out.push_str(&compact_line(figure));
    }
    for backend in &summary.backends {
        if !backend.supported {
            out.push_str(&format!("  {} does not list this demo\n", backend.backend));
        }
        for failure in &backend.failures {
            out.push_str(&format!("{BAD}  {} {failure}{BAD:#}\n", backend.backend));
        }
    }
    let outliers = outliers_line(summary);
    if !outliers.is_empty() {
        for line in wrap_words(
            "  outliers (modified z-score > 3.5): ",
            &outliers,
            4,
            TERMINAL_WIDTH,
        ) {
            out.push_str(&format!("{line}\n"));
        }
    }
    let style = if summary.failed { BAD } else { GOOD };
    let mark = if summary.failed { "✗" } else { "✓" };
    for line in wrap(&format!("  {mark} "), &summary.agreement, 4, TERMINAL_WIDTH) {
        out.push_str(&format!("{style}{line}{style:#}\n"));
    }
    out
}

/// A figure the report leads with: its label, then a row per backend with median and
/// min … max, and for each other backend its contrast with the first.
fn lead_rows(figure: &FigureComparison, name_width: usize) -> String {
    let mut out = format!("  {}\n", figure.label);
    let show = |value: f64| contract::units::show(&figure.key, value);
    for backend in &figure.backends {
        let s = &backend.summary;
        let range = if s.n > 1 {
            format!("{} … {}", show(s.min), show(s.max))
        } else {
            "one run".to_string()
        };
        let mut line = format!(
            "{:ROW_INDENT$}{:<name_width$} {:>10}  {:<21}",
            "",
            backend.backend,
            show(s.median),
            range
        );
        // A wide range still leaves two spaces before the contrast.
        if !line.ends_with("  ") {
            line.push_str("  ");
        }
        if let Some(contrast) = figure
            .contrasts
            .iter()
            .find(|c| c.backend == backend.backend)
        {
            let phrase = short_contrast(figure, contrast);
            if line.chars().count() + phrase.chars().count() <= TERMINAL_WIDTH {
                line.push_str(&phrase);
            } else {
                line = format!("{}\n{:w$}{phrase}", line.trim_end(), "", w = ROW_INDENT + 2);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `4.01× (3.10–5.20): threads better` or `1.01× (0.99–1.03): no significant difference`.
pub fn short_contrast(figure: &FigureComparison, contrast: &Contrast) -> String {
    let Some(interval) = &contrast.interval else {
        return format!(
            "too few runs for an interval (at least {} each)",
            crate::stats::MIN_RUNS
        );
    };
    let size = match interval.scale {
        Scale::Ratio => format!(
            "{}× ({}–{})",
            significant(interval.estimate),
            significant(interval.low),
            significant(interval.high)
        ),
        Scale::Difference => {
            let show = |value: f64| contract::units::show(&figure.key, value);
            format!(
                "{}{} ({} to {})",
                if interval.estimate >= 0.0 { "+" } else { "" },
                show(interval.estimate),
                show(interval.low),
                show(interval.high)
            )
        }
    };
    match contrast.winner(figure.better) {
        Some(winner) => format!("{size}: {winner} better"),
        None => format!("{size}: no significant difference"),
    }
}

/// A figure the report does not lead with, in one line (wrapped at its parts):
/// `  CPU, user + system   threads 3.6 ms · processes 5.8 ms · processes 1.61× (…): threads better`.
fn compact_line(figure: &FigureComparison) -> String {
    if figure.backends.is_empty() {
        return String::new();
    }
    let mut parts = figure.medians();
    for contrast in &figure.contrasts {
        parts.push(format!(
            "{} {}",
            contrast.backend,
            short_contrast(figure, contrast)
        ));
    }
    let prefix = format!("  {:<22}", format!("{} ", figure.label));
    let indent = prefix.chars().count().min(24);
    wrap(&prefix, &parts.join(" · "), indent, TERMINAL_WIDTH)
        .into_iter()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

/// `threads: demo time (runs 1, 3), CPU, user + system (run 2) · processes: …`: every
/// outlier of the demo's figures, by backend.
fn outliers_line(summary: &DemoSummary) -> String {
    let mut by_backend: Vec<(String, Vec<String>)> = Vec::new();
    for figure in &summary.figures {
        for backend in figure
            .backends
            .iter()
            .filter(|b| !b.outlier_runs.is_empty())
        {
            let runs: Vec<String> = backend.outlier_runs.iter().map(u32::to_string).collect();
            let said = format!(
                "{} (run{} {})",
                figure.label,
                if runs.len() == 1 { "" } else { "s" },
                runs.join(", ")
            );
            match by_backend
                .iter_mut()
                .find(|(name, _)| *name == backend.backend)
            {
                Some((_, figures)) => figures.push(said),
                None => by_backend.push((backend.backend.clone(), vec![said])),
            }
        }
    }
    by_backend
        .into_iter()
        .map(|(name, figures)| format!("{name}: {}", figures.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The closing verdict for the terminal: per question the winner (or "no significant
/// difference"), what each backend measured and the contrast, and why.
pub fn terminal_verdict(lines: &[VerdictLine]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = format!("{BOLD}Verdict: which model for what, from this run's figures{BOLD:#}\n");
    for line in lines {
        let winner = line.headline();
        out.push_str(&format!(
            "  {BOLD}{}{BOLD:#}: {winner} ({})\n",
            line.question, line.demo
        ));
        for text in wrap(
            "    ",
            &format!("{} · {}", line.measured, line.answer),
            6,
            TERMINAL_WIDTH,
        ) {
            out.push_str(&format!("{text}\n"));
        }
        for text in wrap_words("    why: ", &line.reason, 9, TERMINAL_WIDTH) {
            out.push_str(&format!("{text}\n"));
        }
    }
    out
}

/// One line per demo and value of a sweep, as it completes: `join at workers 8 · ✓ outcomes
/// equal · same events, 0 in another order`.
pub fn sweep_point_line(comparison: &DemoComparison, at: &str) -> String {
    let summary = &comparison.summary;
    let style = if summary.failed { BAD } else { GOOD };
    let mark = if summary.failed { "✗" } else { "✓" };
    let mut out = String::new();
    let text = format!("{mark} {}", summary.agreement);
    for line in wrap(
        &format!("{}{at} · ", comparison.id),
        &text,
        4,
        TERMINAL_WIDTH,
    ) {
        out.push_str(&format!("{style}{line}{style:#}\n"));
    }
    for backend in &summary.backends {
        for failure in &backend.failures {
            out.push_str(&format!("{BAD}  {} {failure}{BAD:#}\n", backend.backend));
        }
    }
    out
}

/// The sweep's compact tables: per demo and figure, a row per value with each backend's
/// median, then each backend's fitted line where it is linear.
pub fn terminal_sweep(report: &SweepReport) -> String {
    let mut out = format!(
        "{BOLD}Sweep of {}: medians per backend, and the least-squares line{BOLD:#}\n",
        report.param
    );
    for demo in &report.demos {
        out.push_str(&format!("{BOLD}{}{BOLD:#}\n", demo.id));
        for figure in &demo.figures {
            out.push_str(&format!("  {}\n", figure.label));
            let width = figure
                .series
                .iter()
                .map(|s| s.backend.chars().count())
                .max()
                .unwrap_or(0)
                .max(11);
            let mut head = format!("    {:>9}", report.param.name());
            for series in &figure.series {
                head.push_str(&format!("  {:>width$}", series.backend));
            }
            out.push_str(&format!("{}\n", head));
            for &x in &report.values {
                let mut row = format!("    {:>9}", crate::sweep::show_value(x));
                let mut any = false;
                for series in &figure.series {
                    let cell = series
                        .points
                        .iter()
                        .find(|p| p.x == x)
                        .map(|p| {
                            any = true;
                            contract::units::show(&figure.key, p.median)
                        })
                        .unwrap_or_else(|| "–".to_string());
                    row.push_str(&format!("  {cell:>width$}"));
                }
                if any {
                    out.push_str(&format!("{}\n", row.trim_end()));
                }
            }
            for series in &figure.series {
                if let Some(fit) = &series.fit {
                    let said = format!(
                        "{}: {}",
                        series.backend,
                        report.slope_phrase(&figure.key, fit)
                    );
                    for line in wrap_words("    line ", &said, 9, TERMINAL_WIDTH) {
                        out.push_str(&format!("{line}\n"));
                    }
                }
            }
        }
    }
    out
}

/// The change since `--baseline`: one line per figure, the regressions in red.
pub fn terminal_changes(changes: &BaselineComparison) -> String {
    let mut out = format!(
        "{BOLD}Since the baseline {}{BOLD:#}: {} of {} figures significantly worse\n",
        changes.file,
        changes.regressions,
        changes.changes.len()
    );
    for change in &changes.changes {
        let style = if change.verdict == ChangeVerdict::Regressed {
            BAD
        } else {
            Style::new()
        };
        for line in wrap_words("  ", &change.line(), 4, TERMINAL_WIDTH) {
            out.push_str(&format!("{style}{line}{style:#}\n"));
        }
    }
    out
}

/// Paints a line of the report as failed or as good.
pub fn verdict_line(text: &str, failed: bool) -> String {
    let style = if failed { BAD } else { GOOD };
    format!("{style}{text}{style:#}")
}

/// `text` as lines of at most `width` columns: the first line starts with `prefix`, the next
/// ones with `indent` spaces; its parts (separated by ` · `) are kept whole where they fit,
/// a part that does not fit goes to the next line, and one too long for any line is broken
/// between its words.
pub fn wrap(prefix: &str, text: &str, indent: usize, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = prefix.to_string();
    let mut empty = true;
    for part in text.split(" · ") {
        let separator = if empty { "" } else { " · " };
        let length = |text: &str| text.chars().count();
        if length(&line) + length(separator) + length(part) <= width {
            line.push_str(separator);
            line.push_str(part);
        } else if !empty && indent + length(part) <= width {
            lines.push(line);
            line = format!("{:indent$}{part}", "");
        } else {
            // Too long for any line: broken between its words, from where the line is.
            let mut broken = wrap_words(&format!("{line}{separator}"), part, indent, width);
            line = broken.pop().unwrap_or_default();
            lines.extend(broken);
        }
        empty = false;
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
    out.push_str("\n## Figures\n\n");
    out.push_str(
        "Median and min–max of the successful runs; each other backend against the first, \
         with its interval (all intervals of the report hold together with 95 % confidence).\n\n",
    );
    out.push_str("| demo | figure | backend | median | min–max | runs | against the first | outliers (run) |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for comparison in comparisons {
        for figure in &comparison.summary.figures {
            let show = |value: f64| contract::units::show(&figure.key, value);
            for backend in &figure.backends {
                let s = &backend.summary;
                let contrast = figure
                    .contrasts
                    .iter()
                    .find(|c| c.backend == backend.backend)
                    .map_or("–".to_string(), |c| short_contrast(figure, c));
                let label = if figure.lead {
                    format!("**{}**", figure.label)
                } else {
                    figure.label.clone()
                };
                out.push_str(&format!(
                    "| `{}` | {label} | {} | {} | {}–{} | {} | {contrast} | {} |\n",
                    comparison.id,
                    backend.backend,
                    show(s.median),
                    show(s.min),
                    show(s.max),
                    s.n,
                    backend
                        .outlier_runs
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
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
    if let Some(sweep) = &document.sweep {
        out.push_str(&format!("\n## Sweep of {}\n\n", sweep.param));
        out.push_str(&format!(
            "| demo | figure | backend | {} | median | min–max | runs |\n|---|---|---|---|---|---|---|\n",
            sweep.param
        ));
        for demo in &sweep.demos {
            for figure in &demo.figures {
                let show = |value: f64| contract::units::show(&figure.key, value);
                for series in &figure.series {
                    for p in &series.points {
                        out.push_str(&format!(
                            "| `{}` | {} | {} | {} | {} | {}–{} | {} |\n",
                            demo.id,
                            figure.label,
                            series.backend,
                            crate::sweep::show_value(p.x),
                            show(p.median),
                            show(p.min),
                            show(p.max),
                            p.runs
                        ));
                    }
                }
            }
        }
        out.push_str("\n| demo | figure | backend | line | slope | intercept | R² |\n|---|---|---|---|---|---|---|\n");
        for demo in &sweep.demos {
            for figure in &demo.figures {
                for series in &figure.series {
                    if let Some(fit) = &series.fit {
                        out.push_str(&format!(
                            "| `{}` | {} | {} | {} | {} | {} | {:.3} |\n",
                            demo.id,
                            figure.label,
                            series.backend,
                            sweep.slope_phrase(&figure.key, fit),
                            contract::units::show(&figure.key, fit.slope),
                            contract::units::show(&figure.key, fit.intercept),
                            fit.r2
                        ));
                    }
                }
            }
        }
    }
    let lines = super::verdict::verdict(document);
    if !lines.is_empty() {
        out.push_str("\n## Verdict: which model for what\n\n");
        out.push_str("| question | demo | measured (medians) | answer | winner | why |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for line in &lines {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                line.question,
                line.demo,
                line.measured,
                line.answer,
                line.headline(),
                line.reason
            ));
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
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::measure::testing::ok_run;
    use crate::summary::Contender;
    use contract::domain::{BackendKind, WorkerKind};

    #[test]
    fn a_demo_block_leads_with_its_figures_and_fits_100_columns() {
        let thread = BackendKind {
            worker: WorkerKind::Thread,
            isolated: false,
            start_method: None,
            executor: None,
        };
        // Long backend names and wide ranges: still within 100 columns.
        let names = ["python-processes-forkserver", "threads"];
        let mut runs = Vec::new();
        for (backend, scale) in [(names[0], 1.0), (names[1], 400.0)] {
            for i in 0..3 {
                let value = scale * (1.0 + f64::from(i) * 0.01);
                let measured = [
                    ("ns_per_update_locked", value),
                    ("ns_per_update_unlocked", 1e9),
                ];
                let outcome = serde_json::json!({});
                runs.push(ok_run(backend, i, "lock", (0.1, 0.0), &measured, outcome));
            }
        }
        let contenders: Vec<Contender> = names
            .iter()
            .map(|name| Contender {
                name,
                kind: &thread,
                supported: true,
            })
            .collect();
        let comparison = DemoComparison {
            swept_at: None,
            id: "lock".into(),
            summary: DemoSummary::of(contract::demos::DemoId::Lock, &contenders, &runs, 0.99),
            runs,
        };
        let block = terminal_block(&comparison);
        let plain = anstream::adapter::strip_str(&block).to_string();
        let lines: Vec<&str> = plain.lines().collect();
        assert!(
            lines.iter().all(|l| l.chars().count() <= TERMINAL_WIDTH),
            "{plain}"
        );
        assert!(lines[0].starts_with("lock · "), "{plain}");
        // The lock's own figures first, then the whole-demo ones.
        let position = |text: &str| {
            plain
                .find(text)
                .unwrap_or_else(|| panic!("{text}: {plain}"))
        };
        assert!(position("one update under the lock") < position("one update without it"));
        assert!(position("one update without it") < position("demo time"));
        assert!(
            plain.contains("threads better") || plain.contains("400×"),
            "{plain}"
        );
        assert!(
            plain.contains("1.00× (1.00–1.00): no significant difference"),
            "the same figure in both: {plain}"
        );
    }

    #[test]
    fn a_part_too_long_for_a_line_is_broken_between_words() {
        let text = format!("short · {} · end", ["long"; 40].join(" "));
        let lines = wrap("compare: ", &text, 9, 60);
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "{lines:?}");
        assert!(lines[0].starts_with("compare: short"), "{lines:?}");
        assert!(lines.last().unwrap().ends_with("· end"), "{lines:?}");
        assert!(
            lines[1..].iter().all(|l| l.starts_with("         ")),
            "{lines:?}"
        );
    }

    #[test]
    fn words_wrap_within_the_width() {
        let lines = wrap_words("    why: ", &["word"; 40].join(" "), 9, 40);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert!(lines[1].starts_with("         word"));
    }
}
