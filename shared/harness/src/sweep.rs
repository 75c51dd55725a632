//! `--sweep PARAM=VALUES`: the demos run at each value of one parameter (workers, count, n,
//! trials, scale, touched-mib, message-size or images), every backend, `--runs` times; then each figure as a curve per backend,
//! with a least-squares line, its slope per unit of the parameter and R², where it is linear.

use super::DemoComparison;
use super::summary::FigureComparison;
use contract::demos::DemoId;
use contract::settings::{
    DemoOptions, parse_count, parse_images, parse_message_size, parse_prime_limit,
    parse_touched_mib, parse_trials, parse_workers,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// At most this many values in one sweep.
pub const MAX_POINTS: usize = 64;

/// From this R² up, a fitted line is reported as linear.
pub const LINEAR_R2: f64 = 0.95;

/// A parameter a demo may be swept over; its name is the option it is passed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Param {
    Workers,
    Count,
    N,
    Trials,
    Scale,
    TouchedMib,
    MessageSize,
    Images,
}

impl Param {
    pub const ALL: [Param; 8] = [
        Param::Workers,
        Param::Count,
        Param::N,
        Param::Trials,
        Param::Scale,
        Param::TouchedMib,
        Param::MessageSize,
        Param::Images,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Param::Workers => "workers",
            Param::Count => "count",
            Param::N => "n",
            Param::Trials => "trials",
            Param::Scale => "scale",
            Param::TouchedMib => "touched-mib",
            Param::MessageSize => "message-size",
            Param::Images => "images",
        }
    }

    /// The unit of one step, for a slope: `µs per worker`.
    fn unit(self) -> &'static str {
        match self {
            Param::Workers => "worker",
            Param::Count => "item counted",
            Param::N => "unit of n",
            Param::Trials => "trial",
            Param::Scale => "unit of scale",
            Param::TouchedMib => "touched MiB",
            Param::MessageSize => "byte",
            Param::Images => "image",
        }
    }

    /// Checks one value as the option's own parser does.
    fn check(self, text: &str) -> Result<f64, String> {
        match self {
            Param::Workers => parse_workers(text).map(|v| v as f64),
            Param::Count => parse_count(text).map(|v| v as f64),
            Param::N => parse_prime_limit(text).map(|v| v as f64),
            Param::Trials => parse_trials(text).map(f64::from),
            Param::Scale => runner::cli::parse_scale(text),
            Param::TouchedMib => parse_touched_mib(text).map(|v| v as f64),
            Param::MessageSize => parse_message_size(text).map(|v| v as f64),
            Param::Images => parse_images(text).map(|v| v as f64),
        }
    }

    /// The arguments that pass `value` to a backend.
    pub fn args(self, value: f64) -> Vec<String> {
        vec![format!("--{}", self.name()), show_value(value)]
    }

    /// The demos' own option for this parameter, emptied: the sweep gives it, value by value.
    pub fn clear(self, options: &mut DemoOptions) {
        match self {
            Param::Workers => options.workers = None,
            Param::Count => options.count = None,
            Param::N => options.n = None,
            Param::Trials => options.trials = None,
            Param::Scale => {}
            Param::TouchedMib => options.touched_mib = None,
            Param::MessageSize => options.message_size = None,
            Param::Images => options.images = None,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `8`, `0.05`: a value as the option takes it.
pub fn show_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

/// A `--sweep` as given: the parameter and its values, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub param: Param,
    pub values: Vec<f64>,
}

/// Parses `PARAM=V1,V2,…` or the range forms `PARAM=A..B` (steps of 1), `PARAM=A..B:+K`
/// (steps of K) and `PARAM=A..B:xK` (each K times the last), B included when it is reached.
pub fn parse_sweep(text: &str) -> Result<SweepSpec, String> {
    const FORM: &str = "takes PARAM=V1,V2,… or PARAM=A..B, A..B:+K, A..B:xK";
    let (name, values) = text.split_once('=').ok_or_else(|| FORM.to_string())?;
    let param = Param::ALL
        .into_iter()
        .find(|p| p.name() == name.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = Param::ALL.iter().map(|p| p.name()).collect();
            format!(
                "cannot sweep '{}': the parameters are {}",
                name.trim(),
                names.join(", ")
            )
        })?;
    let values = match values.split_once("..") {
        Some((from, rest)) => {
            let (to, step) = match rest.split_once(':') {
                Some((to, step)) => (to, Some(step)),
                None => (rest, None),
            };
            let (from, to) = (param.check(from)?, param.check(to)?);
            if to < from {
                return Err(format!("the range {text} runs backwards"));
            }
            let next: Box<dyn Fn(f64) -> f64> = match step.map(str::trim) {
                None => Box::new(|v| v + 1.0),
                Some(step) if step.starts_with('+') => {
                    let by: f64 = step[1..].parse().map_err(|_| FORM.to_string())?;
                    if !(by > 0.0 && by.is_finite()) {
                        return Err(format!("the step of {text} must be more than 0"));
                    }
                    Box::new(move |v| v + by)
                }
                Some(step) if step.starts_with('x') || step.starts_with('×') => {
                    let by: f64 = step
                        .trim_start_matches(['x', '×'])
                        .parse()
                        .map_err(|_| FORM.to_string())?;
                    if !(by > 1.0 && by.is_finite()) {
                        return Err(format!("the factor of {text} must be more than 1"));
                    }
                    Box::new(move |v| v * by)
                }
                Some(_) => return Err(FORM.to_string()),
            };
            let mut values = vec![from];
            let mut value = next(from);
            while value <= to * (1.0 + 1e-9) {
                if values.len() == MAX_POINTS {
                    return Err(format!("{text} gives more than {MAX_POINTS} values"));
                }
                values.push(value);
                value = next(value);
            }
            values
        }
        None => values
            .split(',')
            .map(|v| param.check(v))
            .collect::<Result<Vec<f64>, String>>()?,
    };
    if values.len() < 2 {
        return Err(format!("a sweep needs at least two values: {text}"));
    }
    if values.len() > MAX_POINTS {
        return Err(format!("{text} gives more than {MAX_POINTS} values"));
    }
    if values.windows(2).any(|w| w[1] <= w[0]) {
        return Err(format!("the values of {text} must rise"));
    }
    Ok(SweepSpec { param, values })
}

/// Which parameters a demo may be swept over, as its contract module declares them.
pub fn sweepable(demo: DemoId) -> Vec<Param> {
    Param::ALL
        .into_iter()
        .filter(|p| demo.sweeps().contains(&p.name()))
        .collect()
}

/// A least-squares line through some points, and how well it fits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    /// The coefficient of determination: 1 for points on the line.
    pub r2: f64,
}

impl Fit {
    /// The line through `points` (x, y); `None` for fewer than three points or a single x.
    pub fn of(points: &[(f64, f64)]) -> Option<Fit> {
        if points.len() < 3 {
            return None;
        }
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
        if sxx == 0.0 {
            return None;
        }
        let slope = sxy / sxx;
        let r2 = if syy == 0.0 {
            1.0
        } else {
            sxy * sxy / (sxx * syy)
        };
        Some(Fit {
            slope,
            intercept: mean_y - slope * mean_x,
            r2,
        })
    }

    pub fn is_linear(&self) -> bool {
        self.r2 >= LINEAR_R2
    }
}

/// A sweep's outcome: per demo and figure, one curve per backend.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepReport {
    pub param: Param,
    pub values: Vec<f64>,
    pub demos: Vec<SweptDemo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweptDemo {
    pub id: String,
    pub figures: Vec<SweptFigure>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweptFigure {
    pub key: String,
    pub label: String,
    pub series: Vec<Series>,
}

/// One backend's curve: a point per value it ran successfully at, and its line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Series {
    pub backend: String,
    pub points: Vec<Point>,
    /// The least-squares line through the medians, with three points or more.
    pub fit: Option<Fit>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

/// The figures the sweep draws for each demo: its lead figures, then demo time, CPU and peak
/// PSS.
fn swept(figure: &FigureComparison) -> bool {
    figure.lead || ["demo_wall_s", "cpu_s", "peak_pss_kib"].contains(&figure.key.as_str())
}

/// The curves of every demo of the sweep, from the comparisons made at each value (each
/// carrying the value it was made at).
pub fn report(spec: &SweepSpec, comparisons: &[DemoComparison]) -> SweepReport {
    let mut demos: Vec<SweptDemo> = Vec::new();
    for comparison in comparisons {
        let Some(x) = comparison.swept_at else {
            continue;
        };
        let demo = match demos.iter_mut().position(|d| d.id == comparison.id) {
            Some(i) => &mut demos[i],
            None => {
                demos.push(SweptDemo {
                    id: comparison.id.clone(),
                    figures: Vec::new(),
                });
                demos.last_mut().expect("just pushed")
            }
        };
        for figure in comparison.summary.figures.iter().filter(|f| swept(f)) {
            let swept_figure = match demo.figures.iter_mut().position(|f| f.key == figure.key) {
                Some(i) => &mut demo.figures[i],
                None => {
                    demo.figures.push(SweptFigure {
                        key: figure.key.clone(),
                        label: figure.label.clone(),
                        series: Vec::new(),
                    });
                    demo.figures.last_mut().expect("just pushed")
                }
            };
            for backend in &figure.backends {
                let series = match swept_figure
                    .series
                    .iter_mut()
                    .position(|s| s.backend == backend.backend)
                {
                    Some(i) => &mut swept_figure.series[i],
                    None => {
                        swept_figure.series.push(Series {
                            backend: backend.backend.clone(),
                            points: Vec::new(),
                            fit: None,
                        });
                        swept_figure.series.last_mut().expect("just pushed")
                    }
                };
                let s = &backend.summary;
                series.points.push(Point {
                    x,
                    median: s.median,
                    min: s.min,
                    max: s.max,
                    runs: s.n,
                });
            }
        }
    }
    // A figure measured at one value only (`channel_8b_…` in a sweep of the size) is no curve.
    for demo in &mut demos {
        demo.figures
            .retain(|f| f.series.iter().any(|s| s.points.len() >= 2));
    }
    for figure in demos.iter_mut().flat_map(|d| d.figures.iter_mut()) {
        for series in &mut figure.series {
            let points: Vec<(f64, f64)> = series.points.iter().map(|p| (p.x, p.median)).collect();
            series.fit = Fit::of(&points);
        }
    }
    SweepReport {
        param: spec.param,
        values: spec.values.clone(),
        demos,
    }
}

impl SweepReport {
    /// `+12.3 µs per worker (R² 0.99)`, or `not linear (R² 0.41)`.
    pub fn slope_phrase(&self, key: &str, fit: &Fit) -> String {
        if fit.is_linear() {
            let slope = contract::units::show(key, fit.slope);
            format!(
                "{}{slope} per {} (R² {:.2})",
                if fit.slope >= 0.0 { "+" } else { "" },
                self.param.unit(),
                fit.r2
            )
        } else {
            format!("not linear (R² {:.2})", fit.r2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_fitted_to_known_points_is_exact() {
        let fit = Fit::of(&[(1.0, 5.0), (2.0, 7.0), (4.0, 11.0), (8.0, 19.0)]).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-12, "{fit:?}");
        assert!((fit.intercept - 3.0).abs() < 1e-12, "{fit:?}");
        assert!((fit.r2 - 1.0).abs() < 1e-12, "{fit:?}");
        assert!(fit.is_linear());
        // Scattered points: a poor fit, said to be not linear.
        let scattered = Fit::of(&[(1.0, 1.0), (2.0, 9.0), (3.0, 2.0), (4.0, 8.0)]).unwrap();
        assert!(
            scattered.r2 < 0.5 && !scattered.is_linear(),
            "{scattered:?}"
        );
        // y = 1 + x², x 0..3: Sxx = 5, Sxy = 15, Syy = 49, so the line is 3x and
        // r² = 15² / (5 · 49) = 225 / 245.
        let curve = Fit::of(&[(0.0, 1.0), (1.0, 2.0), (2.0, 5.0), (3.0, 10.0)]).unwrap();
        assert!((curve.slope - 3.0).abs() < 1e-12 && (curve.intercept - 0.0).abs() < 1e-12);
        assert!((curve.r2 - 225.0 / 245.0).abs() < 1e-12, "{curve:?}");
        assert_eq!(Fit::of(&[(1.0, 1.0), (2.0, 2.0)]), None);
        assert_eq!(Fit::of(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn sweeps_parse_lists_and_ranges() {
        assert_eq!(
            parse_sweep("workers=1,2,4").unwrap(),
            SweepSpec {
                param: Param::Workers,
                values: vec![1.0, 2.0, 4.0]
            }
        );
        assert_eq!(
            parse_sweep("workers=1..64:x2").unwrap().values,
            [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
        );
        assert_eq!(
            parse_sweep("count=100..400:+100").unwrap().values,
            [100.0, 200.0, 300.0, 400.0]
        );
        assert_eq!(
            parse_sweep("n=10..13").unwrap().values,
            [10.0, 11.0, 12.0, 13.0]
        );
        assert_eq!(parse_sweep("scale=0.01,0.1").unwrap().values, [0.01, 0.1]);
        assert_eq!(parse_sweep("workers=1..1024:x2").unwrap().values.len(), 11);
        for (bad, says) in [
            ("workers", "takes PARAM=V1"),
            ("colour=1,2", "cannot sweep 'colour'"),
            ("workers=4", "at least two values"),
            ("workers=4,2", "must rise"),
            (
                "workers=1,200000",
                "--workers takes a whole number from 1 to 100000",
            ),
            ("workers=8..2", "runs backwards"),
            ("workers=1..8:x1", "must be more than 1"),
            ("count=1..1000", "more than 64 values"),
            ("workers=1..8:y2", "takes PARAM=V1"),
        ] {
            let error = parse_sweep(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn every_swept_parameter_is_one_the_demo_is_given() {
        for demo in DemoId::ALL {
            assert_eq!(
                sweepable(demo).len(),
                demo.sweeps().len(),
                "{demo}: {:?}",
                demo.sweeps()
            );
            for param in sweepable(demo) {
                let named = demo.params().iter().any(|p| p.name == param.name())
                    || param == Param::Scale && demo.ideal_wall_s() > 0.0
                    || param == Param::Trials && demo == DemoId::Event;
                assert!(named, "{demo} sweeps {param}, which it does not list");
            }
        }
    }
}
