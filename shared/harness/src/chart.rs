//! Every SVG chart of the HTML report, drawn by hand (no script, nothing fetched): horizontal
//! bars with min–max whiskers, line charts with a min–max band per series on linear or log
//! axes, and timelines of a demo's workers, the backends stacked on one time axis.
//!
//! Every chart has a `viewBox` and `width="100%"`, so that it scales to the page's width (a
//! phone's included); every element drawn from data carries `class="mark"` and a `<title>`
//! (the browser's tooltip); all text is escaped.

use contract::timeline::{Activity, MarkKind, Timeline, axis_ticks, nice_step, seconds_label};
use std::fmt::Write;

/// One colour per series (a backend, a line), in the order given, repeating after the sixth.
pub const COLOURS: [&str; 6] = [
    "#3b7dd8", "#d8843b", "#2e9e5b", "#9b59b6", "#c0392b", "#7f8c8d",
];

/// The width of every chart's coordinate system; the page scales it.
pub const WIDTH: f64 = 820.0;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A figure over several runs: its median and its range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of some samples; `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Spread> {
        let median = contract::report::median(samples)?;
        Some(Spread {
            median,
            min: samples.iter().copied().fold(f64::INFINITY, f64::min),
            max: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One bar: a label, and its figure or why there is none.
pub struct Bar {
    pub label: String,
    pub value: Result<Spread, String>,
    /// Index into [`COLOURS`].
    pub colour: usize,
}

/// Horizontal bars from 0 to each median, with whiskers from min to max, on one axis.
pub fn bars(class: &str, title: &str, rows: &[Bar], unit: &dyn Fn(f64) -> String) -> String {
    const LABEL: f64 = 170.0;
    const PLOT: f64 = 440.0;
    const ROW: f64 = 28.0;
    let height = 14.0 + ROW * rows.len() as f64 + 30.0;
    let top = rows
        .iter()
        .filter_map(|r| r.value.as_ref().ok().map(|s| s.max))
        .fold(0.0_f64, f64::max);
    let scale = Scale::linear(0.0, top.max(f64::MIN_POSITIVE), LABEL, LABEL + PLOT);
    let mut svg = open(class, title, height);
    let axis_y = 14.0 + ROW * rows.len() as f64;
    for tick in scale.ticks() {
        let x = scale.at(tick);
        let _ = writeln!(
            svg,
            "<path d=\"M{x:.1} 8V{axis_y:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            axis_y + 16.0,
            escape(&label_or_zero(tick, unit))
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = 14.0 + ROW * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{:.1}\">{}</text>",
            y + 14.0,
            escape(&row.label)
        );
        match &row.value {
            Ok(spread) => {
                let colour = COLOURS[row.colour % COLOURS.len()];
                let tip = format!(
                    "{}: median {} (min {}, max {})",
                    row.label,
                    unit(spread.median),
                    unit(spread.min),
                    unit(spread.max)
                );
                let _ = writeln!(
                    svg,
                    "<rect class=\"mark\" x=\"{LABEL}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"18\" fill=\"{colour}\"><title>{}</title></rect>",
                    (scale.at(spread.median) - LABEL).max(0.5),
                    escape(&tip)
                );
                let (lo, hi, mid) = (scale.at(spread.min), scale.at(spread.max), y + 9.0);
                let _ = writeln!(
                    svg,
                    "<path class=\"mark\" d=\"M{lo:.1} {mid:.1}H{hi:.1}M{lo:.1} {:.1}V{:.1}M{hi:.1} {:.1}V{:.1}\" stroke=\"#222\" fill=\"none\"><title>{}</title></path>",
                    mid - 5.0,
                    mid + 5.0,
                    mid - 5.0,
                    mid + 5.0,
                    escape(&tip)
                );
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\">{} ({}–{})</text>",
                    LABEL + PLOT + 12.0,
                    y + 14.0,
                    escape(&unit(spread.median)),
                    escape(&unit(spread.min)),
                    escape(&unit(spread.max))
                );
            }
            Err(why) => {
                let _ = writeln!(
                    svg,
                    "<text x=\"{LABEL}\" y=\"{:.1}\" fill=\"#b00020\">{}</text>",
                    y + 14.0,
                    escape(why)
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// One point of a line: where it is on the x axis, and the figure's spread there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// One line of a line chart.
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// What an axis shows: its title, linear or log, and how a value reads with its unit.
pub struct Axis<'a> {
    pub title: String,
    pub log: bool,
    /// Only whole numbers are labelled (a count of workers has no 1.5).
    pub whole: bool,
    pub unit: &'a dyn Fn(f64) -> String,
}

impl Axis<'_> {
    /// The ticks of `scale` this axis labels.
    fn ticks(&self, scale: &Scale) -> Vec<f64> {
        let mut ticks = scale.ticks();
        if self.whole {
            ticks.retain(|t| t.fract() == 0.0);
        }
        ticks
    }
}

/// The plot area of a line chart, inside the chart's coordinates.
const LINES_LEFT: f64 = 80.0;
const LINES_RIGHT: f64 = 640.0;
const LINES_TOP: f64 = 20.0;
const LINES_BOTTOM: f64 = 270.0;
const LINES_HEIGHT: f64 = 320.0;

/// A line per series through its medians, a band from min to max around it, a dot per point.
/// A log axis leaves out points that are not above zero (it has no place for them).
pub fn lines(class: &str, title: &str, x_axis: &Axis, y_axis: &Axis, series: &[Series]) -> String {
    let drawable = |p: &Point| {
        [p.x, p.median, p.min, p.max].iter().all(|v| v.is_finite())
            && (!x_axis.log || p.x > 0.0)
            && (!y_axis.log || p.min > 0.0)
    };
    let points: Vec<&Point> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| drawable(p))
        .collect();
    let range = |values: &mut dyn Iterator<Item = f64>| {
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
    };
    let (x_lo, x_hi) = range(&mut points.iter().map(|p| p.x));
    let (y_lo, y_hi) = range(&mut points.iter().flat_map(|p| [p.min, p.max]));
    let x = Scale::fitted(x_axis.log, x_lo, x_hi, LINES_LEFT, LINES_RIGHT);
    let y = Scale::fitted(y_axis.log, y_lo, y_hi, LINES_BOTTOM, LINES_TOP);
    let mut svg = open(class, title, LINES_HEIGHT);
    for tick in x_axis.ticks(&x) {
        let at = x.at(tick);
        let _ = writeln!(
            svg,
            "<path d=\"M{at:.1} {LINES_TOP}V{LINES_BOTTOM}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{at:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            LINES_BOTTOM + 16.0,
            escape(&label_or_zero(tick, x_axis.unit))
        );
    }
    for tick in y_axis.ticks(&y) {
        let at = y.at(tick);
        let _ = writeln!(
            svg,
            "<path d=\"M{LINES_LEFT} {at:.1}H{LINES_RIGHT}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LINES_LEFT - 6.0,
            at + 4.0,
            escape(&label_or_zero(tick, y_axis.unit))
        );
    }
    let _ = writeln!(
        svg,
        "<path d=\"M{LINES_LEFT} {LINES_TOP}V{LINES_BOTTOM}H{LINES_RIGHT}\" stroke=\"#888\" fill=\"none\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}{}</text>\
         <text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}{}</text>",
        (LINES_LEFT + LINES_RIGHT) / 2.0,
        LINES_BOTTOM + 40.0,
        escape(&x_axis.title),
        if x_axis.log { " (log scale)" } else { "" },
        (LINES_TOP + LINES_BOTTOM) / 2.0,
        (LINES_TOP + LINES_BOTTOM) / 2.0,
        escape(&y_axis.title),
        if y_axis.log { " (log scale)" } else { "" },
    );
    for (i, one) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut mine: Vec<&Point> = one.points.iter().filter(|p| drawable(p)).collect();
        mine.sort_by(|a, b| a.x.total_cmp(&b.x));
        let legend_y = LINES_TOP + 8.0 + 20.0 * i as f64;
        let _ = writeln!(
            svg,
            "<path d=\"M{:.1} {legend_y:.1}h22\" stroke=\"{colour}\" stroke-width=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LINES_RIGHT + 16.0,
            LINES_RIGHT + 44.0,
            legend_y + 4.0,
            escape(&one.name)
        );
        if mine.is_empty() {
            continue;
        }
        let band: Vec<String> = mine
            .iter()
            .map(|p| format!("{:.1},{:.1}", x.at(p.x), y.at(p.max)))
            .chain(
                mine.iter()
                    .rev()
                    .map(|p| format!("{:.1},{:.1}", x.at(p.x), y.at(p.min))),
            )
            .collect();
        let _ = writeln!(
            svg,
            "<polygon class=\"mark\" points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.18\" stroke=\"none\"><title>{}: min–max over the runs</title></polygon>",
            band.join(" "),
            escape(&one.name)
        );
        let line: Vec<String> = mine
            .iter()
            .map(|p| format!("{:.1},{:.1}", x.at(p.x), y.at(p.median)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline class=\"mark\" points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}: median</title></polyline>",
            line.join(" "),
            escape(&one.name)
        );
        for p in mine {
            let tip = format!(
                "{}: {} → {} (min {}, max {})",
                one.name,
                (x_axis.unit)(p.x),
                (y_axis.unit)(p.median),
                (y_axis.unit)(p.min),
                (y_axis.unit)(p.max)
            );
            let _ = writeln!(
                svg,
                "<circle class=\"mark\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{colour}\"><title>{}</title></circle>",
                x.at(p.x),
                y.at(p.median),
                escape(&tip)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// One backend's part of a stacked timeline.
pub struct Lane<'a> {
    /// e.g. `threads · run 2 of 3, demo time 51.2 ms (the median)`.
    pub title: String,
    pub timeline: &'a Timeline,
}

const TIMELINE_LABEL: f64 = 110.0;
const TIMELINE_RIGHT: f64 = 800.0;
const TIMELINE_ROW: f64 = 16.0;
const TIMELINE_LANE_TITLE: f64 = 22.0;
const TIMELINE_TOP: f64 = 30.0;

/// The colour of an activity's bars; paler for a spell its worker never said was over.
fn activity_colour(activity: Activity, cut: bool) -> &'static str {
    match (activity, cut) {
        (Activity::Working, false) => "#3b7dd8",
        (Activity::Working, true) => "#a9c6ef",
        (Activity::Sleeping, false) => "#8cc665",
        (Activity::Sleeping, true) => "#cde6bd",
        (Activity::Waiting, false) => "#e8a33d",
        (Activity::Waiting, true) => "#f5d5a4",
    }
}

/// The lanes stacked on one time axis from the earliest lane's start to the latest one's end: in each lane a row
/// per worker with its lifetime as a thin bar, its spells as bars, its events as dots and
/// a death as a red cross, each with its narration as the tooltip.
pub fn timeline(class: &str, title: &str, lanes: &[Lane]) -> String {
    let rows: usize = lanes.iter().map(|l| l.timeline.rows.len().max(1)).sum();
    let axis_y =
        TIMELINE_TOP + TIMELINE_LANE_TITLE * lanes.len() as f64 + TIMELINE_ROW * rows as f64 + 4.0;
    let height = axis_y + 24.0;
    let start = lanes
        .iter()
        .map(|l| l.timeline.start_s)
        .fold(f64::INFINITY, f64::min);
    let start = if start.is_finite() { start } else { 0.0 };
    let end = lanes
        .iter()
        .map(|l| l.timeline.end_s)
        .fold(start, f64::max)
        .max(start + 1e-6);
    let x = Scale::linear(start, end, TIMELINE_LABEL, TIMELINE_RIGHT);
    let mut svg = open(class, title, height);
    // The legend: not data, so no marks.
    let mut legend_x = TIMELINE_LABEL;
    for activity in [Activity::Working, Activity::Sleeping, Activity::Waiting] {
        let _ = write!(
            svg,
            "<rect x=\"{legend_x:.1}\" y=\"8\" width=\"14\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"17\">{}</text>",
            activity_colour(activity, false),
            legend_x + 18.0,
            activity.word()
        );
        legend_x += 90.0;
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{legend_x:.1}\" y=\"12\" width=\"14\" height=\"2\" fill=\"#888\"/><text x=\"{:.1}\" y=\"17\">alive</text>\
         <circle cx=\"{:.1}\" cy=\"13\" r=\"3.5\" fill=\"#222\"/><text x=\"{:.1}\" y=\"17\">event</text>\
         <path d=\"M{:.1} 9l8 8m0 -8l-8 8\" stroke=\"#c0392b\" stroke-width=\"2.5\"/><text x=\"{:.1}\" y=\"17\">died</text>",
        legend_x + 18.0,
        legend_x + 80.0,
        legend_x + 88.0,
        legend_x + 150.0,
        legend_x + 162.0,
    );
    for tick in axis_ticks(start, end, 6) {
        let at = x.at(tick);
        let _ = writeln!(
            svg,
            "<path d=\"M{at:.1} {TIMELINE_TOP}V{axis_y:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{at:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            axis_y + 16.0,
            escape(&seconds_label(tick))
        );
    }
    let _ = writeln!(
        svg,
        "<path d=\"M{TIMELINE_LABEL} {axis_y:.1}H{TIMELINE_RIGHT}\" stroke=\"#888\"/>"
    );
    let mut y = TIMELINE_TOP;
    for lane in lanes {
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
            y + 15.0,
            escape(&lane.title)
        );
        y += TIMELINE_LANE_TITLE;
        if lane.timeline.rows.is_empty() {
            let _ = writeln!(
                svg,
                "<text x=\"{TIMELINE_LABEL}\" y=\"{:.1}\">no events</text>",
                y + 12.0
            );
        }
        for row in &lane.timeline.rows {
            let _ = writeln!(
                svg,
                "<text x=\"20\" y=\"{:.1}\">{}</text>",
                y + 12.0,
                escape(&row.worker)
            );
            let (born, gone) = row.lifetime;
            let _ = writeln!(
                svg,
                "<rect class=\"mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"2\" fill=\"#888\"><title>{} alive from {} to {}</title></rect>",
                x.at(born),
                y + 7.0,
                (x.at(gone) - x.at(born)).max(1.0),
                escape(&row.worker),
                escape(&seconds_label(born)),
                escape(&seconds_label(gone))
            );
            for spell in &row.spells {
                let tip = format!(
                    "{} · {} from {} to {}{}",
                    spell.narration,
                    spell.activity.word(),
                    seconds_label(spell.start_s),
                    seconds_label(spell.end_s),
                    if spell.cut {
                        " (said nothing more: cut at the round's or the demo's end)"
                    } else {
                        ""
                    }
                );
                let _ = writeln!(
                    svg,
                    "<rect class=\"mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.5\"><title>{}</title></rect>",
                    x.at(spell.start_s),
                    y + 2.0,
                    (x.at(spell.end_s) - x.at(spell.start_s)).max(1.0),
                    activity_colour(spell.activity, spell.cut),
                    escape(&tip)
                );
            }
            for mark in &row.marks {
                let (cx, cy) = (x.at(mark.t_s), y + 8.0);
                let tip = format!("{} · at {}", mark.narration, seconds_label(mark.t_s));
                match mark.kind {
                    MarkKind::Event => {
                        let _ = writeln!(
                            svg,
                            "<circle class=\"mark\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3.5\" fill=\"#222\" stroke=\"#fff\" stroke-width=\"0.8\"><title>{}</title></circle>",
                            escape(&tip)
                        );
                    }
                    MarkKind::Death => {
                        let _ = writeln!(
                            svg,
                            "<path class=\"mark\" d=\"M{:.1} {:.1}l9 9m0 -9l-9 9\" stroke=\"#c0392b\" stroke-width=\"2.5\"><title>{}</title></path>",
                            cx - 4.5,
                            cy - 4.5,
                            escape(&tip)
                        );
                    }
                }
            }
            y += TIMELINE_ROW;
        }
        if lane.timeline.rows.is_empty() {
            y += TIMELINE_ROW;
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Maps values of a domain to chart coordinates, linearly or on a log scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    log: bool,
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// `lo..hi` onto `from..to`.
    pub fn linear(lo: f64, hi: f64, from: f64, to: f64) -> Scale {
        Scale {
            log: false,
            domain: (lo, if hi > lo { hi } else { lo + 1.0 }),
            range: (from, to),
        }
    }

    /// A scale that holds `lo..hi` with round ends: from 0 (or a round number below `lo`
    /// when `lo` is negative) to the first round tick at or above `hi`; on a log scale, from
    /// the power of ten at or below `lo` to the one at or above `hi`.
    pub fn fitted(log: bool, lo: f64, hi: f64, from: f64, to: f64) -> Scale {
        if !lo.is_finite() || !hi.is_finite() {
            return Scale::linear(0.0, 1.0, from, to);
        }
        if log {
            let lo = 10f64.powf(lo.log10().floor());
            let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
            return Scale {
                log: true,
                domain: (lo, hi),
                range: (from, to),
            };
        }
        let lo = lo.min(0.0);
        let step = nice_step((hi - lo).max(f64::MIN_POSITIVE) / 5.0);
        Scale::linear(
            (lo / step).floor() * step,
            (hi / step).ceil() * step,
            from,
            to,
        )
    }

    /// Where `value` goes.
    pub fn at(&self, value: f64) -> f64 {
        let (lo, hi) = self.domain;
        let share = if self.log {
            (value.log10() - lo.log10()) / (hi.log10() - lo.log10())
        } else {
            (value - lo) / (hi - lo)
        };
        self.range.0 + share * (self.range.1 - self.range.0)
    }

    /// Round values to label: about five at 1, 2 or 5 × 10ⁿ apart on a linear scale; each
    /// power of ten on a log scale, with 2 and 5 between them when it spans one decade.
    pub fn ticks(&self) -> Vec<f64> {
        let (lo, hi) = self.domain;
        if !self.log {
            return axis_ticks(lo, hi, 5);
        }
        let (first, last) = (lo.log10().round() as i32, hi.log10().round() as i32);
        let mut ticks = Vec::new();
        for power in first..=last {
            let decade = 10f64.powi(power);
            ticks.push(decade);
            if last - first == 1 && power < last {
                ticks.extend([2.0 * decade, 5.0 * decade]);
            }
        }
        ticks
    }
}

/// `0` for zero, else the value with its unit.
fn label_or_zero(value: f64, unit: &dyn Fn(f64) -> String) -> String {
    if value == 0.0 {
        "0".to_string()
    } else {
        unit(value)
    }
}

/// The opening of a chart: scales to the page's width through its `viewBox`.
fn open(class: &str, title: &str, height: f64) -> String {
    format!(
        "<svg class=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\">\n<title>{}</title>\n",
        escape(class),
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::Event;

    /// The `(cx, cy)` of every `<circle class="mark"` in an SVG.
    fn dots(svg: &str) -> Vec<(f64, f64)> {
        svg.split("<circle class=\"mark\"")
            .skip(1)
            .map(|rest| {
                let attribute = |name: &str| -> f64 {
                    let from = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                    let to = from + rest[from..].find('"').unwrap();
                    rest[from..to].parse().unwrap()
                };
                (attribute("cx"), attribute("cy"))
            })
            .collect()
    }

    fn unit(value: f64) -> String {
        format!("{value} u")
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let svg = bars(
            "x",
            "<t>",
            &[Bar {
                label: "a<b".into(),
                value: Err("none & all".into()),
                colour: 0,
            }],
            &unit,
        );
        assert!(svg.contains("<title>&lt;t&gt;</title>") && svg.contains(">a&lt;b<"));
        assert!(svg.contains(">none &amp; all<"));
    }

    #[test]
    fn a_line_chart_puts_its_points_where_the_axes_say() {
        // x 0…10 and y 0…100 are round already: the plot area spans exactly these.
        let series = [Series {
            name: "one".into(),
            points: vec![
                Point {
                    x: 0.0,
                    median: 0.0,
                    min: 0.0,
                    max: 10.0,
                },
                Point {
                    x: 5.0,
                    median: 50.0,
                    min: 40.0,
                    max: 60.0,
                },
                Point {
                    x: 10.0,
                    median: 100.0,
                    min: 90.0,
                    max: 100.0,
                },
            ],
        }];
        let axis = |log| Axis {
            title: "t".into(),
            log,
            whole: false,
            unit: &unit,
        };
        let svg = lines("c", "known points", &axis(false), &axis(false), &series);
        let middle = (
            (LINES_LEFT + LINES_RIGHT) / 2.0,
            (LINES_TOP + LINES_BOTTOM) / 2.0,
        );
        assert_eq!(
            dots(&svg),
            [(LINES_LEFT, LINES_BOTTOM), middle, (LINES_RIGHT, LINES_TOP)]
        );
        assert!(svg.contains("width=\"100%\"") && svg.contains("viewBox=\"0 0 820 320\""));
        // The band runs along the maxima, then back along the minima.
        assert!(
            svg.contains(
                "points=\"80.0,245.0 360.0,120.0 640.0,20.0 640.0,45.0 360.0,170.0 80.0,270.0\""
            ),
            "{svg}"
        );

        // On log axes 1…1000 and 1…10 000, 10 lies a third along x and 100 half way up y;
        // a point at 0 has no place and is left out.
        let series = [Series {
            name: "log".into(),
            points: vec![
                Point {
                    x: 0.0,
                    median: 5.0,
                    min: 5.0,
                    max: 5.0,
                },
                Point {
                    x: 1.0,
                    median: 1.0,
                    min: 1.0,
                    max: 1.0,
                },
                Point {
                    x: 10.0,
                    median: 100.0,
                    min: 100.0,
                    max: 100.0,
                },
                Point {
                    x: 900.0,
                    median: 9000.0,
                    min: 8000.0,
                    max: 9000.0,
                },
            ],
        }];
        let svg = lines("c", "log", &axis(true), &axis(true), &series);
        let found = dots(&svg);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0], (LINES_LEFT, LINES_BOTTOM));
        let third = LINES_LEFT + (LINES_RIGHT - LINES_LEFT) / 3.0;
        assert!((found[1].0 - third).abs() < 0.05, "{found:?}");
        assert_eq!(found[1].1, (LINES_TOP + LINES_BOTTOM) / 2.0);
    }

    #[test]
    fn log_axes_tick_every_power_of_ten_and_fill_in_a_single_decade() {
        let wide = Scale::fitted(true, 3.0, 2000.0, 0.0, 100.0);
        assert_eq!(wide.ticks(), [1.0, 10.0, 100.0, 1000.0, 10000.0]);
        assert_eq!(wide.at(100.0), 50.0);
        let narrow = Scale::fitted(true, 20.0, 80.0, 0.0, 100.0);
        assert_eq!(narrow.ticks(), [10.0, 20.0, 50.0, 100.0]);
        let linear = Scale::fitted(false, 0.3, 9.2, 0.0, 100.0);
        assert_eq!(linear.ticks(), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(linear.at(5.0), 50.0);
    }

    #[test]
    fn bars_and_whiskers_follow_the_figures() {
        // Whiskers up to 100 on a 0…100 axis: the longest reaches the plot's right end.
        let svg = bars(
            "c",
            "bars",
            &[Bar {
                label: "a".into(),
                value: Ok(Spread {
                    median: 50.0,
                    min: 25.0,
                    max: 100.0,
                }),
                colour: 0,
            }],
            &unit,
        );
        assert!(
            svg.contains("<rect class=\"mark\" x=\"170\" y=\"14.0\" width=\"220.0\""),
            "{svg}"
        );
        assert!(svg.contains("d=\"M280.0 23.0H610.0"), "{svg}");
    }

    #[test]
    fn a_timeline_draws_every_spell_mark_and_death_with_its_narration() {
        let event = |t_s: f64, worker: &str, what: &str| Event {
            t_s,
            worker: worker.into(),
            what: what.into(),
            detail: None,
        };
        let first = Timeline::of(
            &[
                event(0.0, "t1", "sleeping"),
                event(0.5, "t1", "finished"),
                event(0.1, "t2", "dying"),
            ],
            0.5,
        );
        let second = Timeline::of(&[event(0.2, "t1", "waiting"), event(1.0, "t1", "go")], 1.0);
        let svg = timeline(
            "timeline",
            "both",
            &[
                Lane {
                    title: "a".into(),
                    timeline: &first,
                },
                Lane {
                    title: "b".into(),
                    timeline: &second,
                },
            ],
        );
        // One axis to 1 s for both: t1's sleep in the first lane covers half the plot.
        let half = (TIMELINE_RIGHT - TIMELINE_LABEL) / 2.0;
        assert!(
            svg.contains(&format!(
                "width=\"{half:.1}\" height=\"12\" fill=\"#8cc665\""
            )),
            "{svg}"
        );
        assert!(svg.contains("<title>t1 sleeping · sleeping from 0 to 500 ms</title>"));
        assert!(svg.contains("<title>t2 dying · at 100 ms</title>"));
        assert!(svg.contains("<title>t1 go · at 1 s</title>"));
        assert_eq!(
            svg.matches("class=\"mark\"").count(),
            3 + 2 + 3,
            "lifetimes, spells, marks"
        );
    }
}
