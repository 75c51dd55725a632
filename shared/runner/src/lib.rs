//! The one runner both binaries call: parse the command line, run each demo, check, report.

pub mod cli;

use crate::cli::Cli;
use clap::Parser;
use contract::demos::DemoId;
use contract::domain::{BackendKind, WorkerKind};
use contract::interrupt;
use contract::outcome::Outcome;
use contract::report::{Listing, RunDocument, say, verdict_line};
use contract::settings::{EXIT_BAD_INPUT, EXIT_INTERRUPTED};
use contract::trace::Echo;
use contract::{DemoError, DemoRun};
use std::process::ExitCode;
use std::time::Instant;

/// A way of making workers: a backend binary's one type, whose demos live in its
/// `src/demos/`, one file per demo, generated into a module by [`backend_demos!`].
pub trait Backend {
    /// `threads` or `processes`.
    const NAME: &'static str;

    /// What a worker is.
    const WORKER: WorkerKind;

    /// A worker's abort or kill leaves the other workers running.
    const ISOLATED: bool;

    /// True for a backend with more than one way to start a worker (`--start`).
    const HAS_START_METHODS: bool = false;

    /// Called once before any demo runs, after Ctrl-C and SIGTERM have been taken over.
    fn prepare() {}

    /// Runs one demo: the `run` of its file in `src/demos/` (see [`backend_demos!`]).
    fn run_demo(demo: DemoId, run: &DemoRun) -> Result<Checked, DemoError>;
}

/// A demo's outcome as JSON, with the contract's check of it.
pub type Checked = (serde_json::Value, Result<(), String>);

/// Generates a backend's `demos` module from the contract's list of demos: one module per
/// demo, in `src/demos/<module>.rs` with `pub fn run(run: &DemoRun) -> Result<Outcome,
/// DemoError>`, and `run`, which runs a demo by its id and checks its outcome. Use it as
/// `contract::for_each_demo!(runner::backend_demos);`: a backend that lacks a demo's file
/// does not compile.
#[macro_export]
macro_rules! backend_demos {
    ($($module:ident => $variant:ident,)*) => {
        $(pub mod $module;)*

        /// Runs `demo` on this backend: its outcome as JSON, with the contract's check of it.
        pub fn run(
            demo: ::contract::DemoId,
            run: &::contract::DemoRun,
        ) -> Result<$crate::Checked, ::contract::DemoError> {
            match demo {
                $(::contract::DemoId::$variant => Ok($crate::checked($module::run(run)?)),)*
            }
        }
    };
}

/// The backend's kind as its JSON declares it, with the start method of this run.
fn kind_of<B: Backend>(cli: &Cli) -> BackendKind {
    BackendKind {
        worker: B::WORKER,
        isolated: B::ISOLATED,
        start_method: B::HAS_START_METHODS.then(|| cli.start.unwrap_or_default().id().to_string()),
    }
}

/// The language and runtime of a Rust backend.
fn runtime() -> std::collections::BTreeMap<String, String> {
    [("language".to_string(), "Rust".to_string())].into()
}

/// Serialises an outcome and runs the contract's check of it.
pub fn checked<O: Outcome>(outcome: O) -> Checked {
    let value = serde_json::to_value(&outcome).expect("outcomes are plain data");
    (value, outcome.check())
}

/// The whole program of a backend binary: `fn main() -> ExitCode { runner::main::<Backend>() }`.
///
/// Exit codes: 0 when every outcome checks, 1 when one does not, 2 for bad input,
/// 130 when interrupted.
pub fn main<B: Backend>() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => return bad_input::<B>(&cli::one_line(&error)),
    };
    if let Err(problem) = cli.validate() {
        return bad_input::<B>(&format!("error: {problem}"));
    }
    if cli.start.is_some() && !B::HAS_START_METHODS {
        return bad_input::<B>(
            "error: --start is an option of processes: a thread has one way to start",
        );
    }
    if cli.list && cli.json {
        let listing = Listing {
            backend: B::NAME.to_string(),
            kind: kind_of::<B>(&cli),
            runtime: runtime(),
            demos: DemoId::ALL
                .iter()
                .map(|demo| demo.id().to_string())
                .collect(),
        };
        say(format!(
            "{}\n",
            serde_json::to_string_pretty(&listing).expect("a listing is plain data")
        ));
        return ExitCode::SUCCESS;
    }
    if cli.list {
        say(DemoId::listing());
        return ExitCode::SUCCESS;
    }
    // Ctrl-C and SIGTERM set a flag that every wait of the main flow looks at: the demo
    // stops, its helper processes are killed and reaped, and the run exits 130.
    interrupt::install();
    B::prepare();
    if let Some(parent) = cli.crash_copy {
        return crash_copy::<B>(&cli, parent);
    }

    let settings = cli.settings();
    let kind = kind_of::<B>(&cli);
    let narrate = !cli.json && !cli.quiet;
    let echo = if narrate { Echo::Narrate } else { Echo::Silent };
    let mut reports = Vec::new();
    for demo in cli.selected_demos() {
        if narrate {
            say(format!(
                "== {demo} ({}): {}\n",
                demo.notebook_section(),
                demo.description()
            ));
        }
        let run = DemoRun::new(demo, (B::NAME, &kind), &settings, echo);
        let started = Instant::now();
        let result = B::run_demo(demo, &run);
        let wall_s = started.elapsed().as_secs_f64();
        // A demo that finished as the signal came is not reported either.
        if matches!(result, Err(DemoError::Interrupted)) || interrupt::requested() {
            eprintln!("{}: interrupted; every worker has been stopped", B::NAME);
            return ExitCode::from(EXIT_INTERRUPTED);
        }
        reports.push(run.into_report(result, wall_s));
    }

    let all_ok = reports.iter().all(|r| r.ok);
    if cli.json {
        let document = RunDocument {
            backend: B::NAME.to_string(),
            kind,
            runtime: runtime(),
            scale: cli.scale,
            demos: reports,
        };
        say(format!(
            "{}\n",
            serde_json::to_string_pretty(&document).expect("reports are plain data")
        ));
    } else {
        let started_by = match B::HAS_START_METHODS {
            true => format!(", start {}", cli.start.unwrap_or_default().id()),
            false => String::new(),
        };
        say(format!(
            "verdicts ({}, scale {}{started_by}):\n",
            B::NAME,
            cli.scale
        ));
        for report in &reports {
            say(format!("{}\n", verdict_line(report)));
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The copy of the program started for one `crash` round: run it here, stream the events
/// as JSON lines, and end as the round ends (which may be by a signal).
fn crash_copy<B: Backend>(cli: &Cli, parent: i32) -> ExitCode {
    // The copy must not outlive the program that watches it: it dies with it. If that
    // program died before the parent-death signal was set, the signal will never come, but
    // the copy has been re-parented: it sees that, and ends now, as worker processes do.
    if nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_err()
        || nix::unistd::getppid().as_raw() != parent
    {
        eprintln!(
            "{}: crash copy: the program that started it is gone",
            B::NAME
        );
        return ExitCode::FAILURE;
    }
    let run = DemoRun::new(
        DemoId::Crash,
        (B::NAME, &kind_of::<B>(cli)),
        &cli.settings(),
        Echo::JsonLines,
    );
    match B::run_demo(DemoId::Crash, &run) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}: crash copy: {error}", B::NAME);
            ExitCode::FAILURE
        }
    }
}

fn bad_input<B: Backend>(line: &str) -> ExitCode {
    eprintln!("{}: {line}", B::NAME);
    ExitCode::from(EXIT_BAD_INPUT)
}
