//! The comparison harness: runs any list of backends (programs that speak the protocol: a
//! `--list --json` listing, a `--json` document per run) as child processes, taking turns;
//! checks every outcome again against the contract and never trusts a backend's own `ok`;
//! checks that the backends agree where the contract says they must; measures them from
//! outside; and reports every difference (terminal table, JSON, Markdown, HTML).

pub mod backends;
pub mod error;
pub mod html;
pub mod measure;
pub mod render;
pub mod stats;
pub mod summary;

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

/// How the figures were obtained; printed under every report.
pub const METHOD_NOTE: &str = "Method: each run is one process of a backend program with --json for one demo, \
backends taking turns run by run (run k starts with the k-th backend). Every outcome is checked again with \
the contract's checker: a backend's own ok is not trusted. Demo time is the demo's own wall time as the backend \
measured it; process wall is spawn to reap. CPU and context switches come from the rusage of the reaped process tree. \
Peak PSS is the sum of proportional set sizes over the live tree (shared copy-on-write pages split between \
the processes sharing them), sampled every 10 ms from /proc; largest RSS is the biggest single process \
(RSS counts shared pages in full in each process). Seen procs/threads are the distinct ones the sampler saw: \
short-lived workers can be missed; workers is the backend's own count. Ratios set every backend against the \
first one given, using means with propagated standard deviations, as hyperfine does. Failed runs are listed \
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
    /// in the order given, and every ratio is against the first [default: threads and
    /// processes, beside this program]
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
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
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
    for path in [&cli.export_json, &cli.export_markdown, &cli.export_html]
        .into_iter()
        .flatten()
    {
        check_export_path(path)?;
    }
    // Everything every backend is given besides `--json DEMO`: the scale, the demo options,
    // and whatever came after `--`; `--start` is added for those whose kind has a start method.
    let mut common_args = vec!["--scale".to_string(), cli.scale.to_string()];
    common_args.extend(cli.options.to_args());
    common_args.extend(cli.backend_args.iter().cloned());
    let backends = match backends::prepare(specs, &common_args, cli.start) {
        // Ctrl-C reached the backend being asked for its listing too.
        Err(_) if interrupted.load(Ordering::SeqCst) => return Ok(Verdict::Interrupted),
        prepared => prepared?,
    };
    let mut passed_on: Vec<String> = common_args[2..].to_vec();
    if let Some(method) = cli.start {
        for backend in backends.iter().filter(|b| b.kind().start_method.is_some()) {
            passed_on.push(format!("{} --start {}", backend.name(), method.id()));
        }
    }

    let demos = if cli.demos.is_empty() {
        DemoId::ALL.to_vec()
    } else {
        cli.demos.clone()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let header = header(cli, cores, &passed_on);
    let title = backends
        .iter()
        .map(Backend::name)
        .collect::<Vec<_>>()
        .join(" vs ");
    let all_contenders = |demo: DemoId| -> Vec<Contender> {
        backends
            .iter()
            .map(|b| Contender {
                name: b.name(),
                kind: b.kind(),
                supported: b.supports(demo),
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
    out.push_str(&render::terminal_header());
    say(&out)?;

    let total_runs: usize = demos
        .iter()
        .map(|&demo| backends.iter().filter(|b| b.supports(demo)).count())
        .sum::<usize>()
        * cli.runs as usize;
    let progress = ProgressBar::new(total_runs as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs · {elapsed} · {msg}")
            .expect("a valid template"),
    );
    let mut document = CompareDocument {
        settings: Settings {
            runs: cli.runs,
            scale: cli.scale,
            timeout_s: cli.timeout,
            backend_args: passed_on.clone(),
            cores,
            backends: backends.iter().map(BackendSettings::of).collect(),
        },
        demos: Vec::new(),
        harness: None,
        interrupted: false,
        failed: false,
        verdict: None,
    };
    let exports = Exports {
        cli,
        title: &title,
        header: &header,
    };
    let mut export_failed = false;
    'demos: for demo in demos {
        let running: Vec<&Backend> = backends.iter().filter(|b| b.supports(demo)).collect();
        let mut runs = Vec::new();
        for index in 0..cli.runs {
            // Backends take turns going first (run k starts with the k-th), so that the
            // machine's drift falls on each.
            for turn in 0..running.len() {
                if interrupted.load(Ordering::SeqCst) {
                    break 'demos;
                }
                let backend = running[(index as usize + turn) % running.len()];
                progress.set_message(format!("{demo} on {} (run {})", backend.name(), index + 1));
                let spec = RunSpec {
                    backend,
                    demo,
                    timeout: Duration::from_secs_f64(cli.timeout),
                };
                runs.push(measure(&spec, index));
                progress.inc(1);
            }
        }
        // A run that Ctrl-C ended is not a failure of its backend: the demo is left out.
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let summary = DemoSummary::of(demo, &all_contenders(demo), &runs);
        let comparison = DemoComparison {
            id: demo.id().to_string(),
            runs,
            summary,
        };
        progress.suspend(|| say(&render::terminal_rows(&comparison)))?;
        document.demos.push(comparison);
        document.failed = document.demos.iter().any(|d| d.summary.failed);
        // Written after every demo, so that a later failure loses nothing.
        export_failed |= !exports.write(&document);
    }
    progress.finish_and_clear();

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
    document.interrupted = interrupted.load(Ordering::SeqCst);
    let (verdict, failed) = overall_verdict(&document, backends.len());
    document.failed = failed;
    document.verdict = Some(verdict.clone());
    export_failed |= !exports.write(&document);
    let flagged = document.failed || document.interrupted || export_failed;
    say(&format!(
        "{}\n",
        render::verdict_line(&format!("compare: {verdict}"), flagged)
    ))?;

    Ok(if document.interrupted {
        Verdict::Interrupted
    } else if document.failed || export_failed {
        Verdict::Failed
    } else {
        Verdict::Agreed
    })
}

/// The first line of the report: how the comparison runs.
fn header(cli: &CompareCli, cores: usize, passed_on: &[String]) -> String {
    format!(
        "{} run{} per backend per demo, backends alternating · scale {} (every sleep × {}) · timeout {} s · {} cores{}",
        cli.runs,
        if cli.runs == 1 { "" } else { "s" },
        cli.scale,
        cli.scale,
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
    let demos = document.demos.len();
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
            format!("{} ({})", d.id, heads.join("; "))
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
        format!(
            "FAILED: {} of {demos} demos: {}",
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
