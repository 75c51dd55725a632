//! Each demo's typed outcome, how it is derived, and its check against the contract.
//!
//! Outcomes hold no timings, so that the two backends' outcomes can be compared for
//! equality. Concurrency is checked by order, not by the clock: sleeps that overlap
//! show as every `sleeping` coming before the first `finished`.

use crate::catalogue::{custom_init, event, join, lock, run_hooks, start};
use crate::counter::Tally;
use crate::event_flag::Draws;
use crate::images::ManifestEntry;
use crate::queues::{Item, QueueName};
use crate::trace::{Event, MAIN};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A demo's outcome: serialisable, and checkable against the contract.
pub trait Outcome: Serialize {
    /// `Ok` when the outcome is what the contract says; otherwise the first difference.
    fn check(&self) -> Result<(), String>;
}

/// `start`: the order in which things happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartOutcome {
    /// `worker what` for each event, in time order.
    pub order: Vec<String>,
}

impl StartOutcome {
    pub fn from_events(events: &[Event]) -> Self {
        StartOutcome {
            order: events
                .iter()
                .map(|e| format!("{} {}", e.worker, e.what))
                .collect(),
        }
    }

    /// t1 sleeping, main hello ×2, t1 finished.
    pub fn expected_order() -> Vec<String> {
        let mut order = vec![format!("{} sleeping", start::WORKER)];
        order.extend((0..start::HELLOS).map(|_| format!("{MAIN} hello")));
        order.push(format!("{} finished", start::WORKER));
        order
    }
}

impl Outcome for StartOutcome {
    fn check(&self) -> Result<(), String> {
        let expected = Self::expected_order();
        if self.order == expected {
            Ok(())
        } else {
            Err(format!("order {:?}, expected {:?}", self.order, expected))
        }
    }
}

/// `join`: who finished, and whether the sleeps overlapped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinOutcome {
    /// Workers that emitted `finished`, sorted.
    pub finished: Vec<String>,
    /// Every worker was sleeping before the first one finished.
    pub overlapped: bool,
}

impl JoinOutcome {
    pub fn from_events(events: &[Event]) -> Self {
        JoinOutcome {
            finished: sorted_workers_that(events, "finished"),
            overlapped: sleeps_overlapped(events),
        }
    }
}

impl Outcome for JoinOutcome {
    fn check(&self) -> Result<(), String> {
        let expected: Vec<String> = sorted((0..join::WORKERS).map(join::worker_name));
        if self.finished != expected {
            return Err(format!(
                "finished {:?}, expected {:?}",
                self.finished, expected
            ));
        }
        if !self.overlapped {
            return Err("a worker finished before all had started sleeping".to_string());
        }
        Ok(())
    }
}

/// `run-hooks`: each worker's own sequence of events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunHooksOutcome {
    pub per_worker: BTreeMap<String, Vec<String>>,
    pub overlapped: bool,
}

impl RunHooksOutcome {
    pub const PER_WORKER: [&'static str; 4] = ["started", "sleeping", "finished", "done"];

    pub fn from_events(events: &[Event]) -> Self {
        let mut per_worker: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for event in events.iter().filter(|e| e.worker != MAIN) {
            per_worker
                .entry(event.worker.clone())
                .or_default()
                .push(event.what.clone());
        }
        RunHooksOutcome {
            per_worker,
            overlapped: sleeps_overlapped(events),
        }
    }
}

impl Outcome for RunHooksOutcome {
    fn check(&self) -> Result<(), String> {
        let names: Vec<String> = sorted((0..run_hooks::WORKERS).map(run_hooks::worker_name));
        let seen: Vec<String> = self.per_worker.keys().cloned().collect();
        if seen != names {
            return Err(format!("workers {seen:?}, expected {names:?}"));
        }
        for (worker, whats) in &self.per_worker {
            if whats != &Self::PER_WORKER {
                return Err(format!(
                    "{worker} did {whats:?}, expected {:?}",
                    Self::PER_WORKER
                ));
            }
        }
        if !self.overlapped {
            return Err("a worker finished before all had started sleeping".to_string());
        }
        Ok(())
    }
}

/// `custom-init`: each worker's number with the value it computed, as the parent received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomInitOutcome {
    pub values: BTreeMap<u32, u64>,
}

impl CustomInitOutcome {
    /// Worker k yields 8·(k−1): the set {0, 8, …, 72}.
    pub fn expected() -> BTreeMap<u32, u64> {
        (1..=custom_init::WORKERS)
            .map(|k| {
                (
                    k,
                    crate::workloads::double(custom_init::input(k), custom_init::CYCLES),
                )
            })
            .collect()
    }
}

impl Outcome for CustomInitOutcome {
    fn check(&self) -> Result<(), String> {
        let expected = Self::expected();
        if self.values == expected {
            Ok(())
        } else {
            Err(format!("values {:?}, expected {:?}", self.values, expected))
        }
    }
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

/// `lock`: what each variant left in the counter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockOutcome {
    /// Updates each worker made (`--count`).
    pub count: u64,
    /// One lock around each worker's loop: 0, with every update kept.
    pub locked: Tally,
    /// No lock: whatever the interleaving left. Never checked equal to anything, and left
    /// out when the two backends' outcomes are compared; only checked to agree with itself.
    pub unlocked: Tally,
}

impl LockOutcome {
    /// The largest amount one update moves the counter by.
    pub fn max_delta() -> u64 {
        lock::DELTAS
            .iter()
            .map(|d| d.unsigned_abs())
            .max()
            .map_or(0, u64::from)
    }

    /// Updates made by all the workers together.
    pub fn updates_made(count: u64) -> u64 {
        count * lock::DELTAS.len() as u64
    }
}

impl Outcome for LockOutcome {
    fn check(&self) -> Result<(), String> {
        let made = Self::updates_made(self.count);
        let expected = Tally {
            value: 0,
            updates: made,
            lost_updates: 0,
        };
        if self.locked != expected {
            return Err(format!(
                "locked counter {:?}, expected {expected:?}",
                self.locked
            ));
        }
        self.unlocked
            .consistent(made, Self::max_delta())
            .map_err(|problem| format!("unlocked counter: {problem}"))
    }
}

/// `queue`: what the consumer got from each of the notebook's queues, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueOutcome {
    pub fifo: Vec<i64>,
    pub lifo: Vec<i64>,
    pub priority: Vec<i64>,
    /// The text of each `(priority, text)` pair, as the notebook prints `q.get()[1]`.
    pub priority_pairs: Vec<String>,
    /// Items of the timed pass that came back as they were put (must be `--count`).
    pub timed_returned: u64,
    /// `--count`.
    pub count: u64,
}

impl QueueOutcome {
    /// Sorts what the consumer got into the four sequences.
    pub fn from_batches(
        batches: &[(QueueName, Vec<Item>)],
        timed_returned: u64,
        count: u64,
    ) -> Self {
        let numbers = |queue: QueueName| -> Vec<i64> {
            batches
                .iter()
                .filter(|(name, _)| *name == queue)
                .flat_map(|(_, items)| items)
                .filter_map(|item| match item {
                    Item::Number(n) => Some(*n),
                    Item::Pair(..) => None,
                })
                .collect()
        };
        let priority_pairs = batches
            .iter()
            .filter(|(name, _)| *name == QueueName::PriorityPairs)
            .flat_map(|(_, items)| items)
            .filter(|item| matches!(item, Item::Pair(..)))
            .map(Item::label)
            .collect();
        QueueOutcome {
            fifo: numbers(QueueName::Fifo),
            lifo: numbers(QueueName::Lifo),
            priority: numbers(QueueName::Priority),
            priority_pairs,
            timed_returned,
            count,
        }
    }
}

impl Outcome for QueueOutcome {
    fn check(&self) -> Result<(), String> {
        // The notebook's printed values, written out rather than derived from the queues.
        let pairs: Vec<String> = (1..=4).map(|n| format!("Priority {n}")).collect();
        let checks: [(&str, Vec<String>, Vec<String>); 4] = [
            ("fifo", texts(&self.fifo), texts(&[0, 1, 2, 3, 4])),
            ("lifo", texts(&self.lifo), texts(&[4, 3, 2, 1, 0])),
            ("priority", texts(&self.priority), texts(&[1, 2, 3, 4])),
            ("priority-pairs", self.priority_pairs.clone(), pairs),
        ];
        for (name, got, expected) in checks {
            if got != expected {
                return Err(format!("{name} got {got:?}, expected {expected:?}"));
            }
        }
        if self.timed_returned != self.count {
            return Err(format!(
                "the timed pass got {} of {} items back",
                self.timed_returned, self.count
            ));
        }
        Ok(())
    }
}

fn texts(numbers: &[i64]) -> Vec<String> {
    numbers.iter().map(i64::to_string).collect()
}

/// `event`: the order of what `flag` and `ops` did, checked without the clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub seed: u64,
    /// `ops` draws emitted before `flag` set the event (must be 0).
    pub draws_before_set: usize,
    /// The draws are the start of the sequence `--seed` gives.
    pub draws_follow_seed: bool,
    /// 10 draws, give or take one (5 s set / 0.5 s per draw).
    pub draws_about_ten: bool,
    /// Every 13 was followed by `13!`, and `13!` came after nothing else.
    pub thirteens_announced: bool,
    /// `stopped` came after `clearing`, and at most the one draw in flight came after
    /// `cleared`: no draw started once the event was clear.
    pub stopped_within_one_tick: bool,
}

impl EventOutcome {
    pub fn from_events(events: &[Event], seed: u64) -> Self {
        let position = |worker: &str, what: &str| {
            events
                .iter()
                .position(|e| e.worker == worker && e.what == what)
        };
        let set_at = position(event::FLAG, "countdown begun").unwrap_or(usize::MAX);
        let clearing_at = position(event::FLAG, "clearing");
        let cleared_at = position(event::FLAG, "cleared");
        let stopped_at = position(event::OPS, "stopped");
        let ops_events: Vec<(usize, &Event)> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.worker == event::OPS)
            .collect();
        let draws: Vec<(usize, u32)> = ops_events
            .iter()
            .filter(|(_, e)| e.what == "drew")
            .filter_map(|(i, e)| Some((*i, e.detail.as_deref()?.parse().ok()?)))
            .collect();
        let numbers: Vec<u32> = draws.iter().map(|(_, n)| *n).collect();
        let thirteens_announced = ops_events.windows(2).all(|pair| {
            let (_, this) = pair[0];
            let (_, next) = pair[1];
            let lucky = this.what == "drew" && this.detail.as_deref() == Some("13");
            lucky == (next.what == "13!")
        }) && ops_events.first().is_none_or(|(_, e)| e.what != "13!");
        let stopped_within_one_tick = match (clearing_at, cleared_at, stopped_at) {
            (Some(clearing), Some(cleared), Some(stopped)) if clearing < stopped => {
                draws.iter().filter(|(i, _)| *i > cleared).count() <= 1
            }
            _ => false,
        };
        EventOutcome {
            seed,
            draws_before_set: draws.iter().filter(|(i, _)| *i < set_at).count(),
            draws_follow_seed: numbers == Draws::first(seed, numbers.len()),
            draws_about_ten: numbers.len().abs_diff(event::EXPECTED_DRAWS) <= event::DRAW_TOLERANCE,
            thirteens_announced,
            stopped_within_one_tick,
        }
    }
}

impl Outcome for EventOutcome {
    fn check(&self) -> Result<(), String> {
        let problems = [
            (
                self.draws_before_set == 0,
                "ops drew before the event was set",
            ),
            (
                self.draws_follow_seed,
                "the draws are not the seeded sequence",
            ),
            (
                self.draws_about_ten,
                "ops did not draw 10 ± 1 times while the event was set",
            ),
            (
                self.thirteens_announced,
                "a 13 was not announced, or `13!` came after another number",
            ),
            (
                self.stopped_within_one_tick,
                "ops did not stop within one draw of the clear",
            ),
        ];
        match problems.iter().find(|(ok, _)| !ok) {
            Some((_, problem)) => Err(problem.to_string()),
            None => Ok(()),
        }
    }
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names
}

fn sorted_workers_that(events: &[Event], what: &str) -> Vec<String> {
    sorted(
        events
            .iter()
            .filter(|e| e.what == what)
            .map(|e| e.worker.clone()),
    )
}

/// True when the last `sleeping` came before the first `finished`: all sleeps overlapped.
fn sleeps_overlapped(events: &[Event]) -> bool {
    let last_sleeping = events
        .iter()
        .filter(|e| e.what == "sleeping")
        .map(|e| e.t_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let first_finished = events
        .iter()
        .filter(|e| e.what == "finished")
        .map(|e| e.t_s)
        .fold(f64::INFINITY, f64::min);
    last_sleeping < first_finished
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
            expected: crate::workloads::primes_below_by_sieve(n),
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

/// `crash`: per fault, what the parent saw of the doomed worker and who survived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrashOutcome {
    /// What the backend's workers are: the expected survivors depend on it, and that is the
    /// point.
    pub kind: crate::domain::BackendKind,
    pub rounds: Vec<CrashRound>,
}

/// One fault in one worker of four.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrashRound {
    pub fault: crate::domain::CrashFault,
    pub doomed: String,
    /// How the parent saw the doomed worker end.
    pub seen: String,
    /// The other workers that finished their work, sorted.
    pub survivors: Vec<String>,
    /// The program that started the workers lived on to report.
    pub program_survived: bool,
}

impl CrashRound {
    /// What the contract expects: a panic is contained in both backends; `abort()` and
    /// SIGKILL end a whole process, which in `threads` is the whole program.
    pub fn expected(
        kind: &crate::domain::BackendKind,
        fault: crate::domain::CrashFault,
    ) -> (Vec<String>, bool, &'static str) {
        use crate::catalogue::crash;
        use crate::domain::{CrashFault, WorkerKind};
        let others: Vec<String> = (0..crash::WORKERS)
            .filter(|&i| i != crash::DOOMED)
            .map(crash::worker_name)
            .collect();
        // A panic is caught where the worker is joined: by `JoinHandle::join` for a thread,
        // as the exit code Rust gives a process that panics (101) for a process.
        let panic_seen = match kind.worker {
            WorkerKind::Thread => "panicked",
            WorkerKind::Process => "exited with code 101",
        };
        match fault {
            CrashFault::Panic => (others, true, panic_seen),
            CrashFault::Abort if kind.isolated => (others, true, "SIGABRT"),
            CrashFault::Kill if kind.isolated => (others, true, "SIGKILL"),
            CrashFault::Abort => (vec![], false, "SIGABRT"),
            CrashFault::Kill => (vec![], false, "SIGKILL"),
        }
    }
}

impl CrashRound {
    /// The round as the parent saw it: `joins` holds each worker's join, in start order.
    /// A worker that died other than the doomed one is not a crash to report but an error.
    pub fn from_joins(
        fault: crate::domain::CrashFault,
        joins: Vec<Result<(), crate::run::DemoError>>,
    ) -> Result<CrashRound, crate::run::DemoError> {
        use crate::catalogue::crash::{DOOMED, worker_name};
        let mut round = CrashRound {
            fault,
            doomed: worker_name(DOOMED),
            seen: String::new(),
            survivors: Vec::new(),
            program_survived: true,
        };
        for (index, join) in joins.into_iter().enumerate() {
            match join {
                Ok(()) => round.survivors.push(worker_name(index)),
                Err(crate::run::DemoError::WorkerDied { how, .. }) if index == DOOMED => {
                    round.seen = how
                }
                Err(error) => return Err(error),
            }
        }
        Ok(round)
    }
}

impl Outcome for CrashOutcome {
    fn check(&self) -> Result<(), String> {
        if self.rounds.is_empty() {
            return Err("no round ran".into());
        }
        for round in &self.rounds {
            let (survivors, program_survived, seen) = CrashRound::expected(&self.kind, round.fault);
            let fault = round.fault.id();
            if round.survivors != survivors {
                return Err(format!(
                    "{fault}: survivors {:?}, expected {survivors:?}",
                    round.survivors
                ));
            }
            if round.program_survived != program_survived {
                return Err(format!(
                    "{fault}: program survived: {}, expected {program_survived}",
                    round.program_survived
                ));
            }
            if !round.seen.contains(seen) {
                return Err(format!(
                    "{fault}: the parent saw {:?}, expected it to say {seen:?}",
                    round.seen
                ));
            }
        }
        Ok(())
    }
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

/// `channel`: every message arrived intact and in order, on every path measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelOutcome {
    /// (path, messages sent, messages received intact and in order)
    pub paths: Vec<(String, u64, u64)>,
}

impl Outcome for ChannelOutcome {
    fn check(&self) -> Result<(), String> {
        if self.paths.is_empty() {
            return Err("nothing was measured".into());
        }
        match self
            .paths
            .iter()
            .find(|(_, sent, intact)| sent != intact || *sent == 0)
        {
            Some((path, sent, intact)) => Err(format!(
                "{path}: {sent} sent, {intact} arrived intact and in order"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t_s: f64, worker: &str, what: &str) -> Event {
        Event {
            t_s,
            worker: worker.into(),
            what: what.into(),
            detail: None,
        }
    }

    #[test]
    fn start_checks_the_order() {
        let good = [
            event(0.0, "t1", "sleeping"),
            event(0.1, "main", "hello"),
            event(0.2, "main", "hello"),
            event(5.0, "t1", "finished"),
        ];
        assert_eq!(StartOutcome::from_events(&good).check(), Ok(()));
        let mut bad = good.clone();
        bad.swap(0, 1);
        assert!(StartOutcome::from_events(&bad).check().is_err());
    }

    #[test]
    fn join_sees_sequential_sleeps() {
        let mut events = Vec::new();
        for i in 0..5 {
            let name = format!("t{i}");
            events.push(event(i as f64, &name, "sleeping"));
            events.push(event(i as f64 + 0.5, &name, "finished"));
        }
        let outcome = JoinOutcome::from_events(&events);
        assert_eq!(outcome.finished.len(), 5);
        assert!(!outcome.overlapped);
        assert!(outcome.check().is_err());
    }

    #[test]
    fn run_hooks_checks_each_workers_order() {
        let mut events = Vec::new();
        for name in ["t1", "t2", "t3", "t4"] {
            events.push(event(0.0, name, "started"));
            events.push(event(0.1, name, "sleeping"));
        }
        for name in ["t1", "t2", "t3", "t4"] {
            events.push(event(1.0, name, "finished"));
            events.push(event(1.1, name, "done"));
        }
        assert_eq!(RunHooksOutcome::from_events(&events).check(), Ok(()));
        events.retain(|e| !(e.worker == "t3" && e.what == "done"));
        assert!(RunHooksOutcome::from_events(&events).check().is_err());
    }

    fn said(t_s: f64, worker: &str, what: &str, detail: &str) -> Event {
        Event {
            detail: Some(detail.into()),
            ..event(t_s, worker, what)
        }
    }

    #[test]
    fn lock_wants_zero_with_every_update_kept() {
        let all_kept = Tally {
            value: 0,
            updates: 40,
            lost_updates: 0,
        };
        let some_lost = Tally {
            value: -3,
            updates: 38,
            lost_updates: 2,
        };
        let outcome = LockOutcome {
            count: 10,
            locked: all_kept,
            unlocked: some_lost,
        };
        assert_eq!(outcome.check(), Ok(()));
        // A private copy of the counter in each worker: the parent's stays at 0, untouched.
        let untouched = Tally {
            value: 0,
            updates: 0,
            lost_updates: 40,
        };
        assert!(
            LockOutcome {
                locked: untouched,
                ..outcome.clone()
            }
            .check()
            .is_err()
        );
        let inconsistent = Tally {
            value: 9,
            ..some_lost
        };
        assert!(
            LockOutcome {
                unlocked: inconsistent,
                ..outcome
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn queue_wants_the_notebooks_sequences() {
        let batches: Vec<(QueueName, Vec<Item>)> = vec![
            (QueueName::Fifo, (0..5).map(Item::Number).collect()),
            (QueueName::Lifo, (0..5).rev().map(Item::Number).collect()),
            (QueueName::Priority, (1..5).map(Item::Number).collect()),
            (
                QueueName::PriorityPairs,
                (1..5)
                    .map(|n| Item::Pair(n, format!("Priority {n}")))
                    .collect(),
            ),
        ];
        assert_eq!(QueueOutcome::from_batches(&batches, 3, 3).check(), Ok(()));
        assert!(QueueOutcome::from_batches(&batches, 2, 3).check().is_err());
        let mut lifo_as_fifo = batches;
        lifo_as_fifo[1].1.reverse();
        assert!(
            QueueOutcome::from_batches(&lifo_as_fifo, 3, 3)
                .check()
                .is_err()
        );
    }

    fn event_run(seed: u64, draws: usize) -> Vec<Event> {
        let mut events = vec![
            said(0.0, "flag", "counting down", "3 s"),
            said(0.0, "ops", "waiting", "for the event"),
            said(3.0, "flag", "countdown begun", "set for 5 s"),
        ];
        for (k, number) in Draws::first(seed, draws).into_iter().enumerate() {
            events.push(said(
                3.5 + k as f64 * 0.5,
                "ops",
                "drew",
                &number.to_string(),
            ));
            if number == 13 {
                events.push(event(3.5 + k as f64 * 0.5, "ops", "13!"));
            }
        }
        let clear = 8.0;
        events.push(event(clear, "flag", "clearing"));
        events.push(event(clear, "flag", "cleared"));
        events.push(event(clear + 0.6, "ops", "stopped"));
        events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        events
    }

    #[test]
    fn event_checks_order_count_and_draws() {
        let seed = 7;
        assert_eq!(
            EventOutcome::from_events(&event_run(seed, 10), seed).check(),
            Ok(())
        );
        assert_eq!(
            EventOutcome::from_events(&event_run(seed, 11), seed).check(),
            Ok(())
        );
        assert!(
            EventOutcome::from_events(&event_run(seed, 13), seed)
                .check()
                .is_err()
        );
        assert!(
            EventOutcome::from_events(&event_run(seed, 10), seed + 1)
                .check()
                .is_err()
        );

        let mut early = event_run(seed, 10);
        let first_draw = early.iter().position(|e| e.what == "drew").unwrap();
        early[first_draw].t_s = 1.0;
        early.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        assert_eq!(EventOutcome::from_events(&early, seed).draws_before_set, 1);

        let mut never_stopped = event_run(seed, 10);
        never_stopped.retain(|e| e.what != "stopped");
        assert!(!EventOutcome::from_events(&never_stopped, seed).stopped_within_one_tick);

        // Two draws after `cleared`: ops started one although the event was clear.
        let mut kept_drawing = event_run(seed, 10);
        let cleared = kept_drawing
            .iter()
            .position(|e| e.what == "cleared")
            .unwrap();
        kept_drawing[cleared].t_s = 7.2;
        kept_drawing.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        assert!(!EventOutcome::from_events(&kept_drawing, seed).stopped_within_one_tick);

        let mut silent = event_run(seed, 10);
        silent.retain(|e| e.what != "13!");
        let has_thirteen = Draws::first(seed, 10).contains(&13);
        assert_eq!(
            EventOutcome::from_events(&silent, seed).thirteens_announced,
            !has_thirteen
        );
    }

    #[test]
    fn custom_init_expects_multiples_of_eight() {
        let expected = CustomInitOutcome::expected();
        assert_eq!(
            expected.values().copied().collect::<Vec<_>>(),
            (0..10).map(|k| 8 * k).collect::<Vec<_>>()
        );
        let mut wrong = expected.clone();
        wrong.insert(3, 17);
        assert!(CustomInitOutcome { values: wrong }.check().is_err());
    }

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
