//! Statistics for the report: median, min–max, mean ± σ; Welch's confidence intervals for
//! comparing two backends (of a ratio, or of a difference when a figure can be zero), made
//! simultaneous over the whole report; outliers by modified z-score, as hyperfine flags them.

use serde::{Deserialize, Serialize};

/// A summary of some samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample standard deviation (0 for a single sample).
    pub stddev: f64,
}

impl Summary {
    /// `None` for no samples.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let n = samples.len();
        let median = contract::report::median(samples)?;
        let mean = samples.iter().sum::<f64>() / n as f64;
        let variance = if n > 1 {
            samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Summary {
            n,
            median,
            min: samples.iter().copied().fold(f64::INFINITY, f64::min),
            max: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean,
            stddev: variance.sqrt(),
        })
    }
}

/// The confidence of the whole report: every interval in it is drawn so that all of them
/// hold together with this probability (Bonferroni), not each one alone.
pub const FAMILY_CONFIDENCE: f64 = 0.95;

/// Differences smaller than this fraction are noise whatever their interval says, as
/// criterion treats them: a 1 % difference between two runs of the same program can be
/// "significant" when both happen to have almost no spread (memory counted in whole pages).
pub const NOISE_BAND: f64 = 0.02;

/// A modified z-score above this marks a sample as an outlier (Iglewicz and Hoaglin's
/// threshold, as hyperfine uses).
pub const OUTLIER_Z: f64 = 3.5;

/// The confidence of each of `family` intervals so that all of them hold together with
/// [`FAMILY_CONFIDENCE`] (Bonferroni's correction).
pub fn each_interval_confidence(family: usize) -> f64 {
    1.0 - (1.0 - FAMILY_CONFIDENCE) / family.max(1) as f64
}

/// How the interval compares the two backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// other ÷ reference, of the geometric means: the samples are all positive.
    Ratio,
    /// other − reference, of the means: some sample is zero or negative, so no ratio is
    /// meaningful.
    Difference,
}

/// What an interval says about the other backend against the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finding {
    /// The other backend's figure is higher, with the report's confidence.
    Higher,
    /// The other backend's figure is lower, with the report's confidence.
    Lower,
    /// The interval holds no difference (a ratio of 1, a difference of 0).
    NoSignificantDifference,
}

/// Another backend's figure against the reference backend's, with a confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub scale: Scale,
    /// The ratio (other ÷ reference) or the difference (other − reference).
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// The probability this one interval holds the true value.
    pub confidence: f64,
    /// The band around "no difference" that counts as noise: a ratio within
    /// [1 / (1 + noise), 1 + noise], a difference within ±noise.
    pub noise: f64,
}

/// The fewest successful runs on each side for an interval: with two, Welch's degrees of
/// freedom can fall to one, where a 95 % interval spans dozens of orders of magnitude.
pub const MIN_RUNS: usize = 3;

impl Interval {
    /// [`Interval::welch`] with at least [`MIN_RUNS`] samples on each side; `None` with fewer.
    pub fn between(reference: &[f64], other: &[f64], confidence: f64) -> Option<Interval> {
        if reference.len() < MIN_RUNS || other.len() < MIN_RUNS {
            return None;
        }
        Interval::welch(reference, other, confidence)
    }

    /// Welch's interval between the samples of two backends, `None` with fewer than two
    /// samples on either side. When every sample is positive the comparison is a ratio:
    /// Welch's t-interval of the difference of the logarithms, turned back into a ratio of
    /// geometric means (times are skewed, their logarithms much less). Otherwise it is the
    /// difference of the means.
    pub fn welch(reference: &[f64], other: &[f64], confidence: f64) -> Option<Interval> {
        if reference.len() < 2 || other.len() < 2 {
            return None;
        }
        let positive = reference.iter().chain(other).all(|&x| x > 0.0);
        let (scale, reference, other): (Scale, Vec<f64>, Vec<f64>) = if positive {
            (
                Scale::Ratio,
                reference.iter().map(|x| x.ln()).collect(),
                other.iter().map(|x| x.ln()).collect(),
            )
        } else {
            (Scale::Difference, reference.to_vec(), other.to_vec())
        };
        let (a, b) = (Summary::of(&reference)?, Summary::of(&other)?);
        let (va, vb) = (a.stddev.powi(2) / a.n as f64, b.stddev.powi(2) / b.n as f64);
        let difference = b.mean - a.mean;
        let standard_error = (va + vb).sqrt();
        let half_width = if standard_error == 0.0 {
            0.0
        } else {
            // Welch–Satterthwaite degrees of freedom.
            let df =
                (va + vb).powi(2) / (va.powi(2) / (a.n - 1) as f64 + vb.powi(2) / (b.n - 1) as f64);
            student_t_quantile(1.0 - (1.0 - confidence) / 2.0, df) * standard_error
        };
        let (low, high) = (difference - half_width, difference + half_width);
        Some(match scale {
            Scale::Ratio => Interval {
                scale,
                estimate: difference.exp(),
                low: low.exp(),
                high: high.exp(),
                confidence,
                noise: NOISE_BAND,
            },
            Scale::Difference => Interval {
                scale,
                estimate: difference,
                low,
                high,
                confidence,
                noise: NOISE_BAND * a.mean.abs(),
            },
        })
    }

    /// Whether the interval reaches into the band of "no difference" (no difference, or one
    /// within the noise band), and if not, which way it goes.
    pub fn finding(&self) -> Finding {
        let (below, above) = match self.scale {
            Scale::Ratio => (1.0 / (1.0 + self.noise), 1.0 + self.noise),
            Scale::Difference => (-self.noise, self.noise),
        };
        if self.low > above {
            Finding::Higher
        } else if self.high < below {
            Finding::Lower
        } else {
            Finding::NoSignificantDifference
        }
    }
}

/// The indices of the samples whose modified z-score (0.6745 · |x − median| / MAD) is above
/// [`OUTLIER_Z`]. When the median absolute deviation is zero (most samples equal), the mean
/// absolute deviation stands in for it, scaled by 1.2533 (Iglewicz and Hoaglin); when that is
/// zero too, every sample is equal and none is an outlier.
pub fn outliers(samples: &[f64]) -> Vec<usize> {
    let Some(median) = contract::report::median(samples) else {
        return Vec::new();
    };
    let deviations: Vec<f64> = samples.iter().map(|x| (x - median).abs()).collect();
    let mad = contract::report::median(&deviations).unwrap_or(0.0);
    let scale = if mad > 0.0 {
        mad / 0.6745
    } else {
        1.253_314 * deviations.iter().sum::<f64>() / deviations.len() as f64
    };
    if scale == 0.0 {
        return Vec::new();
    }
    deviations
        .iter()
        .enumerate()
        .filter(|&(_, deviation)| deviation / scale > OUTLIER_Z)
        .map(|(i, _)| i)
        .collect()
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom (any positive
/// real), found by bisection on its distribution function.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0 && df > 0.0, "quantile {p} of t({df})");
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let (mut low, mut high) = (0.0, 1.0);
    while student_t_cdf(high, df) < p {
        high *= 2.0;
    }
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if student_t_cdf(middle, df) < p {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

/// The distribution function of Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// I_x(a, b), by its continued fraction (Lentz's method), as in Numerical Recipes.
fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        for coefficient in [
            even,
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0, by Lanczos' approximation (g = 7, nine coefficients).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, coefficient) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += coefficient / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// How many items of `b` are not in the same relative order as in `a`: the length minus
/// the longest common subsequence. Zero when the sequences are equal.
pub fn out_of_order<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    a.len().max(b.len()) - row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_samples() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 10.0]).unwrap();
        assert_eq!(
            (s.n, s.median, s.min, s.max, s.mean),
            (4, 2.5, 1.0, 10.0, 4.0)
        );
        assert!((s.stddev - 4.0826).abs() < 1e-3);
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn out_of_order_counts_moved_items() {
        assert_eq!(out_of_order(&[1, 2, 3, 4], &[1, 2, 3, 4]), 0);
        assert_eq!(out_of_order(&[1, 2, 3, 4], &[2, 1, 3, 4]), 1);
        assert_eq!(out_of_order(&[1, 2, 3, 4], &[4, 3, 2, 1]), 3);
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;

    #[test]
    fn a_single_sample_has_no_spread() {
        let one = Summary::of(&[5.0]).unwrap();
        assert_eq!(
            one,
            Summary {
                n: 1,
                median: 5.0,
                min: 5.0,
                max: 5.0,
                mean: 5.0,
                stddev: 0.0,
            }
        );
        // Sample standard deviation: divided by n − 1.
        let two = Summary::of(&[1.0, 3.0]).unwrap();
        assert_eq!((two.mean, two.stddev), (2.0, 2f64.sqrt()));
    }

    #[test]
    fn student_t_quantiles_match_the_tables() {
        // Two-sided 95 % and 99.9 % critical values from the standard tables.
        for (df, p, expected) in [
            (1.0, 0.975, 12.706),
            (2.0, 0.975, 4.303),
            (4.0, 0.975, 2.776),
            (10.0, 0.975, 2.228),
            (30.0, 0.975, 2.042),
            (1000.0, 0.975, 1.962),
            (4.0, 0.9995, 8.610),
            (8.0, 0.9995, 5.041),
        ] {
            let t = student_t_quantile(p, df);
            assert!(
                (t - expected).abs() < 2e-3,
                "t({p}, {df}) = {t}, not {expected}"
            );
        }
        assert!((student_t_quantile(0.025, 4.0) + 2.776).abs() < 2e-3);
        assert!((student_t_cdf(0.0, 3.0) - 0.5).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn welch_interval_of_a_ratio_is_the_t_interval_of_the_logarithms() {
        // ln samples: reference {0, ln 2} (mean ln √2), other {ln 4, ln 8} (mean ln √32):
        // ratio 4; each side's sd of logs is ln 2 / √2, so the standard error is
        // √(2 · (ln 2)² / 4) = ln 2 / √2 and df = 2 exactly.
        let interval = Interval::welch(&[1.0, 2.0], &[4.0, 8.0], 0.95).unwrap();
        assert_eq!(interval.scale, Scale::Ratio);
        assert!((interval.estimate - 4.0).abs() < 1e-12, "{interval:?}");
        let half = 4.303 * std::f64::consts::LN_2 / 2f64.sqrt();
        assert!(
            (interval.low - 4.0 * (-half).exp()).abs() < 1e-2,
            "{interval:?}"
        );
        assert!(
            (interval.high - 4.0 * half.exp()).abs() < 1e-1,
            "{interval:?}"
        );
        assert_eq!(interval.finding(), Finding::NoSignificantDifference);
        // Tight samples: the same ratio is a finding.
        let tight = Interval::welch(&[1.0, 1.01, 0.99], &[4.0, 4.04, 3.96], 0.95).unwrap();
        assert_eq!(tight.finding(), Finding::Higher);
        let lower = Interval::welch(&[4.0, 4.04, 3.96], &[1.0, 1.01, 0.99], 0.95).unwrap();
        assert_eq!(lower.finding(), Finding::Lower);
        assert!((lower.estimate - 0.25).abs() < 1e-3);
        // No spread at all: the interval is the point.
        let exact = Interval::welch(&[2.0, 2.0], &[3.0, 3.0], 0.95).unwrap();
        for bound in [exact.low, exact.estimate, exact.high] {
            assert!((bound - 1.5).abs() < 1e-12, "{exact:?}");
        }
        assert_eq!(exact.finding(), Finding::Higher);
        // A difference within the noise band is no finding, however exact.
        let small = Interval::welch(&[100.0, 100.0], &[101.5, 101.5], 0.95).unwrap();
        assert_eq!(small.finding(), Finding::NoSignificantDifference);
        let just_over = Interval::welch(&[100.0, 100.0], &[102.5, 102.5], 0.95).unwrap();
        assert_eq!(just_over.finding(), Finding::Higher);
        let below = Interval::welch(&[102.5, 102.5], &[100.0, 100.0], 0.95).unwrap();
        assert_eq!(below.finding(), Finding::Lower);
        // Too few runs: no interval; the report asks for three on each side.
        assert_eq!(Interval::welch(&[1.0], &[2.0, 3.0], 0.95), None);
        assert_eq!(Interval::between(&[1.0, 2.0], &[4.0, 8.0], 0.95), None);
        assert_eq!(
            Interval::between(&[1.0, 2.0, 1.5], &[4.0, 8.0, 6.0], 0.95),
            Interval::welch(&[1.0, 2.0, 1.5], &[4.0, 8.0, 6.0], 0.95)
        );
    }

    #[test]
    fn a_zero_sample_makes_it_a_difference() {
        let interval = Interval::welch(&[0.0, 2.0], &[10.0, 12.0], 0.95).unwrap();
        assert_eq!(interval.scale, Scale::Difference);
        assert_eq!(interval.estimate, 10.0);
        // sd √2 each, se = √(1 + 1) = √2, df 2.
        let half = 4.303 * 2f64.sqrt();
        assert!((interval.low - (10.0 - half)).abs() < 1e-2, "{interval:?}");
        assert_eq!(interval.finding(), Finding::Higher);
        let same = Interval::welch(&[0.0, 1.0, 2.0], &[1.0, 0.0, 2.0], 0.95).unwrap();
        assert_eq!(same.finding(), Finding::NoSignificantDifference);
        // The noise band of a difference is 2 % of the reference's mean (here 1 ± 0.02).
        let exact = Interval::welch(&[0.0, 2.0], &[0.01, 2.01], 0.95).unwrap();
        assert_eq!(
            (exact.noise, exact.finding()),
            (0.02, Finding::NoSignificantDifference)
        );
    }

    #[test]
    fn bonferroni_spreads_the_five_percent_over_the_family() {
        assert_eq!(each_interval_confidence(1), 0.95);
        assert!((each_interval_confidence(50) - 0.999).abs() < 1e-12);
        assert_eq!(each_interval_confidence(0), 0.95);
    }

    #[test]
    fn outliers_by_modified_z_score() {
        assert_eq!(outliers(&[10.0, 10.2, 9.9, 10.1, 30.0]), vec![4]);
        assert!(outliers(&[10.0, 10.2, 9.9, 10.1, 10.4]).is_empty());
        // Most samples equal: the mean absolute deviation stands in for the MAD.
        assert_eq!(outliers(&[5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 9.0]), vec![7]);
        assert!(outliers(&[5.0, 5.0, 5.0]).is_empty());
        assert!(outliers(&[]).is_empty());
    }

    #[test]
    fn out_of_order_is_what_the_longest_common_subsequence_leaves() {
        assert_eq!(out_of_order(&[1, 2, 3], &[1, 2, 3, 4]), 1);
        assert_eq!(out_of_order(&[1, 2, 3, 4], &[1, 3]), 2);
        assert_eq!(out_of_order(&[1, 2, 3], &[]), 3);
        assert_eq!(out_of_order(&[1, 2, 2, 3], &[2, 1, 2, 3]), 1);
        assert_eq!(out_of_order(&[5, 1, 2, 3, 4], &[1, 2, 3, 4, 5]), 1);
        assert_eq!(out_of_order(&[1, 2, 3, 4, 5, 6], &[2, 1, 4, 3, 6, 5]), 3);
    }
}
