//! Statistics for the report, as hyperfine does them: median, min–max, mean ± σ, and ratios
//! with their propagated uncertainty.

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

/// How much faster one backend ran than the other, with the error propagated from both
/// standard deviations (hyperfine's formula).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub faster: String,
    pub slower: String,
    pub ratio: f64,
    pub error: f64,
}

impl Ratio {
    /// Compares two backends' time summaries; the faster one (lower mean) is the reference.
    pub fn between(a: (&str, &Summary), b: (&str, &Summary)) -> Option<Ratio> {
        let ((fast_name, fast), (slow_name, slow)) =
            if a.1.mean <= b.1.mean { (a, b) } else { (b, a) };
        if fast.mean <= 0.0 {
            return None;
        }
        let ratio = slow.mean / fast.mean;
        let error =
            ratio * ((fast.stddev / fast.mean).powi(2) + (slow.stddev / slow.mean).powi(2)).sqrt();
        Some(Ratio {
            faster: fast_name.to_string(),
            slower: slow_name.to_string(),
            ratio,
            error,
        })
    }

    /// `threads ran 1.31 ± 0.04 times faster than processes`.
    pub fn sentence(&self) -> String {
        format!(
            "{} ran {:.2} ± {:.2} times faster than {}",
            self.faster, self.ratio, self.error, self.slower
        )
    }
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
    fn ratio_names_the_faster_backend() {
        let fast = Summary::of(&[1.0, 1.0, 1.0]).unwrap();
        let slow = Summary::of(&[1.3, 1.3, 1.3]).unwrap();
        let ratio = Ratio::between(("processes", &slow), ("threads", &fast)).unwrap();
        assert_eq!(
            ratio.sentence(),
            "threads ran 1.30 ± 0.00 times faster than processes"
        );
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

    fn summary(mean: f64, stddev: f64) -> Summary {
        Summary {
            n: 3,
            median: mean,
            min: mean,
            max: mean,
            mean,
            stddev,
        }
    }

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
    fn the_error_of_a_ratio_comes_from_both_relative_errors() {
        // 10 % and 15 % relative errors: the ratio 3 is known to ±3·√(0.1² + 0.15²).
        let ratio =
            Ratio::between(("slow", &summary(6.0, 0.9)), ("fast", &summary(2.0, 0.2))).unwrap();
        assert_eq!(
            (ratio.faster.as_str(), ratio.slower.as_str()),
            ("fast", "slow")
        );
        assert_eq!(ratio.ratio, 3.0);
        assert!(
            (ratio.error - 3.0 * 0.0325f64.sqrt()).abs() < 1e-12,
            "{ratio:?}"
        );
        // Equal means: the first one given is the reference.
        let tie = Ratio::between(("a", &summary(2.0, 0.0)), ("b", &summary(2.0, 0.0))).unwrap();
        assert_eq!((tie.faster.as_str(), tie.ratio), ("a", 1.0));
        assert_eq!(
            Ratio::between(("a", &summary(0.0, 0.0)), ("b", &summary(2.0, 0.1))),
            None
        );
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
