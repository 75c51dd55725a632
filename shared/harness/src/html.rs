//! The HTML export: one self-contained, well-formed page with SVG charts drawn by hand
//! (time per demo per backend with min–max whiskers; peak memory per demo).

use super::render::{kib, time};
use super::summary::BackendSummary;
use super::{CompareDocument, DemoComparison};
use std::fmt::Write;

/// One colour per backend, in the order given (repeating after the sixth).
const BAR_COLOURS: [&str; 6] = [
    "#3b7dd8", "#d8843b", "#2e9e5b", "#9b59b6", "#c0392b", "#7f8c8d",
];
const CHART_WIDTH: f64 = 820.0;
const LABEL_WIDTH: f64 = 170.0;
const PLOT_WIDTH: f64 = 380.0;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The whole page.
pub fn page(title: &str, header: &str, document: &CompareDocument) -> String {
    let comparisons = &document.demos;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    let _ = writeln!(out, "<title>{}</title>\n<style>", escape(title));
    out.push_str(
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}\n\
         table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}\n\
         .failed{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}svg text{font-size:12px;font-family:sans-serif}\n",
    );
    out.push_str("</style>\n</head>\n<body>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    let _ = writeln!(out, "<p>{}</p>", escape(header));
    if let Some(verdict) = &document.verdict {
        let class = if document.failed { "failed" } else { "ok" };
        let _ = writeln!(out, "<p class=\"{class}\">{}</p>", escape(verdict));
    }
    out.push_str(&summary_table(comparisons));
    for comparison in comparisons {
        let class = if comparison.summary.failed {
            "failed"
        } else {
            "ok"
        };
        let _ = writeln!(out, "<section id=\"demo-{}\">", escape(&comparison.id));
        let _ = writeln!(out, "<h2>{}</h2>", escape(&comparison.id));
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
        out.push_str(&time_chart(comparison));
        out.push_str("</section>\n");
    }
    out.push_str(
        "<section id=\"memory\">\n<h2>Peak memory (sum of PSS over the process tree)</h2>\n",
    );
    out.push_str(&memory_chart(comparisons));
    out.push_str("</section>\n");
    let _ = writeln!(out, "<p>{}</p>", escape(super::METHOD_NOTE));
    out.push_str("</body>\n</html>\n");
    out
}

fn summary_table(comparisons: &[DemoComparison]) -> String {
    let mut out = String::from(
        "<table>\n<tr><th>demo</th><th>backend</th><th>ok runs</th><th>demo time median</th><th>min–max</th>\
         <th>CPU</th><th>peak PSS</th><th>largest RSS</th><th>workers</th><th>IPC msgs</th></tr>\n",
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
    let backends = &comparison.summary.backends;
    let row_height = 34.0;
    let height = 30.0 + row_height * backends.len() as f64 + 24.0;
    let max = backends
        .iter()
        .filter_map(|s| s.demo_wall_s.map(|t| t.max))
        .fold(0.0_f64, f64::max)
        .max(1e-6)
        * 1.1;
    let x = |seconds: f64| LABEL_WIDTH + seconds / max * PLOT_WIDTH;
    let mut svg = svg_open(
        "time-chart",
        &format!("demo time of {}", comparison.id),
        height,
    );
    let axis_y = 20.0 + row_height * backends.len() as f64;
    axis(&mut svg, axis_y, max, time);
    for (i, s) in backends.iter().enumerate() {
        let y = 20.0 + row_height * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{:.1}\">{}</text>",
            y + 17.0,
            escape(&s.backend)
        );
        match &s.demo_wall_s {
            Some(t) => {
                let colour = BAR_COLOURS[i % BAR_COLOURS.len()];
                let _ = writeln!(
                    svg,
                    "<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"22\" fill=\"{colour}\"/>",
                    x(t.median) - LABEL_WIDTH
                );
                let mid = y + 11.0;
                let _ = writeln!(
                    svg,
                    "<path d=\"M{:.1} {mid:.1}H{:.1}M{:.1} {:.1}V{:.1}M{:.1} {:.1}V{:.1}\" stroke=\"#222\" fill=\"none\"/>",
                    x(t.min),
                    x(t.max),
                    x(t.min),
                    mid - 6.0,
                    mid + 6.0,
                    x(t.max),
                    mid - 6.0,
                    mid + 6.0
                );
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\">{} ({}–{})</text>",
                    LABEL_WIDTH + PLOT_WIDTH + 12.0,
                    y + 15.0,
                    escape(&time(t.median)),
                    escape(&time(t.min)),
                    escape(&time(t.max))
                );
            }
            None => {
                let said = if s.supported {
                    "no successful run"
                } else {
                    "not supported"
                };
                let _ = writeln!(
                    svg,
                    "<text x=\"{LABEL_WIDTH}\" y=\"{:.1}\" fill=\"#b00020\">{said}</text>",
                    y + 15.0
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Grouped horizontal bars: peak PSS per demo per backend.
fn memory_chart(comparisons: &[DemoComparison]) -> String {
    let rows: Vec<(String, &BackendSummary, usize)> = comparisons
        .iter()
        .flat_map(|c| {
            c.summary
                .backends
                .iter()
                .enumerate()
                .map(move |(i, s)| (if i == 0 { c.id.clone() } else { String::new() }, s, i))
        })
        .collect();
    let row_height = 20.0;
    let height = 20.0 + row_height * rows.len() as f64 + 30.0;
    let max = rows
        .iter()
        .filter_map(|(_, s, _)| s.peak_pss_kib.map(|m| m.max))
        .fold(0.0_f64, f64::max)
        .max(1.0)
        * 1.1;
    let x = |value: f64| LABEL_WIDTH + value / max * PLOT_WIDTH;
    let mut svg = svg_open("memory-chart", "peak PSS per demo and backend", height);
    axis(&mut svg, 20.0 + row_height * rows.len() as f64, max, kib);
    for (row, (demo, s, backend_index)) in rows.iter().enumerate() {
        let y = 20.0 + row_height * row as f64;
        let label = if demo.is_empty() {
            s.backend.clone()
        } else {
            format!("{demo} · {}", s.backend)
        };
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{:.1}\">{}</text>",
            y + 13.0,
            escape(&label)
        );
        if let Some(m) = &s.peak_pss_kib {
            let colour = BAR_COLOURS[backend_index % BAR_COLOURS.len()];
            let _ = writeln!(
                svg,
                "<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"15\" fill=\"{colour}\"/>",
                x(m.median) - LABEL_WIDTH
            );
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x(m.median) + 6.0,
                y + 12.0,
                escape(&kib(m.median))
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn svg_open(class: &str, title: &str, height: f64) -> String {
    format!(
        "<svg class=\"{class}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{CHART_WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {CHART_WIDTH} {height:.0}\" role=\"img\">\n<title>{}</title>\n",
        escape(title)
    )
}

/// A horizontal axis at `y` from 0 to `max`, with five labelled ticks.
fn axis(svg: &mut String, y: f64, max: f64, label: fn(f64) -> String) {
    let _ = writeln!(
        svg,
        "<path d=\"M{LABEL_WIDTH} {y:.1}H{:.1}\" stroke=\"#888\" fill=\"none\"/>",
        LABEL_WIDTH + PLOT_WIDTH
    );
    for tick in 0..=4 {
        let value = max * f64::from(tick) / 4.0;
        let x = LABEL_WIDTH + PLOT_WIDTH * f64::from(tick) / 4.0;
        let _ = writeln!(
            svg,
            "<path d=\"M{x:.1} {y:.1}V{:.1}\" stroke=\"#888\" fill=\"none\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y + 4.0,
            y + 16.0,
            if tick == 0 {
                "0".to_string()
            } else {
                escape(&label(value))
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
