//! The command line both binaries share: same flags, same errors, same exit codes.

use clap::Parser;
use contract::RunSettings;
use contract::demos::DemoId;
use contract::domain::{Fault, StartMethod, WorkerKind};
use contract::settings::{DemoOptions, DownloadArgs};

/// The largest `--scale` accepted: beyond it a default run would take days.
pub const MAX_SCALE: f64 = 100.0;

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

    /// After each demo, print a text timeline of its events: a row per worker, its sleeps,
    /// waits and work as bars, its other events as marks, on one time axis
    #[arg(long, conflicts_with = "json")]
    pub timeline: bool,

    /// Show every figure in the verdict lines, not only the ones each demo exists to measure
    #[arg(long, short)]
    pub verbose: bool,

    /// Make the first worker of each demo die right after its first event, to see what
    /// the backend reports (a killed child; a thread, which cannot be killed alone, panics)
    #[arg(long, value_name = "FAULT", value_enum)]
    pub inject: Option<Fault>,

    /// How a worker process starts: `fork` copies this process; `spawn` starts
    /// this program afresh and sends it its job, as Python's spawn does; `forkserver` asks a
    /// server, forked when the program starts, to fork it and hands it its job [default: fork]
    #[arg(long, value_name = "METHOD", value_enum)]
    pub start: Option<StartMethod>,

    #[command(flatten)]
    pub options: DemoOptions,

    #[command(flatten)]
    pub download: DownloadArgs,

    /// Internal: run the crash demo's round in this process and stream its events as JSON
    /// lines (the threads backend starts a copy of itself this way for abort and kill);
    /// PARENT is the process that started it and watches it
    #[arg(long, value_name = "PARENT", hide = true)]
    pub crash_copy: Option<i32>,
}

/// Parses `args` as the command line of the backend `name`: its `--help` shows only what it
/// accepts. A backend without start methods hides `--start` (and refuses it with one line);
/// one without queue kinds hides `--queue` (which `compare` passes to every backend, and
/// which only chooses between the processes backend's queues).
pub fn parse_for(
    name: &'static str,
    has: OwnOptions,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command().name(name).bin_name(name);
    if !has.start_methods {
        command = command.mut_arg("start", |arg| arg.hide(true));
    }
    if !has.queue_kinds {
        command = command.mut_arg("queue", |arg| arg.hide(true));
    }
    let matches = command.try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// The options only some backends have.
#[derive(Clone, Copy, Debug, Default)]
pub struct OwnOptions {
    /// `--start`: more than one way to start a worker.
    pub start_methods: bool,
    /// `--queue`: more than one place for `queue`'s queues to live.
    pub queue_kinds: bool,
}

/// The `--start` of this program's command line, read before anything else runs (the
/// forkserver must be forked before any thread starts); `None` when it is absent or the
/// command line is bad (the runner then reports it).
pub fn start_method_asked() -> Option<StartMethod> {
    Cli::try_parse().ok().and_then(|cli| cli.start)
}

impl Cli {
    /// What every demo of the run is asked to do.
    pub fn settings(&self) -> RunSettings {
        RunSettings {
            scale: self.scale,
            inject: self.inject,
            start: self.start.unwrap_or_default(),
            options: self.options.clone(),
            download: self.download.clone(),
            crash_copy: self.crash_copy.is_some(),
        }
    }

    /// The demos to run: the ones named, or every demo in catalogue order.
    pub fn selected_demos(&self) -> Vec<DemoId> {
        if self.demos.is_empty() {
            DemoId::ALL.to_vec()
        } else {
            self.demos.clone()
        }
    }

    /// Checks that need the whole command line: a demo named twice, an option beyond the
    /// limit of a demo that runs on workers of this kind, `download`'s options that do not
    /// go together.
    pub fn validate(&self, worker: WorkerKind) -> Result<(), String> {
        for (i, demo) in self.demos.iter().enumerate() {
            if self.demos[..i].contains(demo) {
                return Err(format!("demo '{demo}' is named twice"));
            }
        }
        let demos = self.selected_demos();
        if demos.contains(&DemoId::Download) {
            contract::settings::check_download(&self.options, &self.download)?;
        }
        self.options.check_for(&demos, Some(worker))
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
    use contract::settings::{
        DEFAULT_SEED, DEFAULT_TRIALS, parse_count, parse_prime_limit, parse_seed, parse_trials,
        parse_workers,
    };

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
            cli.validate(WorkerKind::Thread),
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
    fn each_backend_s_help_shows_only_what_it_accepts() {
        let help = |name, has| {
            let error = parse_for(name, has, ["x".into(), "--help".into()]).unwrap_err();
            error.render().to_string()
        };
        let threads = help("threads", OwnOptions::default());
        assert!(!threads.contains("--start"), "{threads}");
        assert!(!threads.contains("--queue"), "{threads}");
        assert!(
            threads.contains("Usage: threads") && threads.contains("--inject"),
            "{threads}"
        );
        let both = OwnOptions {
            start_methods: true,
            queue_kinds: true,
        };
        let processes = help("processes", both);
        assert!(processes.contains("--start <METHOD>"), "{processes}");
        assert!(processes.contains("--queue <KIND>"), "{processes}");
        // Hidden, not gone: threads still refuses --start with its own line (see the
        // runner), and takes the --queue that compare passes to every backend.
        let args = ["x", "--start", "spawn", "--queue", "shared-memory"];
        let cli = parse_for("threads", OwnOptions::default(), args.map(Into::into)).unwrap();
        assert_eq!(cli.start, Some(StartMethod::Spawn));
        assert!(cli.options.queue.is_some());
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
        use contract::demos::DemoId;
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
