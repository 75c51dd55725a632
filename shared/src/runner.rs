//! The one runner both binaries call: parse the command line, run each demo, check, report.

use crate::catalogue::DemoId;
use crate::cli::{self, Cli, DownloadArgs, Fault};
use crate::outcome::{
    CustomInitOutcome, DownloadOutcome, JoinOutcome, Outcome, RunHooksOutcome, StartOutcome,
};
use crate::report::{DemoReport, Figures, RunDocument, verdict_line};
use crate::trace::{MAIN, Trace};
use clap::Parser;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A way of making workers. One method per demo, so a backend missing a demo does not compile.
///
/// Each method runs the demo on this backend and returns its typed outcome; the runner
/// checks it against the contract, times it and reports it.
pub trait Backend {
    /// `threads` or `processes`.
    const NAME: &'static str;

    /// Called once before any demo runs (e.g. to take over Ctrl-C).
    fn prepare() {}

    fn start(run: &DemoRun) -> Result<StartOutcome, DemoError>;
    fn join(run: &DemoRun) -> Result<JoinOutcome, DemoError>;
    fn run_hooks(run: &DemoRun) -> Result<RunHooksOutcome, DemoError>;
    fn custom_init(run: &DemoRun) -> Result<CustomInitOutcome, DemoError>;
    fn download(run: &DemoRun) -> Result<DownloadOutcome, DemoError>;
}

/// Why a demo did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A worker ended without doing its job; `how` says how (exit code, signal, panic).
    #[error("{worker} {how}")]
    WorkerDied { worker: String, how: String },
    /// Ctrl-C: the run stops, every worker is ended and reaped.
    #[error("interrupted")]
    Interrupted,
    /// The operating system refused something (fork, a channel, a thread).
    #[error("{0}")]
    System(String),
}

impl DemoError {
    /// Wraps an OS error with what was being attempted.
    pub fn system(doing: &str, error: impl std::fmt::Display) -> Self {
        DemoError::System(format!("{doing}: {error}"))
    }
}

/// Everything a demo needs while it runs: its settings, its trace and its figures.
pub struct DemoRun {
    demo: DemoId,
    scale: f64,
    fault: Option<Fault>,
    trace: Arc<Trace>,
    figures: Mutex<Figures>,
    download: DownloadArgs,
    ideal_wall_s: Mutex<Option<f64>>,
}

impl DemoRun {
    pub fn new(demo: DemoId, scale: f64, fault: Option<Fault>, narrate: bool) -> Self {
        DemoRun {
            demo,
            scale,
            fault,
            trace: Arc::new(Trace::new(narrate)),
            figures: Mutex::new(Figures::default()),
            download: DownloadArgs::default(),
            ideal_wall_s: Mutex::new(None),
        }
    }

    /// The same run with `download`'s options from the command line.
    pub fn with_download(self, download: DownloadArgs) -> Self {
        DemoRun { download, ..self }
    }

    /// The options of `download`.
    pub fn download(&self) -> &DownloadArgs {
        &self.download
    }

    /// Replaces the catalogue's ideal wall time when the demo's options change it
    /// (e.g. `download --latency`), in seconds at this scale.
    pub fn set_ideal_wall_s(&self, seconds: f64) {
        *self.ideal_wall_s.lock().unwrap_or_else(|p| p.into_inner()) = Some(seconds);
    }

    pub fn demo(&self) -> DemoId {
        self.demo
    }

    /// Notebook seconds times `--scale`.
    pub fn seconds(&self, notebook_seconds: f64) -> f64 {
        notebook_seconds * self.scale
    }

    pub fn trace(&self) -> &Arc<Trace> {
        &self.trace
    }

    /// The main flow emits an event (the notebook's `print` in the main program).
    pub fn main_says(&self, what: &str, detail: Option<String>) {
        self.trace.emit(MAIN, what, detail);
    }

    /// The fault to inject into the worker started `index`-th in this demo, if any:
    /// only the first worker is made to die.
    pub fn fault_for(&self, index: usize) -> Option<Fault> {
        self.fault.filter(|_| index == 0)
    }

    /// Updates the backend's figures for this demo.
    pub fn figures(&self, update: impl FnOnce(&mut Figures)) {
        let mut figures = self.figures.lock().unwrap_or_else(|p| p.into_inner());
        update(&mut figures);
    }

    fn into_report(
        self,
        result: Result<(serde_json::Value, Result<(), String>), DemoError>,
        wall_s: f64,
    ) -> DemoReport {
        let (outcome, problem) = match result {
            Ok((outcome, check)) => (outcome, check.err()),
            Err(error) => (serde_json::Value::Null, Some(error.to_string())),
        };
        DemoReport {
            id: self.demo.id().to_string(),
            ok: problem.is_none(),
            outcome,
            problem,
            wall_s,
            ideal_wall_s: self
                .ideal_wall_s
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| self.scale * self.demo.ideal_wall_s()),
            events: self.trace.events(),
            figures: self.figures.into_inner().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

fn checked<O: Outcome>(outcome: O) -> (serde_json::Value, Result<(), String>) {
    let value = serde_json::to_value(&outcome).expect("outcomes are plain data");
    (value, outcome.check())
}

fn run_demo<B: Backend>(
    run: &DemoRun,
) -> Result<(serde_json::Value, Result<(), String>), DemoError> {
    Ok(match run.demo() {
        DemoId::Start => checked(B::start(run)?),
        DemoId::Join => checked(B::join(run)?),
        DemoId::RunHooks => checked(B::run_hooks(run)?),
        DemoId::CustomInit => checked(B::custom_init(run)?),
        DemoId::Download => checked(B::download(run)?),
    })
}

/// The whole program of a backend binary: `fn main() -> ExitCode { runner::main::<Backend>() }`.
///
/// Exit codes: 0 when every outcome checks, 1 when one does not, 2 for bad input,
/// 130 when interrupted.
pub fn main<B: Backend>() -> ExitCode {
    // The binary re-executed as `download`'s local image server (see `image_server`).
    if let Some(code) = crate::image_server::run_if_asked() {
        return code;
    }
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
    if cli.list {
        print!("{}", DemoId::listing());
        return ExitCode::SUCCESS;
    }
    B::prepare();

    let narrate = !cli.json && !cli.quiet;
    let mut reports = Vec::new();
    for demo in cli.selected_demos() {
        if narrate {
            println!(
                "== {demo} ({}): {}",
                demo.notebook_section(),
                demo.description()
            );
        }
        let run =
            DemoRun::new(demo, cli.scale, cli.fault, narrate).with_download(cli.download.clone());
        let started = Instant::now();
        let result = run_demo::<B>(&run);
        let wall_s = started.elapsed().as_secs_f64();
        if let Err(DemoError::Interrupted) = result {
            eprintln!("{}: interrupted; every worker has been stopped", B::NAME);
            return ExitCode::from(cli::EXIT_INTERRUPTED);
        }
        reports.push(run.into_report(result, wall_s));
    }

    let all_ok = reports.iter().all(|r| r.ok);
    if cli.json {
        let document = RunDocument {
            backend: B::NAME.to_string(),
            scale: cli.scale,
            demos: reports,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&document).expect("reports are plain data")
        );
    } else {
        println!("verdicts ({}, scale {}):", B::NAME, cli.scale);
        for report in &reports {
            println!("{}", verdict_line(report));
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn bad_input<B: Backend>(line: &str) -> ExitCode {
    eprintln!("{}: {line}", B::NAME);
    ExitCode::from(cli::EXIT_BAD_INPUT)
}
