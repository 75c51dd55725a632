//! `spawn`: start and join/reap `count` workers one after another, and the bare OS calls.

use super::prelude::*;
use crate::job::Job;
use crate::run::DemoRun;

/// The catalogue's row of `spawn`.
pub const ROW: Row = Row {
    id: "spawn",
    section: "beyond",
    description: "the cost to create, start and join/reap one worker, next to the bare OS calls",
    params: &[
        Param { name: "count", default: "200" },
        Param { name: "touched-mib", default: "0, 64, 256" },
        Param { name: "workers", default: "(not measured)" },
    ],
    ideal_wall_s: 0.0,
    default_count: Some(DEFAULT_COUNT),
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "worker_start_join_us", label: "start and join one worker", better: Better::Lower },
        Headline { key: "raw_os_us", label: "the bare OS call, same run", better: Better::Lower },
        Headline { key: "worker_start_join_one_core_us", label: "start and join one worker, on one core", better: Better::Lower },
        Headline { key: "raw_os_one_core_us", label: "the bare OS call, on one core", better: Better::Lower },
        Headline { key: "raw_os_us_per_touched_mib", label: "the bare OS call's cost per touched MiB", better: Better::Lower },
        Headline { key: "raw_os_us_touched", label: "the bare OS call after touching --touched-mib", better: Better::Lower },
        Headline { key: "all_at_once_us_per_worker", label: "--workers started at once, then joined: per worker", better: Better::Lower },
    ],
    check: check_json::<SpawnOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event: same_events,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["count", "touched-mib", "workers"];

pub const DEFAULT_COUNT: u64 = 200;
/// The fork cost is measured again after the parent has touched this much memory.
pub const TOUCHED_MIB: [usize; 3] = [0, 64, 256];

/// The touched sizes a run measures: `--touched-mib N` gives 0 and N (N alone is recorded as
/// `raw_os_us_touched`, the figure a sweep draws against N), else [`TOUCHED_MIB`].
pub fn touched_mib(run: &DemoRun) -> Vec<usize> {
    match run.options().touched_mib {
        Some(0) => vec![0],
        Some(mib) => vec![0, mib],
        None => TOUCHED_MIB.to_vec(),
    }
}

/// `--workers N`: the all-at-once pass starts N workers before it joins any (none without it).
pub fn all_at_once(run: &DemoRun) -> Option<usize> {
    run.options().workers
}

/// The all-at-once pass runs this many times; its median per worker is recorded.
pub const ALL_AT_ONCE_PASSES: usize = 3;

/// Bare starts timed at each touched size: a tenth of `--count`, five at least.
pub fn touched_starts(run: &DemoRun) -> u64 {
    (run.count() / 10).max(5)
}

/// `spawn`: how many workers were started and joined, and whether every one came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpawnOutcome {
    pub started: u64,
    pub joined: u64,
}

impl Outcome for SpawnOutcome {
    fn check(&self) -> Result<(), String> {
        if self.started > 0 && self.joined == self.started {
            Ok(())
        } else {
            Err(format!("{} started, {} joined", self.started, self.joined))
        }
    }
}

/// A worker that does nothing: what is left is the cost of starting and joining it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Nothing;

impl Job for Nothing {
    type Output = ();

    fn run(self, _: &dyn EventSink) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_worker_started_must_be_joined_and_one_at_least() {
        let outcome = |started, joined| SpawnOutcome { started, joined };
        assert_eq!(outcome(3, 3).check(), Ok(()));
        assert_eq!(outcome(1, 1).check(), Ok(()));
        assert_eq!(outcome(3, 2).check(), Err("3 started, 2 joined".into()));
        assert!(outcome(0, 0).check().is_err());
    }
}
