//! The comparison harness: runs both backend binaries as child processes, alternating, checks
//! that they agree, measures them from outside, and reports every difference (terminal table,
//! JSON, Markdown, HTML).

pub mod html;
pub mod measure;
pub mod render;
pub mod stats;
pub mod summary;

use clap::Parser;
use contract::demos::DemoId;
use contract::domain::StartMethod;
use contract::files::write_atomically;
use contract::report::say;
use contract::settings::{DemoOptions, EXIT_BAD_INPUT};
use indicatif::{ProgressBar, ProgressStyle};
use measure::{Run, RunSpec, measure};
use runner::cli::{one_line, parse_demo, parse_scale};
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use summary::DemoSummary;

/// The two backends, in the order the report shows them.
pub const BACKENDS: [&str; 2] = ["threads", "processes"];

/// The default `--scale`: every demo's sleeps × 0.1 keeps a default run of 3 runs per backend
/// per demo well under a minute on two cores.
pub const DEFAULT_SCALE: f64 = 0.1;

/// How the figures were obtained; printed under every report.
pub const METHOD_NOTE: &str = "Method: each run is one process of a backend binary with --json for one demo, \
backends alternating run by run. Demo time is the demo's own wall time as the backend measured it; \
process wall is spawn to reap. CPU and context switches come from the rusage of the reaped process tree. \
Peak PSS is the sum of proportional set sizes over the live tree (shared copy-on-write pages split between \
the processes sharing them), sampled every 10 ms from /proc; largest RSS is the biggest single process \
(RSS counts shared pages in full in each process). Seen procs/threads are the distinct ones the sampler saw: \
short-lived workers can be missed; workers is the backend's own count. Ratios use means with propagated \
standard deviations, as hyperfine does. Failed runs are listed and never averaged in.";

/// Run both backends on the demos, check that they agree, measure them, and report the differences.
#[derive(Parser, Debug)]
#[command(name = "compare", version)]
pub struct CompareCli {
    /// Demos to compare, in this order (default: every demo, in catalogue order)
    #[arg(value_name = "DEMO", value_parser = parse_demo)]
    pub demos: Vec<DemoId>,

    /// Runs of each backend per demo; backends alternate so that drift falls on both
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// Multiply every sleep by F (passed to both backends)
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

    /// The threads binary (default: `threads` next to this program)
    #[arg(long, value_name = "PATH")]
    pub threads_bin: Option<PathBuf>,

    /// The processes binary (default: `processes` next to this program)
    #[arg(long, value_name = "PATH")]
    pub processes_bin: Option<PathBuf>,

    /// How processes starts its workers: fork, or spawn (a fresh run of the program that
    /// receives its job); passed to processes only [default: fork]
    #[arg(long, value_name = "METHOD", value_enum)]
    pub start: Option<StartMethod>,

    /// Demo options, passed to both backends
    #[command(flatten)]
    pub options: DemoOptions,

    /// Any other options for both backends, after `--` (e.g. `-- --inject kill-worker`)
    #[arg(last = true, value_name = "BACKEND OPTIONS")]
    pub backend_args: Vec<String>,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err("--timeout takes a number of seconds greater than 0 (at most 86400)".into()),
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
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub runs: u32,
    pub scale: f64,
    pub timeout_s: f64,
    pub backend_args: Vec<String>,
    pub cores: usize,
    pub binaries: Vec<String>,
}

/// What the harness itself cost.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HarnessFigures {
    pub wall_s: f64,
    pub backend_runs_wall_s: f64,
    pub overhead_s: f64,
}

/// The `compare` program. Exit codes: 0 when every run succeeded and the backends agree,
/// 1 otherwise, 2 for bad input.
pub fn main() -> ExitCode {
    let started = Instant::now();
    let cli = match CompareCli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => return bad_input(&one_line(&error)),
    };
    let binaries = match locate_binaries(&cli) {
        Ok(binaries) => binaries,
        Err(problem) => return bad_input(&format!("error: {problem}")),
    };
    for path in [&cli.export_json, &cli.export_markdown, &cli.export_html]
        .into_iter()
        .flatten()
    {
        if let Err(problem) = check_export_path(path) {
            return bad_input(&format!("error: {problem}"));
        }
    }
    // Everything both backends are given besides `--json DEMO`: the scale, the demo options,
    // and whatever came after `--`.
    let mut backend_args = vec!["--scale".to_string(), cli.scale.to_string()];
    backend_args.extend(cli.options.to_args());
    backend_args.extend(cli.backend_args.iter().cloned());
    let mut passed_on: Vec<String> = backend_args[2..].to_vec();
    // The start method is an option of processes alone.
    let start_method = cli
        .start
        .map(|method| ["--start".to_string(), method.id().to_string()]);
    let args_of: [Vec<String>; 2] = BACKENDS.map(|backend| match (&start_method, backend) {
        (Some(start), "processes") => [&backend_args[..], &start[..]].concat(),
        _ => backend_args.clone(),
    });
    if let Some(start) = &start_method {
        passed_on.push(format!("processes {}", start.join(" ")));
    }
    for ((backend, binary), args) in BACKENDS.iter().zip(&binaries).zip(&args_of) {
        if let Err(problem) = preflight(backend, binary, args) {
            return bad_input(&problem);
        }
    }

    let demos = if cli.demos.is_empty() {
        DemoId::ALL.to_vec()
    } else {
        cli.demos.clone()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let header = format!(
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
    );
    let style = render::Style {
        colour: std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    say(format!("compare: {header}\n"));
    say(format!("{}\n", render::terminal_header(style)));

    let progress = ProgressBar::new(demos.len() as u64 * u64::from(cli.runs) * 2);
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
            binaries: binaries.iter().map(|b| b.display().to_string()).collect(),
        },
        demos: Vec::new(),
        harness: None,
    };
    let mut export_failed = false;
    for demo in demos {
        let mut runs = Vec::new();
        for index in 0..cli.runs {
            // Alternate which backend goes first, so that drift falls on both.
            let order: [usize; 2] = if index % 2 == 0 { [0, 1] } else { [1, 0] };
            for b in order {
                progress.set_message(format!("{demo} on {} (run {})", BACKENDS[b], index + 1));
                let spec = RunSpec {
                    backend: BACKENDS[b],
                    binary: &binaries[b],
                    demo,
                    args: &args_of[b],
                    timeout: Duration::from_secs_f64(cli.timeout),
                };
                runs.push(measure(&spec, index));
                progress.inc(1);
            }
        }
        let summary = DemoSummary::of(demo, &BACKENDS, &runs);
        let comparison = DemoComparison {
            id: demo.id().to_string(),
            runs,
            summary,
        };
        progress.suspend(|| say(render::terminal_rows(&comparison, style)));
        document.demos.push(comparison);
        // Written after every demo, so that a later failure loses nothing.
        export_failed |= !export(&cli, &header, &document);
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
    say(format!(
        "compare: {} in all; backend runs {}; harness overhead {} ({:.1}%)\n",
        render::time(harness.wall_s),
        render::time(harness.backend_runs_wall_s),
        render::time(harness.overhead_s),
        100.0 * harness.overhead_s / harness.wall_s
    ));
    document.harness = Some(harness);
    export_failed |= !export(&cli, &header, &document);

    let failed = document.demos.iter().any(|d| d.summary.failed);
    if failed || export_failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn bad_input(line: &str) -> ExitCode {
    eprintln!("compare: {line}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// The two backend binaries: as given, or next to this program.
fn locate_binaries(cli: &CompareCli) -> Result<[PathBuf; 2], String> {
    let here = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let pick = |given: &Option<PathBuf>, name: &str| -> Result<PathBuf, String> {
        let path = given.clone().unwrap_or_else(|| here.join(name));
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "the {name} binary {} does not exist (build it with `cargo build --release -p {name}`, as scripts/compare does)",
                path.display()
            ))
        }
    };
    Ok([
        pick(&cli.threads_bin, "threads")?,
        pick(&cli.processes_bin, "processes")?,
    ])
}

fn check_export_path(path: &Path) -> Result<(), String> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if path.file_name().is_none() || path.is_dir() {
        return Err(format!("{} is not a file name", path.display()));
    }
    if !folder.is_dir() {
        return Err(format!(
            "the folder {} for {} does not exist",
            folder.display(),
            path.display()
        ));
    }
    Ok(())
}

/// Asks a backend to check the options it will be given, by running it with `--list`.
fn preflight(backend: &str, binary: &Path, backend_args: &[String]) -> Result<(), String> {
    let output = Command::new(binary)
        .arg("--list")
        .args(backend_args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("error: cannot run {}: {e}", binary.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr.lines().next().unwrap_or("").trim().to_string();
        Err(format!(
            "error: the backend options are refused by {backend}: {line}"
        ))
    }
}

/// Writes every export asked for; says on stderr which could not be written.
fn export(cli: &CompareCli, header: &str, document: &CompareDocument) -> bool {
    let mut ok = true;
    let mut write = |path: &Option<PathBuf>, contents: &dyn Fn() -> String| {
        if let Some(path) = path
            && let Err(error) = write_atomically(path, contents().as_bytes())
        {
            eprintln!("compare: cannot write {}: {error}", path.display());
            ok = false;
        }
    };
    write(&cli.export_json, &|| {
        serde_json::to_string_pretty(document).expect("plain data")
    });
    write(&cli.export_markdown, &|| {
        render::markdown(header, &document.demos)
    });
    write(&cli.export_html, &|| html::page(header, &document.demos));
    ok
}
