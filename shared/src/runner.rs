//! The one runner both binaries call: parse the command line, run each demo, check, report.

use crate::catalogue::DemoId;
use crate::cli::{self, Cli, DemoOptions, DownloadArgs, Fault, StartMethod};
use crate::outcome::{
    ChannelOutcome, CpuOutcome, CrashOutcome, CustomInitOutcome, DownloadOutcome, EventOutcome,
    JoinOutcome, LockOutcome, Outcome, QueueOutcome, RunHooksOutcome, SpawnOutcome, StartOutcome,
};
use crate::report::{DemoReport, Figures, RunDocument, say, verdict_line};
use crate::trace::{Echo, MAIN, Trace};
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

    /// True for a backend with more than one way to start a worker (`--start`).
    const HAS_START_METHODS: bool = false;

    /// Called once before any demo runs (e.g. to take over Ctrl-C).
    fn prepare() {}

    fn start(run: &DemoRun) -> Result<StartOutcome, DemoError>;
    fn join(run: &DemoRun) -> Result<JoinOutcome, DemoError>;
    fn run_hooks(run: &DemoRun) -> Result<RunHooksOutcome, DemoError>;
    fn custom_init(run: &DemoRun) -> Result<CustomInitOutcome, DemoError>;
    fn lock(run: &DemoRun) -> Result<LockOutcome, DemoError>;
    fn queue(run: &DemoRun) -> Result<QueueOutcome, DemoError>;
    fn event(run: &DemoRun) -> Result<EventOutcome, DemoError>;
    fn download(run: &DemoRun) -> Result<DownloadOutcome, DemoError>;
    fn cpu(run: &DemoRun) -> Result<CpuOutcome, DemoError>;
    fn crash(run: &DemoRun) -> Result<CrashOutcome, DemoError>;
    fn spawn(run: &DemoRun) -> Result<SpawnOutcome, DemoError>;
    fn channel(run: &DemoRun) -> Result<ChannelOutcome, DemoError>;
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
    backend: &'static str,
    scale: f64,
    fault: Option<Fault>,
    start_method: StartMethod,
    options: DemoOptions,
    download: DownloadArgs,
    ideal_wall_s: Mutex<Option<f64>>,
    crash_copy: bool,
    trace: Arc<Trace>,
    figures: Mutex<Figures>,
}

impl DemoRun {
    /// A run of `demo` on `backend` with the command line's settings, echoing as `echo` says.
    pub fn new(demo: DemoId, backend: &'static str, cli: &Cli, echo: Echo) -> Self {
        DemoRun {
            demo,
            backend,
            scale: cli.scale,
            fault: cli.inject,
            start_method: cli.start.unwrap_or_default(),
            options: cli.options.clone(),
            download: cli.download.clone(),
            ideal_wall_s: Mutex::new(None),
            crash_copy: cli.crash_copy,
            trace: Arc::new(Trace::new(echo)),
            figures: Mutex::new(Figures::default()),
        }
    }

    pub fn demo(&self) -> DemoId {
        self.demo
    }

    /// `threads` or `processes`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// `--start`: how the processes backend starts its workers.
    pub fn start_method(&self) -> StartMethod {
        self.start_method
    }

    /// `--count`, or the demo's own default (see [`DemoId::default_count`]).
    pub fn count(&self) -> u64 {
        self.options
            .count
            .or(self.demo.default_count())
            .expect("only a demo with a default --count asks for it")
    }

    /// `--seed`: the seed of `event`'s draws.
    pub fn seed(&self) -> u64 {
        self.options.seed.unwrap_or(cli::DEFAULT_SEED)
    }

    /// `--trials`: timed repetitions of `event`'s set→wake-up.
    pub fn trials(&self) -> u32 {
        self.options.trials.unwrap_or(cli::DEFAULT_TRIALS)
    }

    /// The options of `download`.
    pub fn download(&self) -> &DownloadArgs {
        &self.download
    }

    /// `--workers` for `download`'s concurrent pass.
    pub fn download_workers(&self) -> usize {
        self.options
            .workers
            .unwrap_or(crate::catalogue::download::WORKERS)
    }

    /// Replaces the catalogue's ideal wall time when the demo's options change it
    /// (e.g. `download --latency`), in seconds at this scale.
    pub fn set_ideal_wall_s(&self, seconds: f64) {
        *self.ideal_wall_s.lock().unwrap_or_else(|p| p.into_inner()) = Some(seconds);
    }

    /// The per-demo options as given; each demo applies its own defaults.
    pub fn options(&self) -> &DemoOptions {
        &self.options
    }

    /// True in the copy of the program that the threads backend starts to survive a
    /// `crash` round that ends a whole process.
    pub fn is_crash_copy(&self) -> bool {
        self.crash_copy
    }

    /// A measurement recorded earlier in this run.
    pub fn measured_value(&self, name: &str) -> Option<f64> {
        self.figures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .measured
            .get(name)
            .copied()
    }

    /// `--scale`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Records one named measurement (unit in the name).
    pub fn measured(&self, name: &str, value: f64) {
        self.figures(|f| {
            f.measured.insert(name.to_string(), value);
        });
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
        DemoId::Lock => checked(B::lock(run)?),
        DemoId::Queue => checked(B::queue(run)?),
        DemoId::Event => checked(B::event(run)?),
        DemoId::Download => checked(B::download(run)?),
        DemoId::Cpu => checked(B::cpu(run)?),
        DemoId::Crash => checked(B::crash(run)?),
        DemoId::Spawn => checked(B::spawn(run)?),
        DemoId::Channel => checked(B::channel(run)?),
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
    if cli.start.is_some() && !B::HAS_START_METHODS {
        return bad_input::<B>(
            "error: --start is an option of processes: a thread has one way to start",
        );
    }
    if cli.list {
        say(DemoId::listing());
        return ExitCode::SUCCESS;
    }
    B::prepare();
    if cli.crash_copy {
        return crash_copy::<B>(&cli);
    }

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
        let run = DemoRun::new(demo, B::NAME, &cli, echo);
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
            start_method: B::HAS_START_METHODS
                .then(|| cli.start.unwrap_or_default().id().to_string()),
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
fn crash_copy<B: Backend>(cli: &Cli) -> ExitCode {
    // The copy must not outlive the program that watches it.
    if nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_err() {
        return ExitCode::FAILURE;
    }
    let run = DemoRun::new(DemoId::Crash, B::NAME, cli, Echo::JsonLines);
    match B::crash(&run) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}: crash copy: {error}", B::NAME);
            ExitCode::FAILURE
        }
    }
}

fn bad_input<B: Backend>(line: &str) -> ExitCode {
    eprintln!("{}: {line}", B::NAME);
    ExitCode::from(cli::EXIT_BAD_INPUT)
}
