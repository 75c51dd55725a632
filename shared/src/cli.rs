//! The command line both binaries share: same flags, same errors, same exit codes.

use crate::catalogue::DemoId;
use crate::download::{self, ImageUrl};
use crate::image_server::FaultShare;
use crate::images::{DEFAULT_MEAN_KIB, MAX_MEAN_KIB};
use clap::{Args, Parser, ValueEnum};
use std::fmt;
use std::path::PathBuf;

/// Exit code for bad input (unknown demo, bad number, unknown flag).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the run was interrupted (Ctrl-C), as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The largest `--scale` accepted: beyond it a default run would take days.
pub const MAX_SCALE: f64 = 100.0;

/// The largest `--count`: `lock` packs the number of updates (4 × count) into 32 bits.
pub const MAX_COUNT: u64 = 100_000_000;
/// `--seed`: the seed of `event`'s draws; with 4 the third draw is a 13, as in the notebook.
pub const DEFAULT_SEED: u64 = 4;
/// `--trials`: timed set→wake-up trials of `event`.
pub const DEFAULT_TRIALS: u32 = 200;
pub const MAX_TRIALS: u32 = 1_000_000;

/// Run the tutorial's demos on this backend, narrate them and check each outcome.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Cli {
    /// Demos to run, in the order given (default: every demo, in catalogue order)
    #[arg(value_name = "DEMO", value_parser = parse_demo)]
    pub demos: Vec<DemoId>,

    /// Print the demo ids with their descriptions and parameters, then exit
    #[arg(long)]
    pub list: bool,

    /// Multiply every sleep by F (tests use 0.01)
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = parse_scale, allow_hyphen_values = true)]
    pub scale: f64,

    /// Print one JSON document (per demo: id, ok, outcome, wall time, events, figures) instead of the narration
    #[arg(long)]
    pub json: bool,

    /// Print only the verdict lines, no narration
    #[arg(long, short)]
    pub quiet: bool,

    /// Make the first worker of each demo die right after its first event, to see what
    /// the backend reports (a killed child; a thread, which cannot be killed alone, panics)
    #[arg(long, value_name = "FAULT", value_enum)]
    pub inject: Option<Fault>,

    /// processes: how a worker process starts: `fork` copies this process; `spawn` starts
    /// this program afresh and sends it its job, as Python's spawn does [default: fork]
    #[arg(long, value_name = "METHOD", value_enum)]
    pub start: Option<StartMethod>,

    #[command(flatten)]
    pub options: DemoOptions,

    #[command(flatten)]
    pub download: DownloadArgs,

    /// Internal: run the crash demo's round in this process and stream its events as JSON
    /// lines (the threads backend starts a copy of itself this way for abort and kill)
    #[arg(long, hide = true)]
    pub crash_copy: bool,
}

/// The options of `download` (notebook §8).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "download")]
pub struct DownloadArgs {
    /// Milliseconds the local image server waits before each image (times --scale)
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency: u64,

    /// Folder for the images, one subfolder per pass (default: a fresh temporary folder)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Fetch <URL>/<name>.png for the 14 names from this server instead of the local one
    #[arg(long, value_name = "URL", value_parser = parse_base_url, conflicts_with = "urls")]
    pub base_url: Option<String>,

    /// Fetch the URLs listed in FILE, one a line (# starts a comment line)
    #[arg(long, value_name = "FILE", value_parser = parse_url_list)]
    pub urls: Option<UrlList>,

    /// Seconds one request may take, body included
    #[arg(long, value_name = "S", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,

    /// Further attempts after a 5xx answer, a reset, a cut body or a timeout
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,

    /// Refuse an image larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_bytes: u64,

    /// Mean image size of the local server in KiB (the sizes range from 2/15 to 28/15 of it)
    #[arg(long, value_name = "KIB", default_value_t = DEFAULT_MEAN_KIB, value_parser = clap::value_parser!(u32).range(1..=MAX_MEAN_KIB as i64))]
    pub image_kib: u32,

    /// Also time one client fetching every URL into memory in one worker (the MB/s reference)
    #[arg(long)]
    pub baseline: bool,

    /// Fault injection for tests: a fault of the local server, KIND:SHARE (500, cut, stall)
    #[arg(long, value_name = "KIND:SHARE", hide = true)]
    pub server_fault: Vec<FaultShare>,

    /// Fault injection for tests: a faulty image fails one request in N
    #[arg(long, value_name = "N", default_value_t = 2, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub server_fault_every: u64,
}

impl Default for DownloadArgs {
    /// The defaults of the command line.
    fn default() -> Self {
        Cli::try_parse_from(["demo"])
            .expect("the defaults parse")
            .download
    }
}

/// The URLs of `--urls FILE`, read and checked when the command line is parsed.
#[derive(Clone, Debug)]
pub struct UrlList {
    pub path: PathBuf,
    pub urls: Vec<ImageUrl>,
}

/// Options of particular demos. Each falls back to its demo's default (shown by `--list`);
/// `compare` takes the same options and passes them to both backends.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct DemoOptions {
    /// cpu: count the primes below N [default: 2000000]
    #[arg(long, value_name = "N", value_parser = parse_prime_limit, allow_hyphen_values = true)]
    pub n: Option<u64>,

    /// cpu: time 1, 2, …, N workers [default: the number of cores]; download: workers
    /// sharing the queue of URLs in the concurrent pass [default: 6]
    #[arg(long, value_name = "N", value_parser = parse_workers, allow_hyphen_values = true)]
    pub workers: Option<usize>,

    /// lock: updates per worker; queue: put+get pairs timed; spawn: workers started;
    /// channel: messages sent [defaults: see --list]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub count: Option<u64>,

    /// event: seed of the numbers drawn, the same in both backends [default: 4]
    #[arg(long, value_name = "N", value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: Option<u64>,

    /// event: timed set→wake-up trials, for the latency's median and p99 [default: 200]
    #[arg(long, value_name = "N", value_parser = parse_trials, allow_hyphen_values = true)]
    pub trials: Option<u32>,

    /// crash: how the doomed worker dies [default: each in turn]
    #[arg(long, value_name = "FAULT", value_enum)]
    pub fault: Option<CrashFault>,
}

impl DemoOptions {
    /// The options as command-line arguments, for passing them on to a backend.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut push = |flag: &str, value: Option<String>| {
            if let Some(value) = value {
                args.push(flag.to_string());
                args.push(value);
            }
        };
        push("--n", self.n.map(|v| v.to_string()));
        push("--workers", self.workers.map(|v| v.to_string()));
        push("--count", self.count.map(|v| v.to_string()));
        push("--seed", self.seed.map(|v| v.to_string()));
        push("--trials", self.trials.map(|v| v.to_string()));
        push("--fault", self.fault.map(|v| v.id().to_string()));
        args
    }
}

/// How the `crash` demo's doomed worker dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrashFault {
    /// The worker panics: unwinding ends it, and its join sees the panic.
    Panic,
    /// The worker calls `abort()`: SIGABRT, for the whole process it is in.
    Abort,
    /// The worker is sent SIGKILL: for the whole process it is in.
    Kill,
}

impl CrashFault {
    pub const ALL: [CrashFault; 3] = [CrashFault::Panic, CrashFault::Abort, CrashFault::Kill];

    pub fn id(self) -> &'static str {
        match self {
            CrashFault::Panic => "panic",
            CrashFault::Abort => "abort",
            CrashFault::Kill => "kill",
        }
    }
}

/// How `processes` starts a worker process (Python's multiprocessing start methods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum StartMethod {
    /// `fork()`: the child is a copy of the parent and runs its job at once; the parent
    /// must be single-threaded.
    #[default]
    Fork,
    /// `fork()` then `exec()` of this program: a fresh process that receives its job as
    /// data over an ipc-channel; safe from a multi-threaded parent, and dearer.
    Spawn,
}

impl StartMethod {
    pub fn id(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
        }
    }
}

/// A fault `--inject`ed into the first worker of each demo, right after its first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Fault {
    /// processes: the child sends itself SIGKILL. threads: a thread cannot be killed on
    /// its own (a signal would take the whole process), so it panics instead.
    KillWorker,
    /// Both backends: the worker panics.
    PanicWorker,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::KillWorker => "kill-worker",
            Fault::PanicWorker => "panic-worker",
        })
    }
}

impl Cli {
    /// The demos to run: the ones named, or every demo in catalogue order.
    pub fn selected_demos(&self) -> Vec<DemoId> {
        if self.demos.is_empty() {
            DemoId::ALL.to_vec()
        } else {
            self.demos.clone()
        }
    }

    /// Checks that need the whole command line: a demo named twice.
    pub fn validate(&self) -> Result<(), String> {
        for (i, demo) in self.demos.iter().enumerate() {
            if self.demos[..i].contains(demo) {
                return Err(format!("demo '{demo}' is named twice"));
            }
        }
        Ok(())
    }
}

/// Parses a demo id, refusing empty and unknown names.
pub fn parse_demo(name: &str) -> Result<DemoId, String> {
    name.parse()
}

/// Parses `--scale`: a finite number greater than 0, at most [`MAX_SCALE`].
pub fn parse_scale(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "--scale takes a number, e.g. 0.01".to_string())?;
    if !value.is_finite() || value <= 0.0 {
        return Err("--scale must be a finite number greater than 0".to_string());
    }
    if value > MAX_SCALE {
        return Err(format!("--scale must be at most {MAX_SCALE}"));
    }
    Ok(value)
}

fn parse_prime_limit(text: &str) -> Result<u64, String> {
    match text.trim().replace('_', "").parse::<u64>() {
        Ok(n) if (2..=1_000_000_000).contains(&n) => Ok(n),
        _ => Err("--n takes a whole number from 2 to 1000000000".into()),
    }
}

fn parse_workers(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err("--workers takes a whole number from 1 to 64".into()),
    }
}

fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().replace('_', "").parse::<u64>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
        _ => Err(format!(
            "--count takes a whole number from 1 to {MAX_COUNT}"
        )),
    }
}

fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("--seed takes a whole number from 0 to {}", u64::MAX))
}

fn parse_trials(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(value) if (1..=MAX_TRIALS).contains(&value) => Ok(value),
        _ => Err(format!(
            "--trials takes a whole number from 1 to {MAX_TRIALS}"
        )),
    }
}

fn parse_base_url(text: &str) -> Result<String, String> {
    download::parse_http_url(text).map(|url| url.to_string())
}

fn parse_url_list(text: &str) -> Result<UrlList, String> {
    let path = PathBuf::from(text);
    let urls = download::read_url_list(&path)?;
    Ok(UrlList { path, urls })
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "--timeout takes seconds, e.g. 2.5".to_string())?;
    if !value.is_finite() || value <= 0.0 || value > 3600.0 {
        return Err("--timeout must be more than 0 and at most 3600 seconds".to_string());
    }
    Ok(value)
}

/// Reduces a clap error to the one line that names the problem, e.g.
/// `error: invalid value 'x' for '--scale <F>': --scale takes a number, e.g. 0.01`.
pub fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    rendered
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("error: bad command line")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_must_be_finite_and_positive() {
        assert_eq!(parse_scale("0.01"), Ok(0.01));
        for bad in ["0", "-1", "nan", "inf", "x", "", "1000"] {
            assert!(parse_scale(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn demo_options_are_bounded_and_round_trip_as_arguments() {
        assert_eq!(parse_prime_limit("2_000_000"), Ok(2_000_000));
        assert!(
            parse_prime_limit("1").is_err()
                && parse_workers("0").is_err()
                && parse_count("-5").is_err()
        );
        let cli = Cli::try_parse_from([
            "threads",
            "--n",
            "1000",
            "--workers",
            "2",
            "--count",
            "7",
            "--fault",
            "abort",
        ])
        .unwrap();
        let again = Cli::try_parse_from(
            std::iter::once("threads".to_string()).chain(cli.options.to_args()),
        )
        .unwrap();
        assert_eq!(again.options, cli.options);
    }

    #[test]
    fn demo_names_are_checked() {
        assert_eq!(parse_demo("run-hooks"), Ok(DemoId::RunHooks));
        assert_eq!(parse_demo(""), Err("empty demo name".to_string()));
        assert!(
            parse_demo("joins")
                .unwrap_err()
                .contains("unknown demo 'joins'")
        );
    }

    #[test]
    fn a_demo_named_twice_is_refused() {
        let cli = Cli::try_parse_from(["threads", "start", "join", "start"]).unwrap();
        assert_eq!(
            cli.validate(),
            Err("demo 'start' is named twice".to_string())
        );
    }

    #[test]
    fn download_urls_are_checked_on_the_command_line() {
        let ok = Cli::try_parse_from(["threads", "--base-url", "http://127.0.0.1:9/img"]).unwrap();
        assert_eq!(
            ok.download.base_url.as_deref(),
            Some("http://127.0.0.1:9/img")
        );
        for bad in ["ftp://h/x", "nonsense", "http://"] {
            let error = Cli::try_parse_from(["threads", "--base-url", bad]).unwrap_err();
            assert!(one_line(&error).contains("--base-url"), "{bad}");
        }
        let error = Cli::try_parse_from(["threads", "--urls", "/no/such/file"]).unwrap_err();
        assert!(one_line(&error).contains("cannot read /no/such/file"));
        assert_eq!(DownloadArgs::default().latency, 100);
    }

    #[test]
    fn clap_errors_become_one_line() {
        let error = Cli::try_parse_from(["threads", "--bogus"]).unwrap_err();
        let line = one_line(&error);
        assert!(
            line.starts_with("error:") && line.contains("--bogus"),
            "{line}"
        );
    }

    #[test]
    fn counts_seeds_and_trials_are_checked() {
        assert_eq!(parse_count("1000"), Ok(1000));
        for bad in ["0", "-1", "1.5", "x", "", "100000001"] {
            assert!(parse_count(bad).is_err(), "--count {bad} was accepted");
        }
        assert_eq!(parse_seed("0"), Ok(0));
        for bad in ["-1", "x", ""] {
            assert!(parse_seed(bad).is_err(), "--seed {bad} was accepted");
        }
        assert_eq!(parse_trials("10"), Ok(10));
        for bad in ["0", "-3", "x", "1000001"] {
            assert!(parse_trials(bad).is_err(), "--trials {bad} was accepted");
        }
    }

    #[test]
    fn listed_defaults_are_the_real_ones() {
        use crate::catalogue::DemoId;
        let default_of = |demo: DemoId, name: &str| {
            demo.params()
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.default)
                .unwrap()
        };
        for demo in [DemoId::Lock, DemoId::Queue, DemoId::Spawn, DemoId::Channel] {
            let count = demo
                .default_count()
                .expect("a demo with --count")
                .to_string();
            assert_eq!(default_of(demo, "count"), count, "{demo}");
        }
        assert_eq!(default_of(DemoId::Event, "seed"), DEFAULT_SEED.to_string());
        assert_eq!(
            default_of(DemoId::Event, "trials"),
            DEFAULT_TRIALS.to_string()
        );
    }
}
