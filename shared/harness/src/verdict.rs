//! The closing verdict: for each question of the contract's list (cost to start a worker, of
//! a message, of shared state, memory, CPU scaling, I/O, what a crash takes with it), which
//! backend wins in this run, by how much and how sure, and why. Everything but the questions
//! and the reasons comes from the run's figures.

use super::BackendSettings;
use super::stats::Interval;
use super::summary::{Contrast, FigureComparison, figure_samples};
use super::{CompareDocument, DemoComparison};
use contract::demos::crash::CrashOutcome;
use contract::domain::CrashFault;
use contract::domain::WorkerKind;
use contract::verdict::{DIMENSIONS, Dimension, SAME_PROGRAM_IN_PYTHON, VerdictFigure};
use serde::{Deserialize, Serialize};

/// One answered question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictLine {
    /// `cost to start a worker`.
    pub question: String,
    /// The demo that measured it.
    pub demo: String,
    /// What each backend measured: `threads 52.1 µs · processes 210 µs`.
    pub measured: String,
    /// The answer: who wins by how much with its interval, or "no significant difference".
    pub answer: String,
    /// The backend that wins against every other, when one does with the report's confidence.
    pub winner: Option<String>,
    /// The backends no other beats, when they are more than one but not all: the best is
    /// among them, and none of them is significantly better than another (`threads or tasks`).
    #[serde(default)]
    pub leaders: Vec<String>,
    /// Why the models differ here, from the contract.
    pub reason: String,
}

impl VerdictLine {
    /// The short answer: the winner, the leaders (`threads or tasks`), or "no significant
    /// difference".
    pub fn headline(&self) -> String {
        if let Some(winner) = &self.winner {
            return winner.clone();
        }
        match self.leaders.as_slice() {
            [] | [_] => "no significant difference".to_string(),
            [first @ .., last] => format!("{} or {last}", first.join(", ")),
        }
    }
}

/// The verdict of a comparison: one line per question whose demo ran and succeeded, and the
/// same program in Python when a Python backend ran.
pub fn verdict(document: &CompareDocument) -> Vec<VerdictLine> {
    let python: Vec<&BackendSettings> = document
        .settings
        .backends
        .iter()
        .filter(|b| b.runtime.get("language").is_some_and(|l| l == "Python"))
        .collect();
    // Task workers have reasons of their own: known by the kind, never by a name.
    let tasks_ran = document
        .settings
        .backends
        .iter()
        .any(|b| b.kind.worker == WorkerKind::Task);
    let mut lines: Vec<VerdictLine> = DIMENSIONS
        .iter()
        .filter_map(|dimension| {
            let comparison = document
                .demos
                .iter()
                .find(|d| d.id == dimension.demo.id())?;
            answer(dimension, comparison, tasks_ran)
        })
        .collect();
    if !python.is_empty() {
        lines.extend(python_answer(&python, document));
    }
    lines
}

/// The same program in Python: Python's threads against Python's processes when both ran
/// (what the GIL does to threads), otherwise every backend against the first.
fn python_answer(python: &[&BackendSettings], document: &CompareDocument) -> Option<VerdictLine> {
    let dimension = &SAME_PROGRAM_IN_PYTHON;
    let comparison = document
        .demos
        .iter()
        .find(|d| d.id == dimension.demo.id())?;
    let mut line = answer(dimension, comparison, false)?;
    let of = |worker: WorkerKind| python.iter().find(|b| b.kind.worker == worker);
    let (Some(threads), Some(processes)) = (of(WorkerKind::Thread), of(WorkerKind::Process)) else {
        return Some(line);
    };
    let VerdictFigure::Measured(key, _) = dimension.figure else {
        return Some(line);
    };
    let figure = comparison.summary.figures.iter().find(|f| f.key == key)?;
    // The report's confidence, as its other intervals have it.
    let confidence = figure
        .contrasts
        .iter()
        .find_map(|c| c.interval.map(|i| i.confidence))
        .unwrap_or(crate::stats::FAMILY_CONFIDENCE);
    let samples = |name: &str| figure_samples(dimension.demo, key, name, &comparison.runs);
    let contrast = Contrast {
        backend: processes.name.clone(),
        reference: threads.name.clone(),
        interval: Interval::between(
            &samples(&threads.name),
            &samples(&processes.name),
            confidence,
        ),
    };
    line.answer = figure.contrast_phrase(&contrast);
    line.winner = contrast.winner(figure.better).map(str::to_string);
    line.leaders = Vec::new();
    Some(line)
}

fn answer(
    dimension: &Dimension,
    comparison: &DemoComparison,
    tasks_ran: bool,
) -> Option<VerdictLine> {
    let line = |measured: String, answer: String, leaders: Vec<String>| VerdictLine {
        question: dimension.question.to_string(),
        demo: comparison.id.clone(),
        measured,
        answer,
        winner: match leaders.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        },
        leaders: if leaders.len() > 1 {
            leaders
        } else {
            Vec::new()
        },
        reason: dimension.reason_for(tasks_ran).to_string(),
    };
    let key = match dimension.figure {
        VerdictFigure::Measured(key, _) => key,
        VerdictFigure::PeakPss => "peak_pss_kib",
        VerdictFigure::CrashSurvivors => {
            let (measured, answer, leaders) = crash_answer(comparison)?;
            return Some(line(measured, answer, leaders));
        }
    };
    let figure = comparison.summary.figures.iter().find(|f| f.key == key)?;
    if figure.backends.len() < 2 {
        return None;
    }
    let samples = |name: &str| figure_samples(dimension.demo, key, name, &comparison.runs);
    let (answer, leaders) = figure_answer(figure, &samples);
    Some(line(figure.medians().join(" · "), answer, leaders))
}

/// The contrasts in words, and the leaders: the backends no other beats, when some are
/// beaten (one leader is the winner). The report contrasts every backend with the first; the
/// verdict also sets the others against each other (at the same confidence, counted in the
/// report's family), so that "threads better than processes, tasks even with threads" names
/// threads and tasks, not nobody.
fn figure_answer(
    figure: &FigureComparison,
    samples: &dyn Fn(&str) -> Vec<f64>,
) -> (String, Vec<String>) {
    let confidence = figure
        .contrasts
        .iter()
        .find_map(|c| c.interval.map(|i| i.confidence))
        .unwrap_or(crate::stats::FAMILY_CONFIDENCE);
    let names: Vec<&str> = figure.backends.iter().map(|b| b.backend.as_str()).collect();
    let mut contrasts = figure.contrasts.clone();
    for (i, reference) in names.iter().enumerate().skip(1) {
        for other in &names[i + 1..] {
            contrasts.push(Contrast {
                backend: other.to_string(),
                reference: reference.to_string(),
                interval: Interval::between(&samples(reference), &samples(other), confidence),
            });
        }
    }
    let phrases: Vec<String> = contrasts
        .iter()
        .map(|c| figure.contrast_phrase(c))
        .collect();
    let beaten: Vec<&str> = contrasts
        .iter()
        .filter_map(|c| {
            let winner = c.winner(figure.better)?;
            Some(if winner == c.backend {
                c.reference.as_str()
            } else {
                c.backend.as_str()
            })
        })
        .collect();
    let unbeaten: Vec<String> = names
        .iter()
        .filter(|name| !beaten.contains(name))
        .map(|name| name.to_string())
        .collect();
    // Every backend unbeaten: no difference; none unbeaten (intervals that go round in a
    // circle): no order to tell either.
    let leaders = if unbeaten.len() < names.len() {
        unbeaten
    } else {
        Vec::new()
    };
    (phrases.join("; "), leaders)
}

/// Who survived each fault, per backend, from the first successful run's outcome.
fn crash_answer(comparison: &DemoComparison) -> Option<(String, String, Vec<String>)> {
    let mut outcomes: Vec<(&str, CrashOutcome)> = Vec::new();
    for backend in &comparison.summary.backends {
        let outcome = comparison
            .runs
            .iter()
            .filter(|r| r.backend == backend.backend && r.succeeded())
            .find_map(|r| serde_json::from_value(r.report.as_ref()?.outcome.clone()).ok());
        if let Some(outcome) = outcome {
            outcomes.push((&backend.backend, outcome));
        }
    }
    if outcomes.len() < 2 {
        return None;
    }
    let fatal = |outcome: &CrashOutcome| -> (usize, usize, bool) {
        // Of the abort and kill rounds: the other workers that finished, of how many, and
        // whether the program lived on each time.
        let rounds: Vec<_> = outcome
            .rounds
            .iter()
            .filter(|r| r.fault != CrashFault::Panic)
            .collect();
        let others = contract::demos::crash::WORKERS - 1;
        (
            rounds.iter().map(|r| r.survivors.len()).sum(),
            rounds.len() * others,
            rounds.iter().all(|r| r.program_survived),
        )
    };
    let measured = outcomes
        .iter()
        .map(|(backend, outcome)| {
            let (survived, of, program) = fatal(outcome);
            let rounds = outcome
                .rounds
                .iter()
                .filter(|r| r.fault != CrashFault::Panic)
                .count();
            if program {
                format!(
                    "{backend}: after an abort or a kill {survived} of {of} other workers finished \
                     ({rounds} rounds)"
                )
            } else {
                format!(
                    "{backend}: an abort or a kill ended the whole program ({survived} of {of} \
                     other workers finished)"
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" · ");
    // A program that lived on beats one that died, whatever its workers finished before it
    // died (MPI tears a job down only after the others may have finished): then the most
    // other workers that finished.
    let standing = |outcome: &CrashOutcome| {
        let (survived, _, program) = fatal(outcome);
        (program, survived)
    };
    let best = outcomes
        .iter()
        .map(|(_, outcome)| standing(outcome))
        .max()
        .unwrap_or((false, 0));
    let best_backends: Vec<&str> = outcomes
        .iter()
        .filter(|(_, outcome)| standing(outcome) == best)
        .map(|(backend, _)| *backend)
        .collect();
    // With more than two backends, several may keep the others running (processes in Rust
    // and in Python): they are named together as the leaders.
    let leaders: Vec<String> = if best_backends.len() < outcomes.len() {
        best_backends.iter().map(|b| b.to_string()).collect()
    } else {
        Vec::new()
    };
    let answer = if best_backends.len() < outcomes.len() && best.0 {
        format!(
            "{}: a fatal fault in one worker leaves the others running",
            best_backends.join(", ")
        )
    } else if best_backends.len() < outcomes.len() {
        format!(
            "{}: a fatal fault ends the whole program in every backend; here the most other \
             workers finished before it did",
            best_backends.join(", ")
        )
    } else {
        "the same in every backend".to_string()
    };
    Some((measured, answer, leaders))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::testing::ok_run;
    use crate::summary::{Contender, DemoSummary};
    use crate::{CompareDocument, Settings};
    use contract::demos::DemoId;
    use contract::domain::{BackendKind, WorkerKind};
    use serde_json::json;

    const THREAD: BackendKind = BackendKind {
        worker: WorkerKind::Thread,
        isolated: false,
        start_method: None,
        executor: None,
    };
    const PROCESS: BackendKind = BackendKind {
        worker: WorkerKind::Process,
        isolated: true,
        start_method: None,
        executor: None,
    };

    /// A comparison of `demo` between threads and processes from their samples of `key`.
    fn compared(demo: DemoId, key: &str, threads: &[f64], processes: &[f64]) -> DemoComparison {
        compared_among(
            demo,
            key,
            &[
                ("threads", &THREAD, threads),
                ("processes", &PROCESS, processes),
            ],
        )
    }

    /// A comparison of `demo` between the backends given, in that order, each of its kind,
    /// from their samples of `key`.
    fn compared_among(
        demo: DemoId,
        key: &str,
        backends: &[(&str, &BackendKind, &[f64])],
    ) -> DemoComparison {
        let mut runs = Vec::new();
        for (backend, _, samples) in backends {
            for (i, value) in samples.iter().enumerate() {
                let measured = [(key, *value)];
                runs.push(ok_run(
                    backend,
                    i as u32,
                    demo.id(),
                    (0.1, 0.0),
                    &measured,
                    json!({}),
                ));
            }
        }
        let contenders: Vec<Contender> = backends
            .iter()
            .map(|(name, kind, _)| Contender {
                name,
                kind,
                supported: true,
            })
            .collect();
        DemoComparison {
            swept_at: None,
            id: demo.id().to_string(),
            summary: DemoSummary::of(demo, &contenders, &runs, 0.95),
            runs,
        }
    }

    const TASK: BackendKind = BackendKind {
        worker: WorkerKind::Task,
        isolated: false,
        start_method: None,
        executor: None,
    };

    const RANK: BackendKind = BackendKind {
        worker: WorkerKind::Rank,
        isolated: false,
        start_method: None,
        executor: None,
    };

    /// A Rust backend of this kind, as compare lists it.
    fn rust_backend(name: &str, kind: BackendKind) -> crate::BackendSettings {
        crate::BackendSettings {
            runtime: [("language".to_string(), "Rust".to_string())].into(),
            ..python_backend(name, kind)
        }
    }

    /// A Python backend of this kind, as compare lists it.
    fn python_backend(name: &str, kind: BackendKind) -> crate::BackendSettings {
        crate::BackendSettings {
            name: name.into(),
            command: Vec::new(),
            listed_as: name.into(),
            kind,
            runtime: [("language".to_string(), "Python".to_string())].into(),
            demos: vec!["cpu".into()],
            args: Vec::new(),
        }
    }

    fn document(demos: Vec<DemoComparison>) -> CompareDocument {
        let mut document = CompareDocument::new(Settings {
            runs: 3,
            scale: 0.1,
            timeout_s: 10.0,
            backend_args: Vec::new(),
            cores: 2,
            backends: Vec::new(),
        });
        document.demos = demos;
        document
    }

    #[test]
    fn the_verdict_names_a_winner_only_when_the_interval_excludes_no_difference() {
        let document = document(vec![
            // Starting a worker: processes ten times as costly, tightly measured.
            compared(
                DemoId::Spawn,
                "worker_start_join_one_core_us",
                &[20.0, 21.0, 19.0],
                &[200.0, 210.0, 190.0],
            ),
            // A locked update: the same within the noise.
            compared(
                DemoId::Lock,
                "ns_per_update_locked",
                &[0.8, 0.9, 0.7],
                &[0.9, 0.7, 0.8],
            ),
            // The speed-up: higher is better, processes win.
            compared(
                DemoId::Cpu,
                "speedup_2_workers",
                &[1.0, 1.01, 0.99],
                &[1.9, 1.91, 1.89],
            ),
        ]);
        let lines = verdict(&document);
        let questions: Vec<&str> = lines.iter().map(|l| l.question.as_str()).collect();
        assert_eq!(
            questions,
            [
                "cost to start a worker (start and join, on one core)",
                "cost of shared state (a locked update)",
                "CPU-bound work on two workers"
            ],
            "in the contract's order, only for the demos that ran"
        );
        assert_eq!(lines[0].winner.as_deref(), Some("threads"));
        assert_eq!(lines[0].measured, "threads 20.0 µs · processes 200 µs");
        assert!(
            lines[0].answer.starts_with("processes 10.0× threads ("),
            "{}",
            lines[0].answer
        );
        assert!(
            lines[0].answer.ends_with("threads better"),
            "{}",
            lines[0].answer
        );
        assert_eq!(lines[1].winner, None);
        assert!(
            lines[1].answer.ends_with("no significant difference"),
            "{}",
            lines[1].answer
        );
        assert_eq!(lines[2].winner.as_deref(), Some("processes"));
        assert!(lines[2].reason.contains("no global lock"));
    }

    #[test]
    fn a_python_backend_adds_the_same_program_in_python() {
        let cpu = compared(
            DemoId::Cpu,
            "speedup_2_workers",
            &[1.9, 1.91, 1.89],
            &[1.0, 1.01, 0.99],
        );
        let mut document = document(vec![cpu]);
        assert_eq!(
            verdict(&document).len(),
            1,
            "no Python backend: no Python line"
        );
        document
            .settings
            .backends
            .push(python_backend("python-threads", THREAD));
        let lines = verdict(&document);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1].question,
            "the same program in Python (CPU-bound work on two workers)"
        );
        assert!(
            lines[1].reason.contains("global interpreter lock"),
            "{lines:?}"
        );
        // One Python backend: every backend against the first.
        assert_eq!(lines[1].winner.as_deref(), Some("threads"));
    }

    #[test]
    fn the_python_line_sets_python_threads_against_python_processes() {
        let comparison = compared_among(
            DemoId::Cpu,
            "speedup_2_workers",
            &[
                ("threads", &THREAD, &[1.9, 1.5, 1.2]),
                ("python-threads", &THREAD, &[0.93, 0.94, 0.92]),
                ("python-processes", &PROCESS, &[1.63, 1.6, 1.66]),
            ],
        );
        let mut document = document(vec![comparison]);
        for (name, kind) in [("python-threads", THREAD), ("python-processes", PROCESS)] {
            document.settings.backends.push(python_backend(name, kind));
        }
        let lines = verdict(&document);
        let python = lines.last().unwrap();
        assert!(python.question.starts_with("the same program in Python"));
        assert_eq!(
            python.winner.as_deref(),
            Some("python-processes"),
            "{python:?}"
        );
        assert!(
            python
                .answer
                .starts_with("python-processes 1.75× python-threads ("),
            "{python:?}"
        );
        assert!(
            python.measured.contains("python-threads 0.930×"),
            "{python:?}"
        );
    }

    #[test]
    fn with_task_workers_the_start_and_io_lines_set_three_backends_side_by_side() {
        let backends: [(&str, &BackendKind); 3] = [
            ("threads", &THREAD),
            ("processes", &PROCESS),
            ("tasks", &TASK),
        ];
        let among = |demo: DemoId, key: &str, samples: [&[f64]; 3]| {
            let backends: Vec<(&str, &BackendKind, &[f64])> = backends
                .iter()
                .zip(samples)
                .map(|((name, kind), samples)| (*name, *kind, samples))
                .collect();
            compared_among(demo, key, &backends)
        };
        let mut document = document(vec![
            among(
                DemoId::Spawn,
                "worker_start_join_one_core_us",
                [
                    &[20.0, 21.0, 19.0],
                    &[200.0, 210.0, 190.0],
                    &[2.0, 2.1, 1.9],
                ],
            ),
            among(
                DemoId::Download,
                "concurrent_wall_s",
                [&[0.3, 0.31, 0.29], &[0.3, 0.29, 0.31], &[0.3, 0.3, 0.31]],
            ),
        ]);
        let without_tasks = verdict(&document);
        for (name, kind) in backends {
            document
                .settings
                .backends
                .push(rust_backend(name, kind.clone()));
        }
        let lines = verdict(&document);
        let start = &lines[0];
        assert_eq!(
            start.question,
            "cost to start a worker (start and join, on one core)"
        );
        assert_eq!(start.winner.as_deref(), Some("tasks"), "{start:?}");
        assert_eq!(
            start.measured,
            "threads 20.0 µs · processes 200 µs · tasks 2.00 µs"
        );
        assert!(
            start.answer.contains("processes 10.0× threads (")
                && start.answer.contains("tasks 0.100× threads ("),
            "{start:?}"
        );
        assert!(start.reason.contains("no stack"), "{start:?}");
        let io = &lines[1];
        assert_eq!(io.question, "I/O-bound work (downloads)");
        assert_eq!(io.winner, None, "{io:?}");
        assert!(
            io.reason.contains("one thread waits for many sockets"),
            "{io:?}"
        );
        // The reasons speak of tasks only when task workers ran: by their kind.
        assert!(
            !without_tasks[0].reason.contains("task"),
            "{without_tasks:?}"
        );
        assert!(
            !without_tasks[1].reason.contains("task"),
            "{without_tasks:?}"
        );
    }

    #[test]
    fn with_three_backends_the_ones_no_other_beats_lead_together() {
        let backends: [(&str, &BackendKind, &[f64]); 3] = [
            ("threads", &THREAD, &[3.5, 3.6, 3.4, 3.55, 3.45]),
            ("processes", &PROCESS, &[4.6, 4.7, 4.8, 4.65, 4.75]),
            ("tasks", &TASK, &[3.3, 3.9, 3.6, 3.2, 4.0]),
        ];
        let lines = verdict(&document(vec![compared_among(
            DemoId::Spawn,
            "worker_start_join_one_core_us",
            &backends,
        )]));
        let memory = &lines[0];
        assert_eq!(
            memory.question,
            "cost to start a worker (start and join, on one core)"
        );
        // threads beat processes; tasks are even with threads: no one winner, but processes
        // are out, and the headline says so instead of "no significant difference".
        assert_eq!(memory.winner, None, "{memory:?}");
        assert_eq!(memory.leaders, ["threads", "tasks"], "{memory:?}");
        assert_eq!(memory.headline(), "threads or tasks");
        // The pair that leaves the first backend out is in the answer too.
        assert!(
            memory.answer.contains("tasks 0.") && memory.answer.contains("× processes ("),
            "{memory:?}"
        );

        // Tasks clearly ahead of both: the one winner, from the pair without threads too.
        let backends: [(&str, &BackendKind, &[f64]); 3] = [
            ("threads", &THREAD, &[3.5, 3.6, 3.4]),
            ("processes", &PROCESS, &[3.5, 3.4, 3.6]),
            ("tasks", &TASK, &[1.0, 1.1, 0.9]),
        ];
        let lines = verdict(&document(vec![compared_among(
            DemoId::Spawn,
            "worker_start_join_one_core_us",
            &backends,
        )]));
        let memory = &lines[0];
        assert_eq!(memory.winner.as_deref(), Some("tasks"), "{memory:?}");
        assert!(memory.leaders.is_empty());
        assert_eq!(memory.headline(), "tasks");

        // Everyone even: no leaders, no winner.
        let backends: [(&str, &BackendKind, &[f64]); 3] = [
            ("threads", &THREAD, &[3.5, 3.6, 3.4]),
            ("processes", &PROCESS, &[3.5, 3.4, 3.6]),
            ("tasks", &TASK, &[3.6, 3.5, 3.4]),
        ];
        let lines = verdict(&document(vec![compared_among(
            DemoId::Spawn,
            "worker_start_join_one_core_us",
            &backends,
        )]));
        let memory = &lines[0];
        assert_eq!((memory.winner.as_deref(), memory.leaders.len()), (None, 0));
        assert_eq!(memory.headline(), "no significant difference");
    }

    #[test]
    fn a_crash_verdict_counts_who_finished_after_a_fatal_fault() {
        let round = |fault: &str, survivors: &[&str], program_survived: bool| {
            json!({"fault": fault, "doomed": "t2", "seen": "x", "survivors": survivors,
                   "program_survived": program_survived})
        };
        let all = ["t1", "t3", "t4"];
        let threads = json!({"worker": "thread", "isolated": false, "rounds": [
            round("panic", &all, true), round("abort", &[], false), round("kill", &[], false)]});
        let processes = json!({"worker": "process", "isolated": true, "rounds": [
            round("panic", &all, true), round("abort", &all, true), round("kill", &all, true)]});
        let runs = vec![
            ok_run("threads", 0, "crash", (0.1, 0.1), &[], threads),
            ok_run("processes", 0, "crash", (0.3, 0.1), &[], processes),
        ];
        let contenders = [
            Contender {
                name: "threads",
                kind: &THREAD,
                supported: true,
            },
            Contender {
                name: "processes",
                kind: &PROCESS,
                supported: true,
            },
        ];
        let comparison = DemoComparison {
            swept_at: None,
            id: "crash".into(),
            summary: DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95),
            runs,
        };
        let lines = verdict(&document(vec![comparison]));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].winner.as_deref(), Some("processes"));
        assert_eq!(
            lines[0].measured,
            "threads: an abort or a kill ended the whole program (0 of 6 other workers finished) \
             · processes: after an abort or a kill 6 of 6 other workers finished (2 rounds)"
        );
    }

    #[test]
    fn a_crash_verdict_names_every_backend_that_keeps_the_others_running() {
        let round = |fault: &str, survivors: &[&str], program_survived: bool| {
            json!({"fault": fault, "doomed": "t2", "seen": "x", "survivors": survivors,
                   "program_survived": program_survived})
        };
        let all = ["t1", "t3", "t4"];
        let whole_program = |worker: &str| {
            json!({"worker": worker, "isolated": false, "rounds": [
                round("panic", &all, true), round("abort", &[], false), round("kill", &[], false)]})
        };
        let alone = json!({"worker": "process", "isolated": true, "rounds": [
            round("panic", &all, true), round("abort", &all, true), round("kill", &all, true)]});
        // MPI ends the whole job, but only after the other ranks may have finished.
        let finished_then_ended = json!({"worker": "rank", "isolated": false, "rounds": [
            round("panic", &all, true), round("abort", &all, false), round("kill", &all, false)]});
        let backends = [
            ("threads", &THREAD, whole_program("thread")),
            ("processes", &PROCESS, alone.clone()),
            ("tasks", &TASK, whole_program("task")),
            ("spare", &PROCESS, alone),
            ("cluster", &RANK, finished_then_ended),
        ];
        let runs: Vec<_> = (backends.iter())
            .map(|(name, _, outcome)| ok_run(name, 0, "crash", (0.1, 0.1), &[], outcome.clone()))
            .collect();
        let contenders: Vec<Contender> = (backends.iter())
            .map(|(name, kind, _)| Contender {
                name,
                kind,
                supported: true,
            })
            .collect();
        let comparison = DemoComparison {
            swept_at: None,
            id: "crash".into(),
            summary: DemoSummary::of(DemoId::Crash, &contenders, &runs, 0.95),
            runs,
        };
        let lines = verdict(&document(vec![comparison]));
        assert_eq!(
            lines[0].winner, None,
            "two backends share the best: {lines:?}"
        );
        assert_eq!(
            lines[0].answer,
            "processes, spare: a fatal fault in one worker leaves the others running"
        );
    }
}
