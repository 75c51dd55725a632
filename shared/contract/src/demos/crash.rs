//! `crash`: four sleepers, one of which dies.

use super::prelude::*;
use crate::job::Job;
use std::time::Duration;

/// The catalogue's row of `crash`.
pub const ROW: Row = Row {
    id: "crash",
    section: "beyond",
    description: "one of four workers panics, aborts or is killed: who survives?",
    params: &[
        Param { name: "workers", default: "4" },
        Param { name: "fault", default: "panic, abort, kill in turn" },
        Param { name: "sleep", default: "1 s" },
    ],
    ideal_wall_s: SLEEP_S,
    default_count: None,
    outcome_depends_on_kind: true,
    headlines: &[],
    check: check_json::<CrashOutcome>,
    comparable_outcome,
    comparable_event,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["scale"];

/// An event as two correct runs must agree on it. A round whose fault ends the whole program
/// (abort or kill among threads) ends it as soon as the doomed worker dies: whether the
/// workers started after it had begun to sleep by then depends on the interleaving, so their
/// `sleeping` is left out. Their `finished`, and every other event, are compared.
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let started_after_the_doomed = (DOOMED + 1..WORKERS).any(|i| event.worker == worker_name(i));
    (!(started_after_the_doomed && event.what == "sleeping")).then(|| event.key())
}

/// The outcome as two correct runs must agree on it: the survivors of a round that ended the
/// whole program are left out. Among threads there are none; among MPI ranks they are the ones
/// whose work ended before `mpirun`'s teardown reached them, which depends on the timing.
fn comparable_outcome(outcome: &serde_json::Value) -> serde_json::Value {
    let mut outcome = outcome.clone();
    if let Some(rounds) = outcome.get_mut("rounds").and_then(|r| r.as_array_mut()) {
        for round in rounds {
            if round.get("program_survived") == Some(&serde_json::Value::Bool(false))
                && let Some(round) = round.as_object_mut()
            {
                round.remove("survivors");
            }
        }
    }
    outcome
}

pub const WORKERS: usize = 4;
/// The doomed worker: `t2`.
pub const DOOMED: usize = 1;
pub const SLEEP_S: f64 = 1.0;

/// Worker names `t1`…`t4`.
pub fn worker_name(index: usize) -> String {
    format!("t{}", index + 1)
}

/// `crash`: per fault, what the parent saw of the doomed worker and who survived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrashOutcome {
    /// What the backend's workers are: the expected survivors depend on it, and that is the
    /// point.
    pub worker: crate::domain::WorkerKind,
    /// A worker's abort or kill leaves the others running.
    pub isolated: bool,
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
        worker: crate::domain::WorkerKind,
        isolated: bool,
        fault: crate::domain::CrashFault,
    ) -> (Vec<String>, bool, &'static str) {
        use crate::domain::{CrashFault, WorkerKind};
        let others: Vec<String> = (0..WORKERS)
            .filter(|&i| i != DOOMED)
            .map(worker_name)
            .collect();
        // A panic is caught where the worker is joined: by `JoinHandle::join` for a thread,
        // by awaiting its `JoinHandle` for a task, as the exit code Rust gives a process that panics (101) for a process.
        let panic_seen = match worker {
            WorkerKind::Thread | WorkerKind::Task => "panicked",
            WorkerKind::Process => "exited with code 101",
            // A rank catches its own panic and reports it to rank 0 in a message.
            WorkerKind::Rank => "panicked",
        };
        match fault {
            CrashFault::Panic => (others, true, panic_seen),
            CrashFault::Abort if isolated => (others, true, "SIGABRT"),
            CrashFault::Kill if isolated => (others, true, "SIGKILL"),
            CrashFault::Abort => (vec![], false, "SIGABRT"),
            CrashFault::Kill => (vec![], false, "SIGKILL"),
        }
    }
}

impl CrashRound {
    /// What the main flow says once the round is over (`main survivors …`): the workers that
    /// finished, or, when the fault took the whole program, that it did, and every thread in
    /// it.
    pub fn survivors_said(&self) -> String {
        use crate::domain::CrashFault;
        if self.program_survived {
            return self.survivors.join(" ");
        }
        let how = match self.fault {
            CrashFault::Panic => "a panic",
            CrashFault::Abort => "SIGABRT",
            CrashFault::Kill => "SIGKILL",
        };
        format!("none: the whole program died of {how}: every thread with it")
    }
}

impl CrashOutcome {
    /// The rounds as a backend of `kind` saw them.
    pub fn new(kind: &crate::domain::BackendKind, rounds: Vec<CrashRound>) -> Self {
        CrashOutcome {
            worker: kind.worker,
            isolated: kind.isolated,
            rounds,
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
        use {DOOMED, worker_name};
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
            let (survivors, program_survived, seen) = CrashRound::expected(self.worker, self.isolated, round.fault);
            let fault = round.fault.id();
            // A rank's abort or kill ends the job once `mpirun` notices it and kills the other
            // ranks: a rank whose work ended before that survived it (none, for threads).
            let ranks_torn_down = self.worker == crate::domain::WorkerKind::Rank
                && !program_survived
                && round.survivors.iter().all(|s| s != &round.doomed)
                && round.survivors.windows(2).all(|w| w[0] < w[1])
                && round.survivors.iter().all(|s| {
                    CrashRound::expected(self.worker, true, crate::domain::CrashFault::Panic)
                        .0
                        .contains(s)
                });
            if round.survivors != survivors && !ranks_torn_down {
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

/// The `crash` demo's worker: like [`sleeper`](crate::workloads::sleeper), except that the doomed one dies as `fault`
/// says right after it starts sleeping.
pub fn crash_sleeper(out: &dyn EventSink, seconds: f64, doomed: Option<crate::domain::CrashFault>) {
    out.emit(
        "sleeping",
        Some(format!("for {} s", format_seconds(seconds))),
    );
    if let Some(fault) = doomed {
        out.emit("dying", Some(format!("by {}", fault.id())));
        die(fault);
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    out.emit("finished", None);
}

/// Ends the calling worker as `fault` says. What else ends with it is the lesson: a panic
/// unwinds one thread; `abort()` and SIGKILL end the whole process the worker is in.
pub fn die(fault: crate::domain::CrashFault) -> ! {
    use crate::domain::CrashFault;
    match fault {
        CrashFault::Panic => panic!("the doomed worker panics"),
        CrashFault::Abort => {
            // No core file: the demo must not leave one in the user's folder.
            let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
            std::process::abort()
        }
        CrashFault::Kill => {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
            unreachable!("SIGKILL cannot be caught")
        }
    }
}

/// A sleeper that, if doomed, dies by its fault after its first event, as a job.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct CrashSleeper {
    pub seconds: f64,
    pub doomed: Option<crate::domain::CrashFault>,
}

impl Job for CrashSleeper {
    type Output = ();

    fn run(self, out: &dyn EventSink) {
        crash_sleeper(out, self.seconds, self.doomed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CrashFault, WorkerKind};

    #[test]
    fn only_the_sleeping_of_the_workers_started_after_the_doomed_one_is_left_out() {
        use crate::outcome::testing::{event, said};
        for worker in ["t3", "t4"] {
            assert_eq!(comparable_event(&said(0.1, worker, "sleeping", "for 1 s")), None);
            let finished = event(1.1, worker, "finished");
            assert_eq!(comparable_event(&finished), Some(finished.key()));
        }
        for kept in [
            said(0.0, "t1", "sleeping", "for 1 s"),
            said(0.0, "t2", "sleeping", "for 1 s"),
            said(0.0, "t2", "dying", "by abort"),
            said(0.0, MAIN, "survivors", "t1 t3 t4"),
        ] {
            assert_eq!(comparable_event(&kept), Some(kept.key()));
        }
    }
    use crate::run::DemoError;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn what_survives_each_fault_in_each_kind_of_worker() {
        let others = names(&["t1", "t3", "t4"]);
        for (worker, isolated, fault, expected) in [
            (
                WorkerKind::Thread,
                false,
                CrashFault::Panic,
                (others.clone(), true, "panicked"),
            ),
            (
                WorkerKind::Thread,
                false,
                CrashFault::Abort,
                (vec![], false, "SIGABRT"),
            ),
            (
                WorkerKind::Thread,
                false,
                CrashFault::Kill,
                (vec![], false, "SIGKILL"),
            ),
            (
                WorkerKind::Process,
                true,
                CrashFault::Panic,
                (others.clone(), true, "exited with code 101"),
            ),
            (
                WorkerKind::Process,
                true,
                CrashFault::Abort,
                (others.clone(), true, "SIGABRT"),
            ),
            (
                WorkerKind::Process,
                true,
                CrashFault::Kill,
                (others.clone(), true, "SIGKILL"),
            ),
            (
                WorkerKind::Rank,
                false,
                CrashFault::Panic,
                (others.clone(), true, "panicked"),
            ),
            (
                WorkerKind::Rank,
                false,
                CrashFault::Abort,
                (vec![], false, "SIGABRT"),
            ),
        ] {
            assert_eq!(
                CrashRound::expected(worker, isolated, fault),
                expected,
                "{worker:?} {fault:?}"
            );
        }
        assert_eq!(worker_name(DOOMED), "t2");
    }

    fn died(worker: &str, how: &str) -> Result<(), DemoError> {
        Err(DemoError::WorkerDied {
            worker: worker.into(),
            how: how.into(),
        })
    }

    #[test]
    fn a_round_is_what_the_joins_saw() {
        let joins = vec![
            Ok(()),
            died("t2", "was killed by signal SIGKILL"),
            Ok(()),
            Ok(()),
        ];
        let round = CrashRound::from_joins(CrashFault::Kill, joins).unwrap();
        assert_eq!(
            round,
            CrashRound {
                fault: CrashFault::Kill,
                doomed: "t2".into(),
                seen: "was killed by signal SIGKILL".into(),
                survivors: names(&["t1", "t3", "t4"]),
                program_survived: true,
            }
        );
        // Another worker than the doomed one died: that is an error, not the round's crash.
        let joins = vec![
            died("t1", "exited with code 3"),
            died("t2", "panicked"),
            Ok(()),
            Ok(()),
        ];
        let error = CrashRound::from_joins(CrashFault::Panic, joins).unwrap_err();
        assert_eq!(error.to_string(), "t1 exited with code 3");
    }

    #[test]
    fn each_round_must_be_what_the_kind_allows() {
        let round = |fault, seen: &str, survivors: &[&str], program_survived| CrashRound {
            fault,
            doomed: "t2".into(),
            seen: seen.into(),
            survivors: names(survivors),
            program_survived,
        };
        let threads = CrashOutcome {
            worker: WorkerKind::Thread,
            isolated: false,
            rounds: vec![
                round(
                    CrashFault::Panic,
                    "panicked: the doomed worker panics",
                    &["t1", "t3", "t4"],
                    true,
                ),
                round(
                    CrashFault::Kill,
                    "the whole program was killed by signal SIGKILL",
                    &[],
                    false,
                ),
            ],
        };
        assert_eq!(threads.check(), Ok(()));
        let mut survivors = threads.clone();
        survivors.rounds[1].survivors = names(&["t1"]);
        assert!(survivors.check().is_err());
        let mut lived = threads.clone();
        lived.rounds[1].program_survived = true;
        assert_eq!(
            lived.check(),
            Err("kill: program survived: true, expected false".into())
        );
        let mut seen = threads.clone();
        seen.rounds[0].seen = "exited with code 101".into();
        assert!(seen.check().is_err());
        let mut ranks = CrashOutcome {
            worker: WorkerKind::Rank,
            ..threads.clone()
        };
        ranks.rounds[1].seen = "mpirun ended the whole job: a rank was killed by signal SIGKILL".into();
        for finished in [&[][..], &["t1"], &["t1", "t3", "t4"]] {
            ranks.rounds[1].survivors = names(finished);
            assert_eq!(ranks.check(), Ok(()), "{finished:?}");
        }
        for impossible in [&["t2"][..], &["t3", "t1"], &["t5"]] {
            ranks.rounds[1].survivors = names(impossible);
            assert!(ranks.check().is_err(), "{impossible:?}");
        }
        let some = comparable_outcome(&serde_json::to_value(&ranks).unwrap());
        ranks.rounds[1].survivors = vec![];
        assert_eq!(comparable_outcome(&serde_json::to_value(&ranks).unwrap()), some);
        let none = CrashOutcome {
            rounds: vec![],
            ..threads
        };
        assert_eq!(none.check(), Err("no round ran".into()));
    }
}
