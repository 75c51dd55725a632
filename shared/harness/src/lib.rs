//! The comparison harness: runs any list of backends (programs that speak the protocol: a
//! `--list --json` listing, a `--json` document per run) as child processes, taking turns;
//! checks every outcome again against the contract and never trusts a backend's own `ok`;
//! checks that the backends agree where the contract says they must; measures them from
//! outside; and reports every difference (terminal table, JSON, Markdown, HTML).

pub mod backends;
pub mod chart;
pub mod error;
pub mod html;
pub mod measure;
pub mod regression;
pub mod render;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod verdict;

pub use error::Error;

use backends::{Backend, BackendSpec};
use clap::Parser;
use contract::demos::DemoId;
use contract::domain::{BackendKind, StartMethod};
use contract::files::write_atomically;
use contract::settings::{DemoOptions, EXIT_INTERRUPTED};
use error::TimeoutError;
use indicatif::{ProgressBar, ProgressStyle};
use measure::{Run, RunSpec, measure};
use runner::cli::{parse_demo, parse_scale};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use summary::{Contender, DemoSummary};

/// The default `--scale`: every demo's sleeps × 0.1 keeps a default run of 3 runs per backend
/// per demo well under a minute on two cores.
pub const DEFAULT_SCALE: f64 = 0.1;

/// The default `--runs`: five runs per backend per demo give Welch's intervals about 8 degrees
/// of freedom, enough for a twofold difference to stand out of the noise on a loaded machine,
/// while a default run of every demo stays under a minute on two cores.
pub const DEFAULT_RUNS: u32 = 5;

/// How the figures were obtained; printed under every report.
pub const METHOD_NOTE: &str = "Method: each run is one process of a backend program with --json for one demo, \
backends taking turns run by run (run k starts with the k-th backend). Every outcome is checked again with \
the contract's checker: a backend's own ok is not trusted. Each demo leads with the figures its contract \
declares (for a demo that sleeps, its overhead over the ideal: demo time minus the sleeps); demo time is the \
demo's own wall time as the backend measured it; process wall is spawn to reap. CPU and context switches come \
from the rusage of the reaped process tree. Peak PSS is the sum of proportional set sizes over the live tree \
(shared copy-on-write pages split between the processes sharing them), sampled every 10 ms from /proc; largest \
RSS is the biggest single process. Every other backend is set against the first one given: for figures that are \
always positive, Welch's t-interval of the difference of the logarithms gives the ratio of geometric means with \
its interval; for figures that can be zero, Welch's interval of the difference of the means. The intervals are \
Bonferroni-corrected so that all of a report's intervals hold together with 95 % confidence; an interval that \
holds 1 (or 0), or reaches within 2 % of it (the noise band, as criterion has), is reported as no significant \
difference, never as a winner. Five runs by default: with fewer, \
the intervals widen quickly (t with 2 degrees of freedom is 4.3 against 2.3 with 8). Outliers are samples whose \
modified z-score (0.6745 |x - median| / MAD) exceeds 3.5; they are flagged, not removed. Failed runs are listed \
and never averaged in.";

/// Run backends on the demos, check every outcome against the contract and that the
/// backends agree, measure them, and report the differences.
///
/// Exit codes: 0 when every run succeeded and the backends agree wherever the contract says
/// they must; 1 when a run failed, outcomes or events differ, or an export could not be
/// written; 2 for bad input (nothing is run); 130 when interrupted.
#[derive(Parser, Debug)]
#[command(name = "compare", version)]
pub struct CompareCli {
    /// Demos to compare, in this order (default: every demo, in catalogue order)
    #[arg(value_name = "DEMO", value_parser = parse_demo)]
    pub demos: Vec<DemoId>,

    /// A backend to compare, as NAME=COMMAND: COMMAND is a program, optionally followed by
    /// arguments it is always given, separated by spaces. Repeat for more backends; they run
    /// in the order given, and every ratio is against the first [default: threads,
    /// processes and tasks, beside this program]
    #[arg(long = "backend", value_name = "NAME=COMMAND", value_parser = backends::parse_backend)]
    pub backends: Vec<BackendSpec>,

    /// Also compare the Python backends (python-threads, python-processes: scripts/python)
    /// on the interpreter PATH [default: python3]; repeat for more interpreters. It takes the
    /// next word as PATH unless that starts with `-`: put demo names first, or write
    /// `--python=python3`
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "python3")]
    pub python: Vec<String>,

    /// Runs of each backend per demo; backends take turns going first so that drift falls on
    /// each
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RUNS, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// Multiply every sleep by F (passed to every backend)
    #[arg(long, value_name = "F", default_value_t = DEFAULT_SCALE, value_parser = parse_scale, allow_hyphen_values = true)]
    pub scale: f64,

    /// Seconds one backend run may take before it is killed and reported as hung
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: f64,

    /// Write every raw run and every summary as JSON
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,

    /// Write the report as Markdown
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,

    /// Write the report as one self-contained HTML page with SVG charts
    #[arg(long, value_name = "FILE")]
    pub export_html: Option<PathBuf>,

    /// Run the demos at each value of one parameter and draw each figure against it:
    /// PARAM=V1,V2,… or a range, PARAM=A..B (steps of 1), A..B:+K or A..B:xK (e.g.
    /// workers=1..64:x2). PARAM is workers, count, n, trials, scale, touched-mib,
    /// message-size or images; only the demos that take it run (see each demo's sweeps in
    /// `--list`)
    #[arg(long, value_name = "PARAM=VALUES", value_parser = sweep::parse_sweep)]
    pub sweep: Option<sweep::SweepSpec>,

    /// An earlier `--export-json` of compare: show, per demo and backend, how the figures each
    /// demo leads with changed since, and whether the change is significant
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: end with exit code 1 when a figure got significantly worse
    #[arg(long)]
    pub fail_on_regression: bool,

    /// How a worker process starts: fork, or spawn (a fresh run of the program that receives
    /// its job). Passed to every backend whose `--list --json` kind has a start method
    /// (processes), and to no other [default: fork]
    #[arg(long, value_name = "METHOD", value_enum)]
    pub start: Option<StartMethod>,

    /// Demo options, passed to every backend
    #[command(flatten)]
    pub options: DemoOptions,

    /// Any other options for every backend, after `--` (e.g. `-- --inject kill-worker`)
    #[arg(last = true, value_name = "BACKEND OPTIONS")]
    pub backend_args: Vec<String>,
}

fn parse_timeout(text: &str) -> Result<f64, TimeoutError> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(TimeoutError),
    }
}

/// One demo's runs and what they say.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoComparison {
    pub id: String,
    /// The value of the swept parameter these runs were made at (`--sweep`).
    #[serde(default)]
    pub swept_at: Option<f64>,
    pub runs: Vec<Run>,
    pub summary: DemoSummary,
}

/// The JSON export.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompareDocument {
    pub settings: Settings,
    pub demos: Vec<DemoComparison>,
    /// Present once every demo has run.
    pub harness: Option<HarnessFigures>,
    /// Ctrl-C stopped the comparison; the demo it was running is left out.
    pub interrupted: bool,
    /// Some demo failed (see its `summary.problems`), or an export could not be written.
    pub failed: bool,
    /// The last line of the report, once every demo has run.
    pub verdict: Option<String>,
    /// Which model for what: the closing verdict, once every demo has run.
    #[serde(default)]
    pub which_model: Vec<verdict::VerdictLine>,
    /// The change since `--baseline`, when one was given.
    #[serde(default)]
    pub since_baseline: Option<regression::BaselineComparison>,
    /// The curves of a `--sweep`, once every value has run.
    #[serde(default)]
    pub sweep: Option<sweep::SweepReport>,
}

impl CompareDocument {
    /// The document of a comparison that has not run anything yet.
    pub fn new(settings: Settings) -> Self {
        CompareDocument {
            settings,
            demos: Vec::new(),
            harness: None,
            interrupted: false,
            failed: false,
            verdict: None,
            which_model: Vec::new(),
            since_baseline: None,
            sweep: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub runs: u32,
    pub scale: f64,
    pub timeout_s: f64,
    /// What the backends are given besides `--json DEMO --scale F`, as the header says it.
    pub backend_args: Vec<String>,
    pub cores: usize,
    /// The backends, in the order given.
    pub backends: Vec<BackendSettings>,
}

/// One backend as compare ran it, and as it declared itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackendSettings {
    pub name: String,
    /// The program and the arguments of its `--backend` COMMAND.
    pub command: Vec<String>,
    /// The name the backend gives itself in its listing.
    pub listed_as: String,
    pub kind: BackendKind,
    pub runtime: BTreeMap<String, String>,
    /// The demos its listing names.
    pub demos: Vec<String>,
    /// Everything it is given after `--json DEMO`.
    pub args: Vec<String>,
}

impl BackendSettings {
    fn of(backend: &Backend) -> Self {
        BackendSettings {
            name: backend.name().to_string(),
            command: backend.spec.command_line(),
            listed_as: backend.listing.backend.clone(),
            kind: backend.kind().clone(),
            runtime: backend.listing.runtime.clone(),
            demos: backend.listing.demos.clone(),
            args: backend.args.clone(),
        }
    }
}

/// What the harness itself cost.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HarnessFigures {
    pub wall_s: f64,
    pub backend_runs_wall_s: f64,
    pub overhead_s: f64,
}

/// How a comparison ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every run succeeded and the backends agree wherever the contract says they must.
    Agreed,
    /// A run failed, outcomes or events differ, or an export could not be written.
    Failed,
    /// Ctrl-C.
    Interrupted,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Agreed => 0,
            Verdict::Failed => 1,
            Verdict::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// The `compare` program after its command line: checks the input and every backend's
/// listing (any problem there is bad input, before anything runs), runs every demo, and
/// reports. `interrupted` is raised by Ctrl-C: the comparison stops after the run under way,
/// keeps what it measured, and says so.
pub fn compare(cli: &CompareCli, interrupted: &AtomicBool) -> Result<Verdict, Error> {
    let started = Instant::now();
    let mut specs = if cli.backends.is_empty() {
        backends::default_specs()?
    } else {
        cli.backends.clone()
    };
    specs.extend(backends::python_specs(&cli.python)?);
    backends::check_unique(&specs)?;
    if cli.fail_on_regression && cli.baseline.is_none() {
        return Err(Error::FailOnRegressionWithoutBaseline);
    }
    let baseline = cli.baseline.as_deref().map(regression::load).transpose()?;
    for path in [&cli.export_json, &cli.export_markdown, &cli.export_html]
        .into_iter()
        .flatten()
    {
        check_export_path(path)?;
    }
    // The demos: those named, or every demo; with a sweep, only demos that take its
    // parameter.
    let swept = cli.sweep.as_ref();
    let demos: Vec<DemoId> = match swept {
        Some(spec) if cli.demos.is_empty() => DemoId::ALL
            .into_iter()
            .filter(|d| sweep::sweepable(*d).contains(&spec.param))
            .collect(),
        Some(spec) => {
            if let Some(demo) = cli
                .demos
                .iter()
                .find(|d| !sweep::sweepable(**d).contains(&spec.param))
            {
                return Err(Error::NotSwept {
                    demo: demo.id(),
                    param: spec.param.name(),
                    sweeps: demo.sweeps().join(", "),
                });
            }
            cli.demos.clone()
        }
        None if cli.demos.is_empty() => DemoId::ALL.to_vec(),
        None => cli.demos.clone(),
    };
    // The demo options, less the swept one, which each point of the sweep gives.
    let mut options = cli.options.clone();
    if let Some(spec) = swept {
        spec.param.clear(&mut options);
        if spec.param == sweep::Param::Workers {
            let most = spec.values.iter().copied().fold(0.0, f64::max) as usize;
            let widest = DemoOptions {
                workers: Some(most),
                ..options.clone()
            };
            widest.check_for(&demos, None).map_err(Error::Options)?;
        }
    }
    options.check_for(&demos, None).map_err(Error::Options)?;
    // Everything every backend is given besides `--json DEMO`: the scale, the demo options,
    // and whatever came after `--`; `--start` is added for those whose kind has a start method.
    let mut passed_on = options.to_args();
    passed_on.extend(cli.backend_args.iter().cloned());
    let mut common_args = Vec::new();
    if swept.is_none_or(|spec| spec.param != sweep::Param::Scale) {
        common_args.extend(["--scale".to_string(), cli.scale.to_string()]);
    }
    common_args.extend(passed_on.iter().cloned());
    let backends = match backends::prepare(specs, &common_args, cli.start, &demos) {
        // Ctrl-C reached the backend being asked for its listing too.
        Err(_) if interrupted.load(Ordering::SeqCst) => return Ok(Verdict::Interrupted),
        prepared => prepared?,
    };
    // A limit that depends on the kind of worker (`--workers` for threads and processes) is
    // refused before anything runs; in a sweep, a backend sits out the points beyond it.
    if swept.is_none() {
        for backend in &backends {
            options
                .check_for(&demos, Some(backend.kind().worker))
                .map_err(|problem| Error::Options(format!("{}: {problem}", backend.name())))?;
        }
    }
    let takes = |backend: &Backend, demo: DemoId, point: Option<f64>| -> bool {
        let within_limits = match (swept, point) {
            (Some(spec), Some(value)) if spec.param == sweep::Param::Workers => {
                let at_point = DemoOptions {
                    workers: Some(value as usize),
                    ..DemoOptions::default()
                };
                at_point
                    .check_for(&[demo], Some(backend.kind().worker))
                    .is_ok()
            }
            _ => true,
        };
        backend.supports(demo) && within_limits
    };
    if let Some(method) = cli.start {
        for backend in backends.iter().filter(|b| b.kind().start_method.is_some()) {
            passed_on.push(format!("{} --start {}", backend.name(), method.id()));
        }
    }
    // The points to run at: each value of the sweep, or once.
    let points: Vec<Option<f64>> = match swept {
        Some(spec) => spec.values.iter().copied().map(Some).collect(),
        None => vec![None],
    };

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let header = header(cli, cores, &passed_on);
    let title = backends
        .iter()
        .map(Backend::name)
        .collect::<Vec<_>>()
        .join(" vs ");
    let all_contenders = |demo: DemoId, point: Option<f64>| -> Vec<Contender> {
        backends
            .iter()
            .map(|b| Contender {
                name: b.name(),
                kind: b.kind(),
                supported: takes(b, demo, point),
            })
            .collect()
    };
    let kinds = summary::kinds_line(backends.iter().map(|b| (b.name(), b.kind())));
    let mut out = String::new();
    for line in render::wrap("compare: ", &header, 9, render::TERMINAL_WIDTH) {
        out.push_str(&format!("{line}\n"));
    }
    for line in render::wrap("compare: backends ", &kinds, 18, render::TERMINAL_WIDTH) {
        out.push_str(&format!("{line}\n"));
    }
    let runtimes = backends::runtimes_line(backends.iter().map(|b| (b.name(), &b.listing.runtime)));
    for line in render::wrap("compare: runtimes ", &runtimes, 18, render::TERMINAL_WIDTH) {
        out.push_str(&format!("{line}\n"));
    }
    say(&out)?;

    let total_runs: usize = points
        .iter()
        .flat_map(|&point| demos.iter().map(move |&demo| (demo, point)))
        .map(|(demo, point)| backends.iter().filter(|b| takes(b, demo, point)).count())
        .sum::<usize>()
        * cli.runs as usize;
    // Every interval of the report holds together with 95 % confidence: the family is every
    // figure of every demo against the first backend, and the verdict's pairs of the others.
    let family: usize = points
        .iter()
        .flat_map(|&point| demos.iter().map(move |&demo| (demo, point)))
        .map(|(demo, point)| {
            let running = backends.iter().filter(|b| takes(b, demo, point)).count();
            let others = running.saturating_sub(1);
            let verdict_pairs = contract::verdict::DIMENSIONS
                .iter()
                .filter(|d| d.demo == demo)
                .count()
                * others
                * others.saturating_sub(1)
                / 2;
            summary::figure_count(demo) * others + verdict_pairs
        })
        .sum::<usize>();
    let confidence = stats::each_interval_confidence(family);
    let progress = ProgressBar::new(total_runs as u64);
    progress.set_style(
        ProgressStyle::with_template(
            "{bar:24} {pos}/{len} runs · {elapsed} · about {eta} left · {msg}",
        )
        .expect("a valid template"),
    );
    let mut document = CompareDocument::new(Settings {
        runs: cli.runs,
        scale: cli.scale,
        timeout_s: cli.timeout,
        backend_args: passed_on.clone(),
        cores,
        backends: backends.iter().map(BackendSettings::of).collect(),
    });
    let exports = Exports {
        cli,
        title: &title,
        header: &header,
    };
    let mut export_failed = false;
    'points: for &point in &points {
        // The sweep's value for this point, passed to every run.
        let point_args = match (swept, point) {
            (Some(spec), Some(value)) => spec.param.args(value),
            _ => Vec::new(),
        };
        for &demo in &demos {
            let running: Vec<&Backend> =
                backends.iter().filter(|b| takes(b, demo, point)).collect();
            let at = match (swept, point) {
                (Some(spec), Some(value)) => {
                    format!(" at {} {}", spec.param, sweep::show_value(value))
                }
                _ => String::new(),
            };
            let mut runs = Vec::new();
            for index in 0..cli.runs {
                // Backends take turns going first (run k starts with the k-th), so that the
                // machine's drift falls on each.
                for turn in 0..running.len() {
                    if interrupted.load(Ordering::SeqCst) {
                        break 'points;
                    }
                    let backend = running[(index as usize + turn) % running.len()];
                    progress.set_message(format!(
                        "{demo}{at}: {}, run {} of {}",
                        backend.name(),
                        index + 1,
                        cli.runs
                    ));
                    let spec = RunSpec {
                        backend,
                        demo,
                        timeout: Duration::from_secs_f64(cli.timeout),
                        extra_args: &point_args,
                        interrupted: Some(interrupted),
                    };
                    runs.push(measure(&spec, index));
                    progress.inc(1);
                }
            }
            // A run that Ctrl-C ended is not a failure of its backend: the demo is left out.
            if interrupted.load(Ordering::SeqCst) {
                break 'points;
            }
            let summary = DemoSummary::of(demo, &all_contenders(demo, point), &runs, confidence);
            let comparison = DemoComparison {
                id: demo.id().to_string(),
                swept_at: point,
                runs,
                summary,
            };
            let said = if point.is_some() {
                render::sweep_point_line(&comparison, &at)
            } else {
                render::terminal_block(&comparison)
            };
            progress.suspend(|| say(&said))?;
            document.demos.push(comparison);
            document.failed = document.demos.iter().any(|d| d.summary.failed);
            // Written after every demo, so that a later failure loses nothing.
            export_failed |= !exports.write(&document);
        }
    }
    progress.finish_and_clear();

    document.interrupted = interrupted.load(Ordering::SeqCst);
    if let Some(spec) = swept {
        let report = sweep::report(spec, &document.demos);
        say(&render::terminal_sweep(&report))?;
        document.sweep = Some(report);
    } else {
        document.which_model = verdict::verdict(&document);
        say(&render::terminal_verdict(&document.which_model))?;
    }
    let mut regressed = false;
    if let (Some(baseline), Some(path)) = (&baseline, &cli.baseline) {
        let changes = regression::compare(&path.display().to_string(), baseline, &document);
        say(&render::terminal_changes(&changes))?;
        regressed = changes.regressions > 0;
        document.since_baseline = Some(changes);
    }
    let backend_runs_wall_s: f64 = document
        .demos
        .iter()
        .flat_map(|d| &d.runs)
        .map(|r| r.process_wall_s)
        .sum();
    let wall_s = started.elapsed().as_secs_f64();
    let harness = HarnessFigures {
        wall_s,
        backend_runs_wall_s,
        overhead_s: wall_s - backend_runs_wall_s,
    };
    say(&format!(
        "compare: {} in all; backend runs {}; harness overhead {} ({:.1}%)\n",
        render::time(harness.wall_s),
        render::time(harness.backend_runs_wall_s),
        render::time(harness.overhead_s),
        100.0 * harness.overhead_s / harness.wall_s
    ))?;
    document.harness = Some(harness);
    let (mut verdict, failed) = overall_verdict(&document, backends.len());
    if regressed {
        let count = document
            .since_baseline
            .as_ref()
            .map_or(0, |c| c.regressions);
        verdict.push_str(&format!(
            " · REGRESSED since the baseline: {count} figure{} significantly worse",
            if count == 1 { "" } else { "s" }
        ));
    }
    document.failed = failed;
    document.verdict = Some(verdict.clone());
    export_failed |= !exports.write(&document);
    let flagged = document.failed || document.interrupted || export_failed || regressed;
    for line in render::wrap("compare: ", &verdict, 9, render::TERMINAL_WIDTH) {
        say(&format!("{}\n", render::verdict_line(&line, flagged)))?;
    }

    Ok(if document.interrupted {
        Verdict::Interrupted
    } else if document.failed || export_failed || (regressed && cli.fail_on_regression) {
        Verdict::Failed
    } else {
        Verdict::Agreed
    })
}

/// The first line of the report: how the comparison runs.
fn header(cli: &CompareCli, cores: usize, passed_on: &[String]) -> String {
    let scale = match &cli.sweep {
        Some(spec) if spec.param == sweep::Param::Scale => "scale swept".to_string(),
        _ => format!("scale {} (every sleep × {})", cli.scale, cli.scale),
    };
    let swept = match &cli.sweep {
        Some(spec) => format!(
            " · sweep of {}: {}",
            spec.param,
            spec.values
                .iter()
                .map(|v| sweep::show_value(*v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    format!(
        "{} run{} per backend per demo, backends alternating · {scale} · timeout {} s · {} cores{}{swept}",
        cli.runs,
        if cli.runs == 1 { "" } else { "s" },
        cli.timeout,
        cores,
        if passed_on.is_empty() {
            String::new()
        } else {
            format!(" · backend options: {}", passed_on.join(" "))
        }
    )
}

/// The last line of the report, and whether some demo failed.
fn overall_verdict(document: &CompareDocument, backends: usize) -> (String, bool) {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    // A sweep runs each demo once per value: the demos are counted once.
    let mut ids: Vec<&str> = document.demos.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let demos = ids.len();
    let failed: Vec<String> = document
        .demos
        .iter()
        .filter(|d| d.summary.failed)
        .map(|d| {
            // The head of each problem (`OUTCOMES DIFFER`, `spare FAILED 2 of 2 runs`); the
            // whole of it is on the demo's ⇒ line.
            let heads: Vec<&str> = d
                .summary
                .problems
                .iter()
                .map(|p| p.split(':').next().unwrap_or(p))
                .collect();
            let at = match (d.swept_at, &document.sweep) {
                (Some(value), Some(sweep)) => {
                    format!(" at {} {}", sweep.param, sweep::show_value(value))
                }
                (Some(value), None) => format!(" at {}", sweep::show_value(value)),
                _ => String::new(),
            };
            format!("{}{at} ({})", d.id, heads.join("; "))
        })
        .collect();
    let verdict = if document.interrupted {
        format!(
            "interrupted after {demos} demo{}; nothing more was run",
            plural(demos)
        )
    } else if failed.is_empty() {
        let unsupported: Vec<String> = document
            .demos
            .iter()
            .flat_map(|d| {
                d.summary
                    .backends
                    .iter()
                    .filter(|b| !b.supported)
                    .map(move |b| format!("{} by {}", d.id, b.backend))
            })
            .collect();
        format!(
            "every demo agrees: {demos} demo{} on {backends} backend{}, every outcome checked against the contract{}",
            plural(demos),
            plural(backends),
            if unsupported.is_empty() {
                String::new()
            } else {
                format!("; not supported: {}", unsupported.join(", "))
            }
        )
    } else {
        // A sweep counts each demo at each value.
        let (total, what) = if document.demos.iter().any(|d| d.swept_at.is_some()) {
            (document.demos.len(), "demo points")
        } else {
            (demos, "demos")
        };
        format!(
            "FAILED: {} of {total} {what}: {}",
            failed.len(),
            failed.join(", ")
        )
    };
    (verdict, !failed.is_empty())
}

/// Prints on stdout, through anstream: the colours go to a terminal that wants them, and
/// nowhere else (a pipe, a file, `NO_COLOR`).
fn say(text: &str) -> Result<(), Error> {
    let mut out = anstream::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::StdoutClosed)
}

fn check_export_path(path: &Path) -> Result<(), Error> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if path.file_name().is_none() || path.is_dir() {
        return Err(Error::ExportNotAFile {
            path: path.to_path_buf(),
        });
    }
    if !folder.is_dir() {
        return Err(Error::ExportFolderMissing {
            folder,
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// The exports asked for, and what they say of themselves.
struct Exports<'a> {
    cli: &'a CompareCli,
    title: &'a str,
    header: &'a str,
}

impl Exports<'_> {
    /// Writes every export asked for; says on stderr which could not be written.
    fn write(&self, document: &CompareDocument) -> bool {
        let mut ok = true;
        let mut write = |path: &Option<PathBuf>, contents: &dyn Fn() -> String| {
            if let Some(path) = path
                && let Err(error) = write_atomically(path, contents().as_bytes())
            {
                eprintln!("compare: cannot write {}: {error}", path.display());
                ok = false;
            }
        };
        write(&self.cli.export_json, &|| {
            serde_json::to_string_pretty(document).expect("plain data")
        });
        write(&self.cli.export_markdown, &|| {
            render::markdown(self.title, self.header, document)
        });
        write(&self.cli.export_html, &|| {
            html::page(self.title, self.header, document)
        });
        ok
    }
}
