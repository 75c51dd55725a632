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

/// Run the tutorial's demos on this backend, narrate them and check each outcome.
#[derive(Parser, Debug, Clone)]
#[command(version, about, long_about = None)]
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

    /// Print one JSON document (DEMOS.md "Machine-readable output") instead of the narration
    #[arg(long)]
    pub json: bool,

    /// Print only the verdict lines, no narration
    #[arg(long, short)]
    pub quiet: bool,

    /// Fault injection for tests: make the first worker of each demo die after its first event
    #[arg(long, value_enum, hide = true)]
    pub fault: Option<Fault>,

    #[command(flatten)]
    pub download: DownloadArgs,
}

/// The options of `download` (notebook §8).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "download")]
pub struct DownloadArgs {
    /// Milliseconds the local image server waits before each image (times --scale)
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency: u64,

    /// Workers sharing the queue of URLs in the concurrent pass
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub workers: u32,

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

/// A fault injected into the first worker of each demo, right after its first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
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

fn parse_demo(name: &str) -> Result<DemoId, String> {
    name.parse()
}

fn parse_scale(text: &str) -> Result<f64, String> {
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
        assert_eq!(DownloadArgs::default().workers, 6);
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
}
