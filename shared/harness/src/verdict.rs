//! The closing verdict: for each question of the contract's list (cost to start a worker, of
//! a message, of shared state, memory, CPU scaling, I/O, what a crash takes with it), which
//! backend wins in this run, by how much and how sure, and why. Everything but the questions
//! and the reasons comes from the run's figures.

use super::summary::FigureComparison;
use super::{CompareDocument, DemoComparison};
use contract::demos::crash::CrashOutcome;
use contract::domain::CrashFault;
use contract::verdict::{DIMENSIONS, Dimension, VerdictFigure};
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
    /// Why the models differ here, from the contract.
    pub reason: String,
}

/// The verdict of a comparison: one line per question whose demo ran and succeeded.
pub fn verdict(document: &CompareDocument) -> Vec<VerdictLine> {
    DIMENSIONS
        .iter()
        .filter_map(|dimension| {
            let comparison = document
                .demos
                .iter()
                .find(|d| d.id == dimension.demo.id())?;
            answer(dimension, comparison)
        })
        .collect()
}

fn answer(dimension: &Dimension, comparison: &DemoComparison) -> Option<VerdictLine> {
    let line = |measured: String, answer: String, winner: Option<String>| VerdictLine {
        question: dimension.question.to_string(),
        demo: comparison.id.clone(),
        measured,
        answer,
        winner,
        reason: dimension.reason.to_string(),
    };
    let key = match dimension.figure {
        VerdictFigure::Measured(key, _) => key,
        VerdictFigure::PeakPss => "peak_pss_kib",
        VerdictFigure::CrashSurvivors => {
            let (measured, answer, winner) = crash_answer(comparison)?;
            return Some(line(measured, answer, winner));
        }
    };
    let figure = comparison.summary.figures.iter().find(|f| f.key == key)?;
    if figure.backends.len() < 2 {
        return None;
    }
    let (answer, winner) = figure_answer(figure);
    Some(line(measured(figure), answer, winner))
}

/// `threads 52.1 µs · processes 210 µs` (medians).
fn measured(figure: &FigureComparison) -> String {
    figure
        .backends
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b.backend,
                contract::units::show(&figure.key, b.summary.median)
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The contrasts in words, and the backend that beats every other (when one does).
fn figure_answer(figure: &FigureComparison) -> (String, Option<String>) {
    let phrases: Vec<String> = figure
        .contrasts
        .iter()
        .map(|c| figure.contrast_phrase(c))
        .collect();
    let reference = figure.backends.first().map(|b| b.backend.clone());
    let winners: Vec<Option<&str>> = figure
        .contrasts
        .iter()
        .map(|c| c.winner(figure.better))
        .collect();
    // The reference wins when it beats every other; another backend wins when it beats the
    // reference and is the only one that does.
    let winner = if !winners.is_empty() && winners.iter().all(|w| *w == reference.as_deref()) {
        reference
    } else {
        let others: Vec<&str> = winners
            .iter()
            .flatten()
            .copied()
            .filter(|w| Some(*w) != reference.as_deref())
            .collect();
        match others.as_slice() {
            [only] => Some(only.to_string()),
            _ => None,
        }
    };
    (phrases.join("; "), winner)
}

/// Who survived each fault, per backend, from the first successful run's outcome.
fn crash_answer(comparison: &DemoComparison) -> Option<(String, String, Option<String>)> {
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
    let best = outcomes
        .iter()
        .map(|(_, outcome)| fatal(outcome).0)
        .max()
        .unwrap_or(0);
    let best_backends: Vec<&str> = outcomes
        .iter()
        .filter(|(_, outcome)| fatal(outcome).0 == best)
        .map(|(backend, _)| *backend)
        .collect();
    let winner = (best_backends.len() < outcomes.len() && best_backends.len() == 1)
        .then(|| best_backends[0].to_string());
    let answer = match &winner {
        Some(winner) => format!("{winner}: a fatal fault in one worker leaves the others running"),
        None => "the same in every backend".to_string(),
    };
    Some((measured, answer, winner))
}
