//! The HTML export: one self-contained, well-formed page (no script, nothing fetched) that
//! reads at a desktop's width and a phone's: the summary table (scrolling sideways inside its
//! own box on a narrow screen); per demo its lead figures with their intervals, its time per
//! backend with min–max whiskers, its timeline (a row per worker, the backends on one time
//! axis) and, for `cpu` and `channel`, a line chart of the figure they sweep; a `--sweep`'s
//! curves; peak memory per demo; and the closing verdict. The charts are drawn by [`chart`].

use super::chart::{self, Axis, Bar, Lane, Point, Series, Spread};
use super::measure::Run;
use super::render::{kib, short_contrast, time};
use super::summary::FigureComparison;
use super::sweep::{SweepReport, show_value};
use super::verdict;
use super::{CompareDocument, DemoComparison};
use contract::timeline::Timeline;
use std::collections::BTreeMap;
use std::fmt::Write;

pub use super::chart::escape;

/// The whole page.
pub fn page(title: &str, header: &str, document: &CompareDocument) -> String {
    let comparisons = &document.demos;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(out, "<title>{}</title>\n<style>", escape(title));
    out.push_str(
        "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:1100px;color:#222}\n\
         h1{font-size:1.5em}h1,h2,p{overflow-wrap:anywhere}\n\
         .wide{overflow-x:auto;max-width:100%}\n\
         table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;white-space:nowrap}\n\
         svg{display:block;width:100%;min-width:520px;height:auto;margin:0.5em 0}\n\
         table.lead{margin:0.5em 0}td.won{font-weight:bold}td.why{white-space:normal;min-width:18em}\n\
         .failed{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}svg text{font-size:13px;font-family:sans-serif}\n",
    );
    out.push_str("</style>\n</head>\n<body>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    let _ = writeln!(out, "<p>{}</p>", escape(header));
    if let Some(verdict) = &document.verdict {
        let class = if document.failed { "failed" } else { "ok" };
        let _ = writeln!(out, "<p class=\"{class}\">{}</p>", escape(verdict));
    }
    out.push_str(&wide(&summary_table(comparisons)));
    for comparison in comparisons {
        let class = if comparison.summary.failed {
            "failed"
        } else {
            "ok"
        };
        // A sweep runs each demo once per value: each has a section of its own.
        let (anchor, heading) = match (comparison.swept_at, &document.sweep) {
            (Some(x), Some(sweep)) => (
                format!("demo-{}-{}", comparison.id, show_value(x)),
                format!("{} · {} = {}", comparison.id, sweep.param, show_value(x)),
            ),
            _ => (format!("demo-{}", comparison.id), comparison.id.clone()),
        };
        let _ = writeln!(out, "<section id=\"{}\">", escape(&anchor));
        let _ = writeln!(out, "<h2>{}</h2>", escape(&heading));
        let _ = writeln!(
            out,
            "<p class=\"{class}\">{}</p>",
            escape(&comparison.summary.verdict)
        );
        for backend in &comparison.summary.backends {
            for failure in &backend.failures {
                let _ = writeln!(
                    out,
                    "<p class=\"failed\">{} {}</p>",
                    escape(&backend.backend),
                    escape(failure)
                );
            }
        }
        out.push_str(&wide(&lead_figures(comparison)));
        out.push_str(&wide(&time_chart(comparison)));
        out.push_str(&wide(&timeline_chart(comparison)));
        if let Some(sweep) = sweep_chart(comparison) {
            out.push_str(&wide(&sweep));
        }
        out.push_str("</section>\n");
    }
    if let Some(sweep) = &document.sweep {
        out.push_str(&sweep_section(sweep));
    }
    out.push_str(
        "<section id=\"memory\">\n<h2>Peak memory (sum of PSS over the process tree)</h2>\n",
    );
    out.push_str(&wide(&memory_chart(comparisons)));
    out.push_str("</section>\n");
    out.push_str(&verdict_section(document));
    let _ = writeln!(out, "<p>{}</p>", escape(super::METHOD_NOTE));
    out.push_str("</body>\n</html>\n");
    out
}

/// The figures the demo exists to measure, per backend, each other backend against the first
/// with its interval.
fn lead_figures(comparison: &DemoComparison) -> String {
    let lead: Vec<&FigureComparison> = comparison
        .summary
        .figures
        .iter()
        .filter(|f| f.lead && !f.backends.is_empty())
        .collect();
    if lead.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<table class=\"lead\">\n<tr><th>figure</th><th>backend</th><th>median</th><th>min–max</th>\
         <th>runs</th><th>against the first</th></tr>\n",
    );
    for figure in lead {
        let show = |value: f64| contract::units::show(&figure.key, value);
        for (i, backend) in figure.backends.iter().enumerate() {
            let s = &backend.summary;
            let contrast = figure
                .contrasts
                .iter()
                .find(|c| c.backend == backend.backend)
                .map_or("–".to_string(), |c| short_contrast(figure, c));
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td><td>{}</td></tr>",
                if i == 0 {
                    escape(&figure.label)
                } else {
                    String::new()
                },
                escape(&backend.backend),
                escape(&show(s.median)),
                escape(&show(s.min)),
                escape(&show(s.max)),
                s.n,
                escape(&contrast)
            );
        }
    }
    out.push_str("</table>\n");
    out
}

/// The closing verdict: which model for what, from this run's figures.
fn verdict_section(document: &CompareDocument) -> String {
    let lines = verdict::verdict(document);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"verdict\">\n<h2>Verdict: which model for what</h2>\n<div class=\"wide\">\n\
         <table>\n<tr><th>question</th><th>demo</th><th>measured (medians)</th><th>answer</th><th>why</th></tr>\n",
    );
    for line in &lines {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"why\">{}</td></tr>",
            escape(&line.question),
            escape(&line.demo),
            escape(&line.measured),
            if line.winner.is_some() || !line.leaders.is_empty() {
                "won"
            } else {
                "even"
            },
            escape(&line.answer),
            escape(&line.reason)
        );
    }
    out.push_str("</table>\n</div>\n</section>\n");
    out
}

/// A `--sweep`'s curves: per demo and figure, a line per backend through its medians with a
/// band from min to max; the swept value on a log axis when it spans ten times or more.
fn sweep_section(sweep: &SweepReport) -> String {
    let mut out = format!(
        "<section id=\"sweep\">\n<h2>Sweep of {}</h2>\n",
        escape(sweep.param.name())
    );
    let (lo, hi) = sweep
        .values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let log_x = lo > 0.0 && hi / lo >= 10.0;
    let whole = sweep.values.iter().all(|v| v.fract() == 0.0);
    for demo in &sweep.demos {
        for figure in &demo.figures {
            let show = |value: f64| contract::units::show(&figure.key, value);
            let series: Vec<Series> = figure
                .series
                .iter()
                .map(|s| Series {
                    name: s.backend.clone(),
                    points: s
                        .points
                        .iter()
                        .map(|p| Point {
                            x: p.x,
                            median: p.median,
                            min: p.min,
                            max: p.max,
                        })
                        .collect(),
                })
                .collect();
            let x_axis = Axis {
                title: sweep.param.name().to_string(),
                log: log_x,
                whole,
                unit: &show_value,
            };
            let y_axis = Axis {
                title: figure.label.clone(),
                log: false,
                whole: false,
                unit: &show,
            };
            let title = format!(
                "{}: {} per {} (median, band min–max over the runs)",
                demo.id, figure.label, sweep.param
            );
            out.push_str(&wide(&chart::lines(
                "sweep-chart",
                &title,
                &x_axis,
                &y_axis,
                &series,
            )));
        }
    }
    out.push_str("</section>\n");
    out
}

/// A box that scrolls sideways when what it holds is wider than the screen.
fn wide(inner: &str) -> String {
    format!("<div class=\"wide\">\n{inner}</div>\n")
}

fn summary_table(comparisons: &[DemoComparison]) -> String {
    let mut out = String::from(
        "<table>\n<tr><th>demo</th><th>backend</th><th>ok runs</th><th>demo time median</th><th>min–max</th>\
         <th>CPU</th><th>peak PSS</th><th>largest RSS</th><th>workers</th><th>IPC msgs to and from the parent</th></tr>\n",
    );
    for comparison in comparisons {
        for s in &comparison.summary.backends {
            let class = if s.failed_runs > 0 {
                " class=\"failed\""
            } else {
                ""
            };
            let (median, range) = s
                .demo_wall_s
                .as_ref()
                .map_or(("–".into(), "–".into()), |t| {
                    (time(t.median), format!("{}–{}", time(t.min), time(t.max)))
                });
            let ok_runs = if s.supported {
                format!("{}/{}", s.ok_runs, s.ok_runs + s.failed_runs)
            } else {
                "not listed".to_string()
            };
            let _ = writeln!(
                out,
                "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&comparison.id),
                escape(&s.backend),
                escape(&ok_runs),
                escape(&median),
                escape(&range),
                s.cpu_s.as_ref().map_or("–".into(), |c| time(c.median)),
                s.peak_pss_kib
                    .as_ref()
                    .map_or("–".into(), |m| kib(m.median)),
                s.largest_rss_kib
                    .as_ref()
                    .map_or("–".into(), |m| kib(m.median)),
                s.workers_created.map_or("–".into(), |w| w.to_string()),
                s.ipc_messages.map_or("–".into(), |m| m.to_string()),
            );
        }
    }
    out.push_str("</table>\n");
    out
}

/// Horizontal bars: median demo time per backend, whiskers from min to max.
fn time_chart(comparison: &DemoComparison) -> String {
    let rows: Vec<Bar> = comparison
        .summary
        .backends
        .iter()
        .enumerate()
        .map(|(i, s)| Bar {
            label: s.backend.clone(),
            value: s.demo_wall_s.as_ref().map(spread).ok_or_else(|| {
                if s.supported {
                    "no successful run".to_string()
                } else {
                    "not supported".to_string()
                }
            }),
            colour: i,
        })
        .collect();
    chart::bars(
        "time-chart",
        &format!("demo time of {}", comparison.id),
        &rows,
        &time,
    )
}

/// Grouped horizontal bars: peak PSS per demo per backend, whiskers from min to max.
fn memory_chart(comparisons: &[DemoComparison]) -> String {
    let rows: Vec<Bar> = comparisons
        .iter()
        .flat_map(|c| {
            c.summary
                .backends
                .iter()
                .enumerate()
                .map(move |(i, s)| Bar {
                    label: if i == 0 {
                        format!("{} · {}", c.id, s.backend)
                    } else {
                        s.backend.clone()
                    },
                    value: s
                        .peak_pss_kib
                        .as_ref()
                        .map(spread)
                        .ok_or_else(|| "no successful run".to_string()),
                    colour: i,
                })
        })
        .collect();
    chart::bars("memory-chart", "peak PSS per demo and backend", &rows, &kib)
}

fn spread(summary: &crate::stats::Summary) -> Spread {
    Spread {
        median: summary.median,
        min: summary.min,
        max: summary.max,
    }
}

/// The run that stands for a backend in a timeline: of its successful runs with a report,
/// the one whose demo time is the median (the lower middle one of an even number), with
/// how many there were.
pub fn representative_run<'a>(runs: &'a [Run], backend: &str) -> Option<(&'a Run, usize)> {
    let mut ok: Vec<&Run> = runs
        .iter()
        .filter(|r| r.backend == backend && r.succeeded() && r.report.is_some())
        .collect();
    ok.sort_by(|a, b| {
        a.demo_wall_s()
            .unwrap_or(0.0)
            .total_cmp(&b.demo_wall_s().unwrap_or(0.0))
    });
    let count = ok.len();
    ok.get(count.saturating_sub(1) / 2).map(|run| (*run, count))
}

/// The demo's timeline: one lane per backend (its representative run), on one time axis.
fn timeline_chart(comparison: &DemoComparison) -> String {
    let chosen: Vec<(&Run, usize, Timeline)> = comparison
        .summary
        .backends
        .iter()
        .filter_map(|s| representative_run(&comparison.runs, &s.backend))
        .map(|(run, count)| {
            let report = run
                .report
                .as_ref()
                .expect("chosen among runs with a report");
            (run, count, Timeline::of(&report.events, report.wall_s))
        })
        .collect();
    if chosen.is_empty() {
        return "<p class=\"failed\">No successful run: no timeline.</p>\n".to_string();
    }
    let lanes: Vec<Lane> = chosen
        .iter()
        .map(|(run, count, timeline)| Lane {
            title: format!(
                "{} · run {} ({} of {count} ok runs by demo time: {})",
                run.backend,
                run.index + 1,
                if *count > 1 {
                    "the median"
                } else {
                    "the only one"
                },
                time(run.demo_wall_s().unwrap_or(0.0))
            ),
            timeline,
        })
        .collect();
    chart::timeline(
        "timeline-chart",
        &format!(
            "timeline of {}: a row per worker, the backends on one time axis",
            comparison.id
        ),
        &lanes,
    )
}

/// A demo figure that runs over a parameter: how to draw it, and how to find its points
/// among the run's named measurements.
struct Sweep {
    title: &'static str,
    x_axis: Axis<'static>,
    y_axis: Axis<'static>,
    /// The x of a measurement's name, for the names of this figure.
    x_of: fn(&str) -> Option<f64>,
}

/// The demos whose figures run over a sweep: `cpu`'s speedup per worker count, `channel`'s
/// round trip per message size.
fn sweep_of(demo: &str) -> Option<Sweep> {
    match demo {
        "cpu" => Some(Sweep {
            title: "cpu: speedup per worker count (median, band min–max over the runs)",
            x_axis: Axis {
                title: "workers".into(),
                log: false,
                whole: true,
                unit: &count,
            },
            y_axis: Axis {
                title: "speedup over one worker".into(),
                log: false,
                whole: false,
                unit: &times,
            },
            x_of: |name| {
                name.strip_prefix("speedup_")?
                    .strip_suffix("_workers")?
                    .parse()
                    .ok()
            },
        }),
        "channel" => Some(Sweep {
            title: "channel: round trip per message size (median, band min–max over the runs)",
            x_axis: Axis {
                title: "message size".into(),
                log: true,
                whole: false,
                unit: &bytes,
            },
            y_axis: Axis {
                title: "round trip".into(),
                log: true,
                whole: false,
                unit: &microseconds,
            },
            x_of: |name| {
                message_size(
                    name.strip_prefix("channel_")?
                        .strip_suffix("_round_trip_us")?,
                )
            },
        }),
        _ => None,
    }
}

/// The line chart of a demo with a sweep, one line per backend.
fn sweep_chart(comparison: &DemoComparison) -> Option<String> {
    let sweep = sweep_of(&comparison.id)?;
    let series: Vec<Series> = comparison
        .summary
        .backends
        .iter()
        .map(|s| {
            let mut samples: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
            for run in comparison
                .runs
                .iter()
                .filter(|r| r.backend == s.backend && r.succeeded())
            {
                for (name, value) in run.report.iter().flat_map(|r| &r.figures.measured) {
                    if let Some(x) = (sweep.x_of)(name) {
                        samples.entry(x.to_bits()).or_default().push(*value);
                    }
                }
            }
            let points = samples
                .into_iter()
                .filter_map(|(x, values)| {
                    let spread = Spread::of(&values)?;
                    Some(Point {
                        x: f64::from_bits(x),
                        median: spread.median,
                        min: spread.min,
                        max: spread.max,
                    })
                })
                .collect();
            Series {
                name: s.backend.clone(),
                points,
            }
        })
        .collect();
    series.iter().any(|s| !s.points.is_empty()).then(|| {
        chart::lines(
            "sweep-chart",
            sweep.title,
            &sweep.x_axis,
            &sweep.y_axis,
            &series,
        )
    })
}

/// `8b` → 8, `64kib` → 65 536.
fn message_size(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("kib") {
        (n, 1024.0)
    } else if let Some(n) = text.strip_suffix("mib") {
        (n, 1024.0 * 1024.0)
    } else {
        (text.strip_suffix('b')?, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn count(value: f64) -> String {
    format!("{value}")
}

fn times(value: f64) -> String {
    format!("{value:.2}×")
}

fn microseconds(value: f64) -> String {
    time(value / 1e6)
}

/// `8 B`, `64 KiB`, `9.77 KiB`: at most three significant digits.
fn bytes(value: f64) -> String {
    let (number, unit) = if value >= 1024.0 * 1024.0 {
        (value / 1024.0 / 1024.0, "MiB")
    } else if value >= 1024.0 {
        (value / 1024.0, "KiB")
    } else {
        (value, "B")
    };
    let decimals = if number >= 100.0 {
        0
    } else if number >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{number:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::RunStatus;
    use contract::report::{DemoReport, Figures};

    fn run(backend: &str, index: u32, status: RunStatus, wall_s: f64) -> Run {
        Run {
            backend: backend.into(),
            index,
            status,
            problem: None,
            process_wall_s: wall_s,
            user_s: 0.0,
            sys_s: 0.0,
            voluntary_switches: 0,
            involuntary_switches: 0,
            peak_pss_kib: 0,
            largest_rss_kib: 0,
            processes_seen: 1,
            threads_seen: 1,
            samples: 1,
            report: Some(DemoReport {
                id: "join".into(),
                ok: status == RunStatus::Ok,
                outcome: serde_json::Value::Null,
                problem: None,
                wall_s,
                ideal_wall_s: 0.0,
                events: Vec::new(),
                figures: Figures::default(),
            }),
        }
    }

    #[test]
    fn the_timeline_stands_on_the_successful_run_of_median_demo_time() {
        let runs = [
            run("a", 0, RunStatus::Ok, 3.0),
            run("b", 0, RunStatus::Ok, 9.0),
            run("a", 1, RunStatus::Ok, 1.0),
            run("a", 2, RunStatus::OutcomeFailed, 2.0),
            run("a", 3, RunStatus::Ok, 2.5),
            run("a", 4, RunStatus::Ok, 5.0),
        ];
        // a's successful runs by demo time: 1.0, 2.5, 3.0, 5.0: the lower middle one.
        let (chosen, count) = representative_run(&runs, "a").unwrap();
        assert_eq!((chosen.index, count), (3, 4));
        let (chosen, count) = representative_run(&runs[..3], "a").unwrap();
        assert_eq!((chosen.index, count), (1, 2));
        assert_eq!(representative_run(&runs, "b").unwrap().0.index, 0);
        assert!(representative_run(&runs[3..4], "a").is_none());
    }

    #[test]
    fn sizes_read_with_three_significant_digits() {
        assert_eq!(bytes(8.0), "8 B");
        assert_eq!(bytes(65536.0), "64 KiB");
        assert_eq!(bytes(10000.0), "9.77 KiB");
        assert_eq!(bytes(100_000.0), "97.7 KiB");
        assert_eq!(message_size("64kib"), Some(65536.0));
        assert_eq!(message_size("8b"), Some(8.0));
        assert_eq!(message_size("x"), None);
    }
}
