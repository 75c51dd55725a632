//! `cpu`: count the primes below `n`, in chunks dealt to 1, 2, …, `workers` workers.

use super::prelude::*;
use crate::job::Job;
use std::ops::Range;

/// The catalogue's row of `cpu`.
pub const ROW: Row = Row {
    id: "cpu",
    section: "beyond",
    description: "count primes in chunks across 1…N workers: CPU-bound work scales with cores",
    params: &[
        Param { name: "n", default: "2000000" },
        Param { name: "workers", default: "cores" },
    ],
    ideal_wall_s: 0.0,
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "speedup_2_workers", label: "speedup of 2 workers over 1", better: Better::Higher },
        Headline { key: "speedup_all_workers", label: "speedup of --workers over 1", better: Better::Higher },
    ],
    check: check_json::<CpuOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event: same_events,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["workers", "n"];

pub const DEFAULT_N: u64 = 2_000_000;
/// The range is cut into this many chunks, dealt round-robin, so that every worker
/// gets a share of the small (cheap) and the large (dear) numbers.
pub const CHUNKS: u64 = 64;

/// Worker names `t0`, `t1`, ….
pub fn worker_name(index: usize) -> String {
    format!("t{index}")
}

/// The default worker count: the number of cores.
/// The most workers `cpu` takes: it times every count from 1 to N, each a whole pass.
pub const MAX_WORKERS: usize = 64;

pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `cpu`: the prime count of every pass (1, 2, … workers), and the sieve's count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuOutcome {
    pub n: u64,
    /// π(n) by a sieve, independent of the workers' trial division.
    pub expected: u64,
    /// (workers, primes counted) per pass.
    pub passes: Vec<(usize, u64)>,
}

impl CpuOutcome {
    pub fn new(n: u64) -> Self {
        CpuOutcome {
            n,
            expected: crate::demos::cpu::primes_below_by_sieve(n),
            passes: Vec::new(),
        }
    }

    /// Records one pass: its count here, its wall time and its speedup over the one-worker
    /// pass (measured in the same run) in the demo's figures.
    pub fn record_pass(
        &mut self,
        run: &crate::run::DemoRun,
        workers: usize,
        primes: u64,
        wall_s: f64,
    ) {
        self.passes.push((workers, primes));
        run.measured(&format!("wall_s_{workers}_workers"), wall_s);
        let one_worker_s = run.measured_value("wall_s_1_workers").unwrap_or(wall_s);
        run.measured(&format!("speedup_{workers}_workers"), one_worker_s / wall_s);
        // The pass of `--workers N` when it is given: the figure a sweep of workers draws
        // against N (under a name without N).
        if run.options().workers == Some(workers) {
            run.measured("speedup_all_workers", one_worker_s / wall_s);
        }
        run.main_says(
            "counted",
            Some(format!("{primes} primes with {workers} workers")),
        );
    }
}

impl Outcome for CpuOutcome {
    fn check(&self) -> Result<(), String> {
        if self.passes.is_empty() {
            return Err("no pass ran".into());
        }
        match self
            .passes
            .iter()
            .find(|(_, primes)| *primes != self.expected)
        {
            Some((workers, primes)) => Err(format!(
                "{workers} workers counted {primes} primes below {}, expected {}",
                self.n, self.expected
            )),
            None => Ok(()),
        }
    }
}

/// True when `k` is prime, by trial division by odd numbers up to √k: deliberately plain
/// CPU work, the same in both backends.
pub fn is_prime(k: u64) -> bool {
    match k {
        0 | 1 => false,
        2 | 3 => true,
        _ if k.is_multiple_of(2) => false,
        _ => (3..)
            .step_by(2)
            .take_while(|d| d * d <= k)
            .all(|d| !k.is_multiple_of(d)),
    }
}

/// How many primes lie in `range`.
pub fn count_primes(range: std::ops::Range<u64>) -> u64 {
    range.filter(|&k| is_prime(k)).count() as u64
}

/// The chunks of `[0, n)` that worker `worker` of `workers` counts: [`CHUNKS`]
/// equal chunks dealt round-robin, so that each worker gets cheap and dear numbers alike.
///
/// [`CHUNKS`]: CHUNKS
pub fn prime_chunks(worker: usize, workers: usize, n: u64) -> Vec<std::ops::Range<u64>> {
    let chunks = CHUNKS;
    (worker as u64..chunks)
        .step_by(workers)
        .map(|i| n * i / chunks..n * (i + 1) / chunks)
        .collect()
}

/// π(n), the number of primes below `n`, by a sieve of Eratosthenes: an independent check
/// of the workers' count. The main flow runs it, for seconds at the largest `--n`, so it
/// looks at Ctrl-C every 64 Ki numbers and every 64 Ki multiples struck, and stops early:
/// its count is then wrong, but the demo ends as interrupted at its next wait, and nothing
/// reports it.
pub fn primes_below_by_sieve(n: u64) -> u64 {
    const EVERY: usize = 65_536;
    let n = n as usize;
    let mut composite = vec![false; n.max(2)];
    let mut count = 0;
    'numbers: for k in 2..n {
        if k.is_multiple_of(EVERY) && crate::interrupt::requested() {
            break;
        }
        if composite[k] {
            continue;
        }
        count += 1;
        let Some(first) = k.checked_mul(k).filter(|&first| first < n) else {
            continue;
        };
        for (struck, multiple) in (first..n).step_by(k).enumerate() {
            if struck.is_multiple_of(EVERY) && crate::interrupt::requested() {
                break 'numbers;
            }
            composite[multiple] = true;
        }
    }
    count
}

/// One worker's share of the primes, as a job: its chunks of the range.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CountPrimes {
    pub chunks: Vec<Range<u64>>,
}

impl Job for CountPrimes {
    type Output = u64;

    fn run(self, out: &dyn EventSink) -> u64 {
        out.emit("counting", Some(format!("{} chunks", self.chunks.len())));
        self.chunks.into_iter().map(count_primes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_counted_exactly() {
        assert_eq!(primes_below_by_sieve(2_000_000), 148_933);
        assert_eq!(count_primes(0..100), 25);
        assert_eq!(primes_below_by_sieve(100), 25);
        let n = 100_000;
        for workers in 1..=3 {
            let total: u64 = (0..workers)
                .map(|w| {
                    prime_chunks(w, workers, n)
                        .into_iter()
                        .map(count_primes)
                        .sum::<u64>()
                })
                .sum();
            assert_eq!(total, 9592, "{workers} workers");
        }
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;

    #[test]
    fn with_workers_given_its_pass_is_also_the_size_free_speedup() {
        let options = crate::settings::DemoOptions {
            workers: Some(3),
            ..Default::default()
        };
        let run = crate::outcome::testing::demo_run(crate::demos::DemoId::Cpu, options);
        let mut outcome = CpuOutcome::new(100);
        outcome.record_pass(&run, 1, 25, 3.0);
        outcome.record_pass(&run, 2, 25, 2.0);
        assert_eq!(run.measured_value("speedup_all_workers"), None);
        outcome.record_pass(&run, 3, 25, 1.5);
        assert_eq!(run.measured_value("speedup_all_workers"), Some(2.0));
    }

    #[test]
    fn a_pass_records_its_time_and_its_speedup_over_one_worker() {
        let run = crate::outcome::testing::demo_run(crate::demos::DemoId::Cpu, Default::default());
        let mut outcome = CpuOutcome::new(100);
        assert_eq!(outcome.expected, 25);
        outcome.record_pass(&run, 1, 25, 2.0);
        outcome.record_pass(&run, 2, 25, 0.5);
        assert_eq!(outcome.passes, [(1, 25), (2, 25)]);
        assert_eq!(run.measured_value("wall_s_1_workers"), Some(2.0));
        assert_eq!(run.measured_value("wall_s_2_workers"), Some(0.5));
        assert_eq!(run.measured_value("speedup_1_workers"), Some(1.0));
        assert_eq!(run.measured_value("speedup_2_workers"), Some(4.0));
        // Without --workers, no size-free speedup: a sweep's figure only.
        assert_eq!(run.measured_value("speedup_all_workers"), None);
        let said: Vec<Option<String>> =
            run.trace().events().into_iter().map(|e| e.detail).collect();
        assert_eq!(
            said,
            [
                Some("25 primes with 1 workers".into()),
                Some("25 primes with 2 workers".into())
            ]
        );
        assert_eq!(outcome.check(), Ok(()));
        outcome.passes.push((3, 24));
        assert_eq!(
            outcome.check(),
            Err("3 workers counted 24 primes below 100, expected 25".into())
        );
        assert_eq!(CpuOutcome::new(100).check(), Err("no pass ran".into()));
    }

    #[test]
    fn primes_by_trial_division_and_by_the_sieve() {
        let primes: Vec<u64> = (0..30).filter(|&k| is_prime(k)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(!is_prime(49) && !is_prime(121) && is_prime(7919));
        assert_eq!(primes_below_by_sieve(30), 10);
        assert_eq!(primes_below_by_sieve(2), 0);
        assert_eq!(count_primes(10..30), 6);
        // 64 chunks of 640 dealt to 3 workers: worker 1 gets chunks 1, 4, …, 61.
        let chunks = prime_chunks(1, 3, 40_960);
        assert_eq!(chunks.len(), 21);
        assert_eq!(chunks[0], 640..1280);
        assert_eq!(chunks[1], 2560..3200);
        assert_eq!(worker_name(2), "t2");
    }
}
