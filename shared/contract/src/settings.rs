//! What a run is asked to do: the demo options and `download`'s options, with their bounds,
//! as the shared command line parses them (clap derives) and as a demo reads them.

use crate::demos::download::{self, ImageUrl};
use crate::domain::{CrashFault, WorkerKind};
use crate::images::{DEFAULT_MEAN_KIB, MAX_MEAN_KIB};
use crate::local_server::FaultShare;
use crate::queues::QueueKind;
use clap::{Args, Parser};
use std::path::PathBuf;

/// Exit code for bad input (unknown demo, bad number, unknown flag).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the run was interrupted (Ctrl-C), as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The largest `--count`: `lock` packs the number of updates (4 × count) into 32 bits.
pub const MAX_COUNT: u64 = 100_000_000;
/// `--seed`: the seed of `event`'s draws; with 4 the third draw is a 13, as in the notebook.
pub const DEFAULT_SEED: u64 = 4;
/// `--trials`: timed set→wake-up trials of `event`.
pub const DEFAULT_TRIALS: u32 = 200;
pub const MAX_TRIALS: u32 = 1_000_000;

/// The options of `download` (notebook §8).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "download")]
pub struct DownloadArgs {
    /// Milliseconds the local image server waits before each image (times --scale)
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency: u64,

    /// Folder for the images, one subfolder per pass, kept (default: a fresh temporary
    /// folder, removed at the end)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Keep the temporary folder of images and say where it is
    #[arg(long, conflicts_with = "out_dir")]
    pub keep: bool,

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

    /// Serve the local image server over https, with a certificate it makes at its start,
    /// which the demo trusts (plain http is the default)
    #[arg(long, conflicts_with_all = ["base_url", "urls"])]
    pub https: bool,

    /// Also trust the certificate authority (or self-signed certificate) in FILE, PEM, for
    /// an https server of --base-url or --urls
    #[arg(long, value_name = "FILE", value_parser = parse_ca_cert)]
    pub ca_cert: Option<CaCert>,

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
        /// A command line of `download`'s options alone.
        #[derive(Parser)]
        struct OnlyDownload {
            #[command(flatten)]
            download: DownloadArgs,
        }
        OnlyDownload::try_parse_from(["demo"])
            .expect("the defaults parse")
            .download
    }
}

/// The certificates of `--ca-cert FILE`, read and checked when the command line is parsed.
#[derive(Clone, Debug)]
pub struct CaCert {
    pub path: PathBuf,
    /// The file's PEM text, holding one certificate at least.
    pub pem: Vec<u8>,
}

pub fn parse_ca_cert(text: &str) -> Result<CaCert, String> {
    let path = PathBuf::from(text);
    let pem = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    download::certificates_in(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(CaCert { path, pem })
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

    /// join: sleepers started [default: 5]; custom-init: numbered workers [default: 10];
    /// cpu: time 1, 2, …, N workers (N at most 64) [default: the number of cores]; download:
    /// workers sharing the queue of URLs in the concurrent pass [default: 6]; spawn: also
    /// start N workers at once, then join them all [default: not measured]. At most 1024, or
    /// 100000 for task workers on join and download
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

    /// spawn: also time the bare start after the parent touched MIB MiB (0 to 4096)
    /// [default: 0, 64 and 256 MiB]
    #[arg(long = "touched-mib", value_name = "MIB", value_parser = parse_touched_mib, allow_hyphen_values = true)]
    pub touched_mib: Option<usize>,

    /// channel: measure messages of this size only, in bytes (1 to 1048576; `64KiB`, `1MiB`
    /// also taken) [default: 8 B and 64 KiB]
    #[arg(long = "message-size", value_name = "BYTES", value_parser = parse_message_size, allow_hyphen_values = true)]
    pub message_size: Option<usize>,

    /// download: images the local image server serves (or fetched under --base-url): the
    /// tutorial's 14 names, then `<name>-1`, `<name>-2`, … (1 to 10000) [default: 14]
    #[arg(long, value_name = "N", value_parser = parse_images, allow_hyphen_values = true)]
    pub images: Option<usize>,

    /// queue (processes): where the producer's and consumer's queues live: in an `owner`
    /// process asked over channels, or in `shared-memory`; both kinds are timed in every
    /// run [default: owner]
    #[arg(long, value_name = "KIND", value_enum)]
    pub queue: Option<QueueKind>,
}

impl DemoOptions {
    /// Checks the options against the demos that will run with them: a limit that only one
    /// demo has is refused only when that demo runs; a limit that depends on what a worker is
    /// only when `worker` says (`None`: not yet known, only the limits of every kind).
    pub fn check_for(
        &self,
        demos: &[crate::demos::DemoId],
        worker: Option<WorkerKind>,
    ) -> Result<(), String> {
        use crate::demos::{DemoId, cpu};
        let Some(workers) = self.workers else {
            return Ok(());
        };
        if workers > cpu::MAX_WORKERS && demos.contains(&DemoId::Cpu) {
            return Err(format!(
                "cpu times every count of workers from 1 to N: --workers takes at most {} for \
                 cpu (leave cpu out for more)",
                cpu::MAX_WORKERS
            ));
        }
        let Some(worker) = worker else {
            return Ok(());
        };
        let takes_workers = |demo: &DemoId| demo.sweeps().contains(&"workers");
        let beyond = |demo: &DemoId| workers > max_workers(*demo, worker);
        match demos
            .iter()
            .find(|demo| takes_workers(demo) && beyond(demo))
        {
            Some(&demo) => Err(format!(
                "--workers takes at most {} for {demo} on {} workers (task workers go up to \
                 {MAX_TASK_WORKERS})",
                max_workers(demo, worker),
                worker.id(),
            )),
            None => Ok(()),
        }
    }

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
        push("--queue", self.queue.map(|v| v.id().to_string()));
        push("--touched-mib", self.touched_mib.map(|v| v.to_string()));
        push("--message-size", self.message_size.map(|v| v.to_string()));
        push("--images", self.images.map(|v| v.to_string()));
        args
    }
}

pub fn parse_prime_limit(text: &str) -> Result<u64, String> {
    match text.trim().replace('_', "").parse::<u64>() {
        Ok(n) if (2..=1_000_000_000).contains(&n) => Ok(n),
        _ => Err("--n takes a whole number from 2 to 1000000000".into()),
    }
}

/// The most thread or process workers a demo starts at once (`join`, `download`; `cpu`
/// stops at [`crate::demos::cpu::MAX_WORKERS`]).
pub const MAX_WORKERS: usize = 1024;

/// The most task workers `join` and `download` start at once: a task has no stack of its own,
/// only its future's state, so a hundred thousand fit where a thousand threads would not.
pub const MAX_TASK_WORKERS: usize = 100_000;

/// The most workers `demo` starts at once on workers of this kind.
pub fn max_workers(demo: crate::demos::DemoId, worker: WorkerKind) -> usize {
    use crate::demos::{DemoId, cpu};
    match (demo, worker) {
        (DemoId::Cpu, _) => cpu::MAX_WORKERS,
        (DemoId::Join | DemoId::Download, WorkerKind::Task) => MAX_TASK_WORKERS,
        _ => MAX_WORKERS,
    }
}

/// `--workers` as the command line parses it, up to the largest limit of any kind; the limit
/// of the demo and of the backend's kind of worker is [`DemoOptions::check_for`]'s.
pub fn parse_workers(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_TASK_WORKERS).contains(&n) => Ok(n),
        _ => Err(format!(
            "--workers takes a whole number from 1 to {MAX_TASK_WORKERS}"
        )),
    }
}

/// The most memory `spawn` touches before timing a fork (`--touched-mib`).
pub const MAX_TOUCHED_MIB: usize = 4096;

pub fn parse_touched_mib(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n <= MAX_TOUCHED_MIB => Ok(n),
        _ => Err(format!(
            "--touched-mib takes a whole number of MiB from 0 to {MAX_TOUCHED_MIB}"
        )),
    }
}

/// The largest message `channel` sends (`--message-size`).
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Bytes, as a plain number or with a `KiB`/`MiB` (or `K`/`M`) suffix: `8`, `64KiB`, `1MiB`.
pub fn parse_message_size(text: &str) -> Result<usize, String> {
    let error = || {
        format!("--message-size takes bytes from 1 to {MAX_MESSAGE_BYTES} (`64KiB` and `1MiB` too)")
    };
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => lower.split_at(at),
        None => (lower.as_str(), ""),
    };
    let unit = match unit.trim() {
        "" | "b" => 1,
        "k" | "kib" => 1024,
        "m" | "mib" => 1 << 20,
        _ => return Err(error()),
    };
    match digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
    {
        Some(bytes) if (1..=MAX_MESSAGE_BYTES).contains(&bytes) => Ok(bytes),
        _ => Err(error()),
    }
}

/// `--images`: how many images `download` fetches, from 1 to [`crate::images::MAX_IMAGES`].
pub fn parse_images(text: &str) -> Result<usize, String> {
    crate::local_server::parse_image_count(text)
}

/// Checks `download`'s options against one another: `--images` counts the images of the
/// local server or of `--base-url`, never of a `--urls` list; the local server's set must
/// fit in its bound ([`crate::images::check_set`]).
pub fn check_download(options: &DemoOptions, download: &DownloadArgs) -> Result<(), String> {
    if let Some(list) = &download.urls {
        return match options.images {
            Some(_) => Err(format!(
                "--images counts the images of the local server or of --base-url; the list \
                 {} names its own",
                list.path.display()
            )),
            None => Ok(()),
        };
    }
    if download.base_url.is_some() {
        return Ok(());
    }
    let images = options.images.unwrap_or(download::IMAGES);
    crate::images::check_set(images, download.image_kib)
}

pub fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().replace('_', "").parse::<u64>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
        _ => Err(format!(
            "--count takes a whole number from 1 to {MAX_COUNT}"
        )),
    }
}

pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("--seed takes a whole number from 0 to {}", u64::MAX))
}

pub fn parse_trials(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(value) if (1..=MAX_TRIALS).contains(&value) => Ok(value),
        _ => Err(format!(
            "--trials takes a whole number from 1 to {MAX_TRIALS}"
        )),
    }
}

pub fn parse_base_url(text: &str) -> Result<String, String> {
    download::parse_http_url(text).map(|url| url.to_string())
}

pub fn parse_url_list(text: &str) -> Result<UrlList, String> {
    let path = PathBuf::from(text);
    let urls = download::read_url_list(&path)?;
    Ok(UrlList { path, urls })
}

pub fn parse_timeout(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "--timeout takes seconds, e.g. 2.5".to_string())?;
    if !value.is_finite() || value <= 0.0 || value > 3600.0 {
        return Err("--timeout must be more than 0 and at most 3600 seconds".to_string());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::DemoId;

    #[test]
    fn workers_beyond_a_thousand_are_for_task_workers_on_join_and_download_only() {
        assert_eq!(parse_workers("100000"), Ok(100_000));
        assert!(parse_workers("100001").is_err() && parse_workers("0").is_err());
        let options = DemoOptions {
            workers: Some(10_000),
            ..DemoOptions::default()
        };
        let (join, download) = ([DemoId::Join], [DemoId::Download]);
        assert_eq!(options.check_for(&join, Some(WorkerKind::Task)), Ok(()));
        assert_eq!(options.check_for(&download, Some(WorkerKind::Task)), Ok(()));
        assert_eq!(
            options.check_for(&join, None),
            Ok(()),
            "the kind is not known yet"
        );
        for worker in [WorkerKind::Thread, WorkerKind::Process] {
            let refused = options.check_for(&join, Some(worker)).unwrap_err();
            assert!(
                refused.starts_with("--workers takes at most 1024 for join on "),
                "{refused}"
            );
            assert!(!refused.contains('\n'), "one line: {refused}");
        }
        let at_the_limit = DemoOptions {
            workers: Some(MAX_WORKERS),
            ..DemoOptions::default()
        };
        assert_eq!(
            at_the_limit.check_for(&join, Some(WorkerKind::Process)),
            Ok(())
        );
        // cpu times every count from 1 to N, whatever the workers are.
        let many = DemoOptions {
            workers: Some(65),
            ..DemoOptions::default()
        };
        assert!(
            many.check_for(&[DemoId::Cpu], Some(WorkerKind::Task))
                .is_err()
        );
        assert!(many.check_for(&[DemoId::Cpu], None).is_err());
        // A demo that takes no --workers is not held to a limit of it.
        assert_eq!(
            options.check_for(&[DemoId::Start], Some(WorkerKind::Thread)),
            Ok(())
        );
    }

    #[test]
    fn message_sizes_take_bytes_and_binary_units() {
        assert_eq!(parse_message_size("8"), Ok(8));
        assert_eq!(parse_message_size("64KiB"), Ok(65536));
        assert_eq!(parse_message_size("64k"), Ok(65536));
        assert_eq!(parse_message_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_message_size(" 512 B "), Ok(512));
        for bad in [
            "0",
            "2MiB",
            "1GiB",
            "-8",
            "eight",
            "8 bytes",
            "99999999999999999999",
        ] {
            assert!(parse_message_size(bad).is_err(), "{bad} was taken");
        }
    }

    #[test]
    fn touched_memory_is_bounded() {
        assert_eq!(parse_touched_mib("0"), Ok(0));
        assert_eq!(parse_touched_mib("1024"), Ok(1024));
        assert!(parse_touched_mib("4097").is_err());
        assert!(parse_touched_mib("-1").is_err());
    }
}
