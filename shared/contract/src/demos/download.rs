//! `download` (notebook §8): 14 images fetched one by one, then by six workers from a queue.

use super::prelude::*;
use crate::images::ManifestEntry;

/// The catalogue's row of `download`.
pub const ROW: Row = Row {
    id: "download",
    section: "§8",
    description: "download 14 images one by one, then with a queue of URLs shared by workers",
    params: &[
        Param { name: "workers", default: "6" },
        Param { name: "latency", default: "100 ms" },
    ],
    ideal_wall_s: ideal_wall_s(IMAGES, WORKERS, LATENCY_S),
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "sequential_wall_s", label: "one by one", better: Better::Lower },
        Headline { key: "concurrent_wall_s", label: "workers sharing a queue", better: Better::Lower },
        Headline { key: "concurrent_mb_per_s", label: "concurrent throughput", better: Better::Higher },
    ],
    check: check_json::<DownloadOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event,
};

/// The tutorial's image count (see `images::NAMES`).
pub const IMAGES: usize = crate::images::NAMES.len();
pub const WORKERS: usize = 6;
/// The local server's default latency per request, in notebook seconds.
pub const LATENCY_S: f64 = 0.1;
/// The wait before the first retry, in notebook seconds (doubled for each further one).
pub const BACKOFF_S: f64 = 0.2;
/// The one worker of the sequential pass.
pub const SEQUENTIAL_WORKER: &str = "seq";
/// The one worker of the `--baseline` reference loop.
pub const BASELINE_WORKER: &str = "baseline";

/// Workers of the concurrent pass are `t0`, `t1`, …
pub fn worker_name(index: usize) -> String {
    format!("t{index}")
}

/// Sequential, one latency per image: `images × latency`.
pub const fn ideal_sequential_s(images: usize, latency_s: f64) -> f64 {
    images as f64 * latency_s
}

/// Concurrent, `workers` requests at a time: `⌈images / workers⌉ × latency`.
pub const fn ideal_concurrent_s(images: usize, workers: usize, latency_s: f64) -> f64 {
    let workers = if workers == 0 { 1 } else { workers };
    images.div_ceil(workers) as f64 * latency_s
}

/// Both passes with perfect concurrency and nothing but the server's latency.
/// An event as two correct runs must agree on it: the queue's workers are not named, since
/// which worker fetches which image is the scheduler's choice; only what was done is compared.
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let mut key = event.key();
    if event.worker != MAIN && event.worker != SEQUENTIAL_WORKER {
        key.0 = "a worker".to_string();
    }
    Some(key)
}

pub const fn ideal_wall_s(images: usize, workers: usize, latency_s: f64) -> f64 {
    ideal_sequential_s(images, latency_s) + ideal_concurrent_s(images, workers, latency_s)
}

/// `download`: what each pass saved, per URL, and what it should have saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadOutcome {
    /// The server's manifest (name, length, sha256), when it serves one; without it the
    /// two passes are checked against each other.
    pub expected: Option<Vec<ManifestEntry>>,
    pub sequential: PassOutcome,
    pub concurrent: PassOutcome,
}

/// One pass of `download`: every URL, in the order given, with what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassOutcome {
    pub images: Vec<ImageResult>,
    /// Files in the pass's folder that are not a saved image (a partial file would be one).
    pub stray_files: Vec<String>,
}

/// One URL of a pass: the file it is saved as, and whether it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageResult {
    /// `<name>.png`, from the URL's last path segment.
    pub name: String,
    pub fetched: Fetched,
}

/// Saved whole (the bytes on disk, as the parent read them back) or failed, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched {
    Saved { length: u64, sha256: String },
    Failed { reason: String },
}

impl PassOutcome {
    fn check(&self, pass: &str) -> Result<(), String> {
        let failures: Vec<String> = self
            .images
            .iter()
            .filter_map(|image| match &image.fetched {
                Fetched::Failed { reason } => Some(format!("{} failed: {reason}", image.name)),
                Fetched::Saved { .. } => None,
            })
            .collect();
        if !failures.is_empty() {
            return Err(format!(
                "{pass}: {} of {} failed: {}",
                failures.len(),
                self.images.len(),
                failures.join("; ")
            ));
        }
        if !self.stray_files.is_empty() {
            return Err(format!(
                "{pass}: stray files in the folder: {:?}",
                self.stray_files
            ));
        }
        Ok(())
    }

    fn saved(&self) -> Vec<(String, u64, String)> {
        self.images
            .iter()
            .filter_map(|image| match &image.fetched {
                Fetched::Saved { length, sha256 } => {
                    Some((image.name.clone(), *length, sha256.clone()))
                }
                Fetched::Failed { .. } => None,
            })
            .collect()
    }
}

impl Outcome for DownloadOutcome {
    fn check(&self) -> Result<(), String> {
        self.sequential.check("sequential")?;
        self.concurrent.check("concurrent")?;
        let expected: Vec<(String, u64, String)> = match &self.expected {
            Some(manifest) => manifest
                .iter()
                .map(|e| (e.name.clone(), e.length, e.sha256.clone()))
                .collect(),
            None => self.sequential.saved(),
        };
        for (pass, outcome) in [
            ("sequential", &self.sequential),
            ("concurrent", &self.concurrent),
        ] {
            if self.expected.is_none() && pass == "sequential" {
                continue;
            }
            let saved = outcome.saved();
            if saved != expected {
                let against = if self.expected.is_some() {
                    "the manifest"
                } else {
                    "the sequential pass"
                };
                let differing: Vec<&str> = saved
                    .iter()
                    .zip(&expected)
                    .filter(|(s, e)| s != e)
                    .map(|(s, _)| s.0.as_str())
                    .collect();
                return Err(format!(
                    "{pass}: {} files differ from {against} (lengths {} vs {}): {differing:?}",
                    differing.len().max(saved.len().abs_diff(expected.len())),
                    saved.len(),
                    expected.len()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn pass(entries: &[ManifestEntry]) -> PassOutcome {
        PassOutcome {
            images: entries
                .iter()
                .map(|e| ImageResult {
                    name: e.name.clone(),
                    fetched: Fetched::Saved {
                        length: e.length,
                        sha256: e.sha256.clone(),
                    },
                })
                .collect(),
            stray_files: Vec::new(),
        }
    }

    #[test]
    fn download_checks_both_passes_against_the_manifest() {
        let manifest: Vec<ManifestEntry> = ["a.png", "b.png"]
            .iter()
            .map(|name| ManifestEntry {
                name: name.to_string(),
                length: 10,
                sha256: format!("hash of {name}"),
            })
            .collect();
        let good = DownloadOutcome {
            expected: Some(manifest.clone()),
            sequential: pass(&manifest),
            concurrent: pass(&manifest),
        };
        assert_eq!(good.check(), Ok(()));

        let mut wrong_bytes = good.clone();
        wrong_bytes.concurrent.images[1].fetched = Fetched::Saved {
            length: 10,
            sha256: "something else".into(),
        };
        assert!(wrong_bytes.check().unwrap_err().contains("concurrent"));

        let mut failed = good.clone();
        failed.sequential.images[0].fetched = Fetched::Failed {
            reason: "HTTP 500".into(),
        };
        let problem = failed.check().unwrap_err();
        assert!(problem.contains("a.png failed: HTTP 500"), "{problem}");

        let mut stray = good.clone();
        stray.concurrent.stray_files.push("b.png.part".into());
        assert!(stray.check().is_err());

        let mut without_manifest = good;
        without_manifest.expected = None;
        assert_eq!(without_manifest.check(), Ok(()));
        without_manifest.concurrent.images.pop();
        assert!(without_manifest.check().is_err());
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::event;

    fn saved(name: &str, length: u64, sha256: &str) -> ImageResult {
        ImageResult {
            name: name.into(),
            fetched: Fetched::Saved {
                length,
                sha256: sha256.into(),
            },
        }
    }

    fn pass(images: Vec<ImageResult>) -> PassOutcome {
        PassOutcome {
            images,
            stray_files: vec![],
        }
    }

    fn manifest() -> Vec<ManifestEntry> {
        [("a.png", 10, "aa"), ("b.png", 20, "bb")]
            .iter()
            .map(|(name, length, sha256)| ManifestEntry {
                name: name.to_string(),
                length: *length,
                sha256: sha256.to_string(),
            })
            .collect()
    }

    fn right() -> PassOutcome {
        pass(vec![saved("a.png", 10, "aa"), saved("b.png", 20, "bb")])
    }

    #[test]
    fn each_pass_is_checked_against_the_manifest() {
        let outcome = |sequential, concurrent| DownloadOutcome {
            expected: Some(manifest()),
            sequential,
            concurrent,
        };
        assert_eq!(outcome(right(), right()).check(), Ok(()));
        // The sequential pass with other bytes for b.png: the manifest says so.
        let other_bytes = pass(vec![saved("a.png", 10, "aa"), saved("b.png", 20, "cc")]);
        assert_eq!(
            outcome(other_bytes.clone(), right()).check(),
            Err(
                "sequential: 1 files differ from the manifest (lengths 2 vs 2): [\"b.png\"]".into()
            )
        );
        assert_eq!(
            outcome(right(), other_bytes).check(),
            Err(
                "concurrent: 1 files differ from the manifest (lengths 2 vs 2): [\"b.png\"]".into()
            )
        );
        let one_missing = pass(vec![saved("a.png", 10, "aa")]);
        assert_eq!(
            outcome(right(), one_missing).check(),
            Err("concurrent: 1 files differ from the manifest (lengths 1 vs 2): []".into())
        );
    }

    #[test]
    fn without_a_manifest_the_concurrent_pass_is_checked_against_the_sequential_one() {
        let outcome = |sequential, concurrent| DownloadOutcome {
            expected: None,
            sequential,
            concurrent,
        };
        assert_eq!(outcome(right(), right()).check(), Ok(()));
        let other_bytes = pass(vec![saved("a.png", 10, "xx"), saved("b.png", 20, "bb")]);
        assert_eq!(
            outcome(right(), other_bytes).check(),
            Err(
                "concurrent: 1 files differ from the sequential pass (lengths 2 vs 2): [\"a.png\"]"
                    .into()
            )
        );
    }

    #[test]
    fn a_failed_image_or_a_stray_file_fails_its_pass() {
        let mut failed = right();
        failed.images[1].fetched = Fetched::Failed {
            reason: "HTTP 404".into(),
        };
        assert_eq!(
            failed.check("concurrent"),
            Err("concurrent: 1 of 2 failed: b.png failed: HTTP 404".into())
        );
        assert_eq!(
            failed.saved(),
            [("a.png".to_string(), 10, "aa".to_string())]
        );
        let mut stray = right();
        stray.stray_files.push(".b.png.part".into());
        assert_eq!(
            stray.check("sequential"),
            Err("sequential: stray files in the folder: [\".b.png.part\"]".into())
        );
        assert_eq!(right().check("sequential"), Ok(()));
    }

    #[test]
    fn the_ideal_times_of_fourteen_images() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(ideal_sequential_s(14, 0.1), 1.4));
        // ⌈14 / 6⌉ = 3 rounds of requests.
        assert!(close(ideal_concurrent_s(14, 6, 0.1), 0.3));
        assert!(close(ideal_concurrent_s(14, 7, 0.1), 0.2));
        assert!(
            close(ideal_concurrent_s(14, 0, 0.1), 1.4),
            "no worker counts as one"
        );
        assert!(close(ideal_wall_s(14, 6, 0.1), 1.7));
        assert_eq!(worker_name(0), "t0");
    }

    #[test]
    fn which_worker_of_the_queue_fetched_an_image_is_not_compared() {
        let key = |worker: &str| comparable_event(&event(1.0, worker, "saved")).unwrap().0;
        assert_eq!(key("t3"), "a worker");
        assert_eq!(key(SEQUENTIAL_WORKER), SEQUENTIAL_WORKER);
        assert_eq!(key(MAIN), MAIN);
    }
}
