//! `download` (notebook §8): 14 images (or `--images N`) fetched one by one, then by six
//! workers from a queue.
//!
//! The work of `download` (notebook §8), written once and called from both backends: which
//! URLs to fetch and under which file names, fetching one image with retries into a file
//! that is whole or absent, and checking what a pass left in its folder.
//!
//! What differs between the backends is only who runs [`fetch_one`] and how the next URL
//! reaches it; see `threads/src/demos/download.rs` and `processes/src/demos/download.rs`.

use super::prelude::*;
use crate::files::PendingFile;
use crate::job::Job;
use crate::local_server::{LocalImageServer, ServedManifest, ServerArgs};
use crate::run::{DemoError, DemoRun};

use reqwest::Url;

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use crate::images::{self, ManifestEntry};

/// The catalogue's row of `download`.
pub const ROW: Row = Row {
    id: "download",
    section: "§8",
    description: "download 14 images one by one, then with a queue of URLs shared by workers",
    params: &[
        Param { name: "workers", default: "6" },
        Param { name: "images", default: "14" },
        Param { name: "latency", default: "100 ms" },
    ],
    ideal_wall_s: ideal_wall_s(IMAGES, WORKERS, LATENCY_S),
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "sequential_wall_s", label: "one by one", better: Better::Lower },
        Headline { key: "concurrent_wall_s", label: "workers sharing a queue", better: Better::Lower },
        Headline { key: "concurrent_mb_per_s", label: "concurrent throughput", better: Better::Higher },
    ],
    check: check_json::<DownloadOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["workers", "images", "scale"];

/// The tutorial's image count (see `images::NAMES`), the default of `--images`.
pub const IMAGES: usize = crate::images::NAMES.len();
pub const WORKERS: usize = 6;
/// The local server's default latency per request, in notebook seconds.
pub const LATENCY_S: f64 = 0.1;
/// The wait before the first retry, in notebook seconds (doubled for each further one).
pub const BACKOFF_S: f64 = 0.2;
/// The one worker of the sequential pass.
pub const SEQUENTIAL_WORKER: &str = "seq";
/// The one worker of the `--baseline` reference loop.
pub const BASELINE_WORKER: &str = "baseline";

/// Workers of the concurrent pass are `t0`, `t1`, …
pub fn worker_name(index: usize) -> String {
    format!("t{index}")
}

/// Sequential, one latency per image: `images × latency`.
pub const fn ideal_sequential_s(images: usize, latency_s: f64) -> f64 {
    images as f64 * latency_s
}

/// Concurrent, `workers` requests at a time: `⌈images / workers⌉ × latency`.
pub const fn ideal_concurrent_s(images: usize, workers: usize, latency_s: f64) -> f64 {
    let workers = if workers == 0 { 1 } else { workers };
    images.div_ceil(workers) as f64 * latency_s
}

/// An event as two correct runs must agree on it: the queue's workers are not named, since
/// which worker fetches which image is the scheduler's choice; only what was done is compared.
/// Nor is their `ready`: a thread or a process says it once per worker of `--workers`, a task
/// once per URL (tasks start one task per URL, and `--workers` is the number of permits).
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    if event.what == KEPT {
        return None;
    }
    let mut key = event.key();
    if event.worker != MAIN && event.worker != SEQUENTIAL_WORKER {
        if event.what == READY {
            return None;
        }
        key.0 = "a worker".to_string();
    }
    Some(key)
}

/// A worker's first event: its client is built (or, for a task, it runs) and it fetches next.
pub const READY: &str = "ready";

/// The main flow's last event when the images stay (`--out-dir`, `--keep`): where they are.
/// Its folder differs from run to run: not compared.
pub const KEPT: &str = "images kept in";
/// The main flow's last event when the temporary folder is removed.
pub const REMOVED: &str = "temporary folder of images removed";

pub const fn ideal_wall_s(images: usize, workers: usize, latency_s: f64) -> f64 {
    ideal_sequential_s(images, latency_s) + ideal_concurrent_s(images, workers, latency_s)
}

/// `download`: what each pass saved, per URL, and what it should have saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadOutcome {
    /// The server's manifest (name, length, sha256), when it serves one; without it the
    /// two passes are checked against each other.
    pub expected: Option<Vec<ManifestEntry>>,
    pub sequential: PassOutcome,
    pub concurrent: PassOutcome,
}

/// One pass of `download`: every URL, in the order given, with what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassOutcome {
    pub images: Vec<ImageResult>,
    /// Files in the pass's folder that are not a saved image (a partial file would be one).
    pub stray_files: Vec<String>,
}

/// One URL of a pass: the file it is saved as, and whether it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageResult {
    /// `<name>.png`, from the URL's last path segment.
    pub name: String,
    pub fetched: Fetched,
}

/// Saved whole (the bytes on disk, as the parent read them back) or failed, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched {
    Saved { length: u64, sha256: String },
    Failed { reason: String },
}

impl PassOutcome {
    fn check(&self, pass: &str) -> Result<(), String> {
        let failures: Vec<String> = self
            .images
            .iter()
            .filter_map(|image| match &image.fetched {
                Fetched::Failed { reason } => Some(format!("{} failed: {reason}", image.name)),
                Fetched::Saved { .. } => None,
            })
            .collect();
        if !failures.is_empty() {
            return Err(format!(
                "{pass}: {} of {} failed: {}",
                failures.len(),
                self.images.len(),
                failures.join("; ")
            ));
        }
        if !self.stray_files.is_empty() {
            return Err(format!(
                "{pass}: stray files in the folder: {:?}",
                self.stray_files
            ));
        }
        Ok(())
    }

    fn saved(&self) -> Vec<(String, u64, String)> {
        self.images
            .iter()
            .filter_map(|image| match &image.fetched {
                Fetched::Saved { length, sha256 } => {
                    Some((image.name.clone(), *length, sha256.clone()))
                }
                Fetched::Failed { .. } => None,
            })
            .collect()
    }
}

impl Outcome for DownloadOutcome {
    fn check(&self) -> Result<(), String> {
        self.sequential.check("sequential")?;
        self.concurrent.check("concurrent")?;
        let expected: Vec<(String, u64, String)> = match &self.expected {
            Some(manifest) => manifest
                .iter()
                .map(|e| (e.name.clone(), e.length, e.sha256.clone()))
                .collect(),
            None => self.sequential.saved(),
        };
        for (pass, outcome) in [
            ("sequential", &self.sequential),
            ("concurrent", &self.concurrent),
        ] {
            if self.expected.is_none() && pass == "sequential" {
                continue;
            }
            let saved = outcome.saved();
            if saved != expected {
                let against = if self.expected.is_some() {
                    "the manifest"
                } else {
                    "the sequential pass"
                };
                let differing: Vec<&str> = saved
                    .iter()
                    .zip(&expected)
                    .filter(|(s, e)| s != e)
                    .map(|(s, _)| s.0.as_str())
                    .collect();
                return Err(format!(
                    "{pass}: {} files differ from {against} (lengths {} vs {}): {differing:?}",
                    differing.len().max(saved.len().abs_diff(expected.len())),
                    saved.len(),
                    expected.len()
                ));
            }
        }
        Ok(())
    }
}

/// One URL to fetch, with the file name it is saved under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    /// `<name>.png`, checked by [`file_name_of`].
    pub file_name: String,
}

impl ImageUrl {
    /// Parses an http(s) URL and derives its file name; the error is one line for the user.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = parse_http_url(text)?;
        let file_name = file_name_of(&url)?;
        Ok(ImageUrl {
            url: url.to_string(),
            file_name,
        })
    }
}

/// Parses `text` as an absolute http or https URL with a host.
pub fn parse_http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("'{text}' is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "'{text}' has scheme '{other}': only http and https are fetched"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{text}' names no host"));
    }
    Ok(url)
}

/// The file an image URL is saved as: its last path segment, percent-decoded, with `.png`
/// added unless it ends so. Refused: nothing left, `..`, a slash or backslash, a leading dot,
/// a control character: the name must stay a plain file inside the output folder.
pub fn file_name_of(url: &Url) -> Result<String, String> {
    let segment = url
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or("");
    let decoded = percent_decode(segment);
    let stem = decoded.strip_suffix(".png").unwrap_or(&decoded);
    let refuse = |why: &str| Err(format!("'{url}': refused file name '{decoded}' ({why})"));
    if stem.is_empty() {
        return refuse("nothing left");
    }
    if decoded.contains("..") {
        return refuse("it contains '..'");
    }
    if decoded.contains('/') || decoded.contains('\\') {
        return refuse("it contains a slash");
    }
    if decoded.starts_with('.') || decoded.chars().any(char::is_control) {
        return refuse("a leading dot or a control character");
    }
    Ok(format!("{stem}.png"))
}

/// `%2f` → `/` and so on; a malformed escape stays as it is. Bytes that are not UTF-8
/// become U+FFFD.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The first `count` images under `base`: `<base>/<name>.png`, the tutorial's 14 names
/// first, then `<name>-1`, `<name>-2`, … ([`images::name_of`]).
pub fn urls_under(base: &str, count: usize) -> Vec<ImageUrl> {
    let base = base.trim_end_matches('/');
    (0..count)
        .map(images::name_of)
        .map(|name| ImageUrl {
            url: format!("{base}/{name}.png"),
            file_name: format!("{name}.png"),
        })
        .collect()
}

/// Reads a URL list: one URL a line, blank lines and `#` comments skipped. Every problem
/// is one line naming the file and the line.
pub fn read_url_list(path: &Path) -> Result<Vec<ImageUrl>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut urls: Vec<ImageUrl> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{} line {}", path.display(), number + 1);
        let url = ImageUrl::parse(line).map_err(|e| format!("{at}: {e}"))?;
        if urls.iter().any(|u| u.file_name == url.file_name) {
            return Err(format!(
                "{at}: a second URL saved as {}: file names must differ",
                url.file_name
            ));
        }
        urls.push(url);
    }
    if urls.is_empty() {
        return Err(format!("{} holds no URL", path.display()));
    }
    Ok(urls)
}

/// How every fetch behaves: the same for every worker of both backends.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchSettings {
    /// For the whole of one request, body included.
    pub timeout: Duration,
    /// Further attempts after a 5xx, a reset, a cut body or a timeout.
    pub retries: u32,
    /// The wait before the first retry; doubled before each further one.
    pub backoff: Duration,
    /// Larger bodies are refused, and not retried.
    pub max_bytes: u64,
    /// Ignore `HTTP_PROXY` and friends (for the local server, which is on this machine).
    pub direct: bool,
    /// Certificates (PEM) to trust: the local server's own, made at its start (`--https`),
    /// and those of `--ca-cert`.
    #[serde(default)]
    pub trusted_pem: Vec<u8>,
    /// Trust the system's certificate authorities too: only for an https server other than
    /// the local one. Loading them costs milliseconds per client, and every worker makes one.
    #[serde(default)]
    pub system_roots: bool,
}

impl FetchSettings {
    /// A blocking client. It runs its own thread with an async runtime inside, so it is
    /// made by the worker that uses it (after the fork, in `processes`) and never shared.
    pub fn client(&self) -> Result<reqwest::blocking::Client, String> {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout);
        if self.direct {
            builder = builder.no_proxy();
        }
        let trusted = match self.trusted_pem.is_empty() {
            true => Vec::new(),
            false => certificates_in(&self.trusted_pem)?,
        };
        builder = match self.system_roots {
            true => builder.tls_certs_merge(trusted),
            false => builder.tls_certs_only(trusted),
        };
        builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {}", root_cause(&e)))
    }

    /// An async client, for workers that are tasks: one client serves every task of a
    /// runtime, its connections polled by the runtime's threads, none of its own.
    pub fn async_client(&self) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout);
        if self.direct {
            builder = builder.no_proxy();
        }
        let trusted = match self.trusted_pem.is_empty() {
            true => Vec::new(),
            false => certificates_in(&self.trusted_pem)?,
        };
        builder = match self.system_roots {
            true => builder.tls_certs_merge(trusted),
            false => builder.tls_certs_only(trusted),
        };
        builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {}", root_cause(&e)))
    }

    /// The wait before retry number `retry` (1 for the first).
    pub fn backoff_before(&self, retry: u32) -> Duration {
        const MAX_BACKOFF: Duration = Duration::from_secs(5);
        self.backoff
            .saturating_mul(1 << retry.saturating_sub(1).min(16))
            .min(MAX_BACKOFF)
    }
}

/// The certificates of a PEM text, or why there are none.
pub fn certificates_in(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certificates = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("not a PEM certificate: {}", root_cause(&e)))?;
    if certificates.is_empty() {
        return Err("no PEM certificate in it (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certificates)
}

/// What one worker reports for one URL: the result and how many requests it took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Download {
    pub image: ImageResult,
    pub attempts: u32,
}

/// Fetches the server's manifest at `<base>/manifest.json`: `None` when the server has none
/// (404: a real server, whose images are then checked pass against pass), an error when the
/// fetch fails or the manifest does not parse (a check against nothing would pass anything).
pub fn fetch_manifest(
    client: &reqwest::blocking::Client,
    base: &str,
) -> Result<Option<Vec<ManifestEntry>>, String> {
    let url = format!("{}/manifest.json", base.trim_end_matches('/'));
    let failed = |e: &dyn std::fmt::Display| format!("the manifest at {url}: {e}");
    let response = client
        .get(&url)
        .send()
        .map_err(|e| failed(&root_cause(&e)))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let response = response.error_for_status().map_err(|e| failed(&e))?;
    let body = response.bytes().map_err(|e| failed(&root_cause(&e)))?;
    let manifest: ServedManifest = serde_json::from_slice(&body).map_err(|e| failed(&e))?;
    Ok(Some(manifest.images))
}

/// Fetches one image into `folder`, retrying as `settings` say, and tells `out` what
/// happened: `retry` before each retry, then `saved` or `failed`.
pub fn fetch_one(
    out: &dyn EventSink,
    client: &reqwest::blocking::Client,
    url: &ImageUrl,
    folder: &Path,
    settings: &FetchSettings,
) -> Download {
    let mut attempt = 1;
    loop {
        let result = try_once(client, url, folder, settings);
        match after_attempt(out, url, settings, attempt, result) {
            AfterAttempt::Done(download) => return download,
            AfterAttempt::RetryAfter(backoff) => std::thread::sleep(backoff),
        }
        attempt += 1;
    }
}

/// What one attempt of a fetch leaves to do: nothing more (the download, saved or failed),
/// or a retry after a backoff.
pub enum AfterAttempt {
    Done(Download),
    RetryAfter(Duration),
}

/// Judges attempt `attempt` (from 1) of fetching `url` by its result, as `settings` allow
/// retries, and tells `out`: `saved`, `retry` before a retry, or `failed`. The one rule of
/// every backend's fetch loop; each waits out the backoff its own way.
pub fn after_attempt(
    out: &dyn EventSink,
    url: &ImageUrl,
    settings: &FetchSettings,
    attempt: u32,
    result: Result<(u64, String), Failure>,
) -> AfterAttempt {
    let fetched = match result {
        Ok((length, sha256)) => {
            out.emit("saved", Some(format!("{} ({length} B)", url.file_name)));
            Fetched::Saved { length, sha256 }
        }
        Err(Failure::Retryable(reason)) if attempt <= settings.retries => {
            out.emit("retry", Some(format!("{}: {reason}", url.file_name)));
            return AfterAttempt::RetryAfter(settings.backoff_before(attempt));
        }
        Err(Failure::Retryable(reason) | Failure::Final(reason)) => {
            let reason = if attempt > 1 {
                format!("{reason} (after {attempt} attempts)")
            } else {
                reason
            };
            out.emit("failed", Some(format!("{}: {reason}", url.file_name)));
            Fetched::Failed { reason }
        }
    };
    AfterAttempt::Done(Download {
        image: ImageResult {
            name: url.file_name.clone(),
            fetched,
        },
        attempts: attempt,
    })
}

/// Fetches every URL into memory and drops it, with no retries, no files, no events: the
/// reference of "one client looping in one thread". Returns the bytes received.
pub fn fetch_into_memory(client: &reqwest::blocking::Client, urls: &[ImageUrl]) -> u64 {
    urls.iter()
        .filter_map(|url| client.get(&url.url).send().ok()?.bytes().ok())
        .map(|body| body.len() as u64)
        .sum()
}

/// Why an attempt failed, and whether another may succeed.
pub enum Failure {
    /// Another attempt may succeed (a 5xx, a reset, a cut body, a timeout).
    Retryable(String),
    /// Another attempt would fail the same way.
    Final(String),
}

/// One request: on success the file is in `folder`, whole, with its length and sha256.
fn try_once(
    client: &reqwest::blocking::Client,
    url: &ImageUrl,
    folder: &Path,
    settings: &FetchSettings,
) -> Result<(u64, String), Failure> {
    let mut response = client
        .get(&url.url)
        .send()
        .map_err(|e| request_failure(&e, settings))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(Failure::Retryable(format!("HTTP {status}")));
    }
    if !status.is_success() {
        return Err(Failure::Final(format!("HTTP {status}")));
    }
    if let Some(length) = response.content_length()
        && length > settings.max_bytes
    {
        return Err(Failure::Final(too_large(settings)));
    }
    save_whole(folder, &url.file_name, &mut response, settings)
}

/// What a request's error means for the attempt: a timeout, a connection that may come
/// back or a cut answer may be retried; a refused connection or a bad request not.
pub fn request_failure(error: &reqwest::Error, settings: &FetchSettings) -> Failure {
    if error.is_timeout() {
        return Failure::Retryable(timed_out(settings));
    }
    let cause = root_cause(error);
    if error.is_connect() {
        // Nothing listens there: trying again will not change that.
        if refused(error) {
            return Failure::Final(format!("cannot connect: {cause}"));
        }
        return Failure::Retryable(format!("cannot connect: {cause}"));
    }
    if error.is_builder() {
        return Failure::Final(format!("cannot make the request: {cause}"));
    }
    Failure::Retryable(format!("request failed: {cause}"))
}

/// `timed out after 10 s`.
pub fn timed_out(settings: &FetchSettings) -> String {
    format!(
        "timed out after {} s",
        format_seconds(settings.timeout.as_secs_f64())
    )
}

/// `larger than the cap of N bytes`.
pub fn too_large(settings: &FetchSettings) -> String {
    format!("larger than the cap of {} bytes", settings.max_bytes)
}

/// The innermost cause of an error chain: the line that says what really happened.
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        cause = current.source();
    }
    false
}

/// Streams `body` into `folder/file_name` so that the file is whole or absent, never
/// partial: the bytes go into an unnamed file (`O_TMPFILE`), which gets its name only
/// once complete. If the worker dies half-way, the kernel frees the unnamed file and
/// nothing is left. Where the file system has no `O_TMPFILE`, a `.part` name is used
/// and removed on failure.
pub fn save_whole(
    folder: &Path,
    file_name: &str,
    body: &mut dyn Read,
    settings: &FetchSettings,
) -> Result<(u64, String), Failure> {
    let mut saving = WholeFile::create(folder, file_name, settings)?;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(body_failure(&e, settings)),
        };
        saving.write(&buffer[..read])?;
    }
    saving.publish()
}

/// A file being saved whole or not at all, piece by piece as a body arrives: each piece is
/// counted against the cap, hashed and written into an unnamed file, which gets its name only
/// in [`WholeFile::publish`]. Dropped before that, it leaves nothing. [`save_whole`] feeds it
/// from a blocking reader; an awaited fetch feeds it each chunk as it comes.
pub struct WholeFile<'a> {
    pending: PendingFile,
    target: PathBuf,
    file_name: &'a str,
    max_bytes: u64,
    too_large: String,
    hasher: Sha256,
    length: u64,
}

impl<'a> WholeFile<'a> {
    pub fn create(
        folder: &Path,
        file_name: &'a str,
        settings: &FetchSettings,
    ) -> Result<Self, Failure> {
        let pending = PendingFile::create(folder, file_name)
            .map_err(|e| cannot_write(file_name, &e))?;
        Ok(WholeFile {
            pending,
            target: folder.join(file_name),
            file_name,
            max_bytes: settings.max_bytes,
            too_large: too_large(settings),
            hasher: Sha256::new(),
            length: 0,
        })
    }

    /// The next piece of the body; a body beyond the cap is refused, and not retried.
    pub fn write(&mut self, piece: &[u8]) -> Result<(), Failure> {
        self.length += piece.len() as u64;
        if self.length > self.max_bytes {
            return Err(Failure::Final(self.too_large.clone()));
        }
        self.hasher.update(piece);
        (self.pending.file().write_all(piece)).map_err(|e| cannot_write(self.file_name, &e))
    }

    /// Names the whole file; returns its length and sha256.
    pub fn publish(self) -> Result<(u64, String), Failure> {
        (self.pending.publish(&self.target)).map_err(|e| cannot_write(self.file_name, &e))?;
        Ok((self.length, images::hex(&self.hasher.finalize())))
    }
}

fn cannot_write(file_name: &str, error: &io::Error) -> Failure {
    Failure::Final(format!("cannot write {file_name}: {error}"))
}

fn body_failure(error: &io::Error, settings: &FetchSettings) -> Failure {
    let timed_out_inside = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        .is_some_and(reqwest::Error::is_timeout);
    if timed_out_inside || error.kind() == io::ErrorKind::TimedOut {
        return Failure::Retryable(timed_out(settings));
    }
    Failure::Retryable(format!("body cut short: {}", root_cause(error)))
}

/// What a pass left in `folder`, read back by the parent: for each URL in `urls` order,
/// the file's length and sha256 if a worker saved it and the file on disk is that file;
/// and any other file in the folder.
pub fn inspect_pass(folder: &Path, urls: &[ImageUrl], downloads: &[Download]) -> PassOutcome {
    let images: Vec<ImageResult> = urls
        .iter()
        .map(|url| {
            let reported = downloads.iter().find(|d| d.image.name == url.file_name);
            let fetched = match reported.map(|d| &d.image.fetched) {
                None => Fetched::Failed {
                    reason: "no worker reported it".to_string(),
                },
                Some(Fetched::Failed { reason }) => Fetched::Failed {
                    reason: reason.clone(),
                },
                Some(Fetched::Saved { length, sha256 }) => {
                    match std::fs::read(folder.join(&url.file_name)) {
                        Ok(bytes)
                            if bytes.len() as u64 == *length
                                && images::sha256_hex(&bytes) == *sha256 =>
                        {
                            Fetched::Saved {
                                length: *length,
                                sha256: sha256.clone(),
                            }
                        }
                        Ok(_) => Fetched::Failed {
                            reason: "the file on disk is not what was received".to_string(),
                        },
                        Err(e) => Fetched::Failed {
                            reason: format!("the saved file cannot be read back: {e}"),
                        },
                    }
                }
            };
            ImageResult {
                name: url.file_name.clone(),
                fetched,
            }
        })
        .collect();
    let saved: BTreeSet<&str> = images
        .iter()
        .filter(|i| matches!(i.fetched, Fetched::Saved { .. }))
        .map(|i| i.name.as_str())
        .collect();
    let mut stray_files: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !saved.contains(name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    stray_files.sort();
    PassOutcome {
        images,
        stray_files,
    }
}

/// Makes a pass's folder ready: created if missing, and without the files this pass is
/// about to write (left by an earlier run into the same folder).
pub fn prepare_folder(folder: &Path, urls: &[ImageUrl]) -> Result<(), String> {
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    for url in urls {
        match std::fs::remove_file(folder.join(&url.file_name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(format!(
                    "cannot clear {}: {e}",
                    folder.join(&url.file_name).display()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The two passes of `download`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Sequential,
    Concurrent,
}

impl Pass {
    /// The pass's name, also its subfolder of the output folder.
    pub fn name(self) -> &'static str {
        match self {
            Pass::Sequential => "sequential",
            Pass::Concurrent => "concurrent",
        }
    }
}

/// What the sequential worker returns: the manifest, if the server has one, and its
/// downloads in URL order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialResult {
    pub manifest: Option<Vec<ManifestEntry>>,
    pub downloads: Vec<Download>,
}

/// One pass as the parent saw it: what the workers reported, and how long it took from
/// asking for the first worker to joining the last.
#[derive(Clone, Debug)]
pub struct PassRun {
    pub downloads: Vec<Download>,
    pub wall_s: f64,
}

/// The `--baseline` reference: one client fetching every URL into memory in one worker.
#[derive(Clone, Copy, Debug)]
pub struct BaselineRun {
    pub bytes: u64,
    pub wall_s: f64,
}

/// Everything about a run of `download` that is not the concurrency mechanism: the local
/// server (if any), the URLs, the output folder, the fetch settings; and, at the end, the
/// check of what the passes left on disk and the figures. Dropping it stops the server.
pub struct DownloadPlan {
    /// Kept for its `Drop`: the server lives exactly as long as the plan.
    server: Option<LocalImageServer>,
    source: String,
    urls: Vec<ImageUrl>,
    manifest_base: Option<String>,
    folder: PathBuf,
    /// The temporary folder when no `--out-dir` was given: removed with the plan unless
    /// `--keep`.
    temporary: Option<tempfile::TempDir>,
    keep: bool,
    settings: FetchSettings,
    workers: usize,
    latency_s: Option<f64>,
}

impl DownloadPlan {
    /// Reads `download`'s options, makes the output folder and, unless `--base-url` or
    /// `--urls` names another source, starts the local image server.
    pub fn prepare(run: &DemoRun) -> Result<Self, DemoError> {
        let args = run.download();
        let (folder, temporary) = match &args.out_dir {
            Some(folder) => {
                std::fs::create_dir_all(folder)
                    .map_err(|e| DemoError::system(&format!("creating {}", folder.display()), e))?;
                (folder.clone(), None)
            }
            None => {
                let temporary = tempfile::Builder::new()
                    .prefix("download-")
                    .tempdir()
                    .map_err(|e| DemoError::system("creating a temporary folder", e))?;
                (temporary.path().to_path_buf(), Some(temporary))
            }
        };
        let mut latency_s = None;
        let mut server = None;
        let images = run.options().images.unwrap_or(IMAGES);
        let (source, urls, manifest_base) = if let Some(list) = &args.urls {
            (list.path.display().to_string(), list.urls.clone(), None)
        } else if let Some(base) = &args.base_url {
            (base.clone(), urls_under(base, images), Some(base.clone()))
        } else {
            let latency = run.seconds(args.latency as f64 / 1000.0);
            let server_args = ServerArgs {
                latency: (latency * 1000.0).round() as u64,
                image_kib: args.image_kib,
                images,
                faults: args.server_fault.clone(),
                fault_every: args.server_fault_every,
                stall_ms: (args.timeout * 3000.0) as u64,
                ..ServerArgs::default()
            };
            let started = LocalImageServer::start(&server_args, args.https)?;
            let base = started.base_url().to_string();
            latency_s = Some(latency);
            server = Some(started);
            (
                format!("local image server {base}"),
                urls_under(&base, images),
                Some(base),
            )
        };
        // The local server's own certificate, then those of `--ca-cert`, one PEM text.
        let mut trusted_pem = Vec::new();
        let own = server.as_ref().and_then(LocalImageServer::certificate_pem);
        for pem in own.into_iter().chain(args.ca_cert.as_ref().map(|c| c.pem.as_slice())) {
            trusted_pem.extend_from_slice(pem);
            trusted_pem.push(b'\n');
        }
        let system_roots = server.is_none() && urls.iter().any(|u| u.url.starts_with("https:"));
        let workers = run.options().workers.unwrap_or(WORKERS);
        if let Some(latency) = latency_s {
            let images = urls.len();
            run.set_ideal_wall_s(ideal_wall_s(images, workers, latency));
        }
        Ok(DownloadPlan {
            server,
            source,
            urls,
            manifest_base,
            folder,
            temporary,
            keep: args.keep,
            settings: FetchSettings {
                timeout: Duration::from_secs_f64(args.timeout),
                retries: args.retries,
                backoff: Duration::from_secs_f64(run.seconds(BACKOFF_S)),
                max_bytes: args.max_bytes,
                direct: latency_s.is_some(),
                trusted_pem,
                system_roots,
            },
            workers,
            latency_s,
        })
    }

    pub fn urls(&self) -> &[ImageUrl] {
        &self.urls
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// Workers of the concurrent pass (`--workers`).
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Where the manifest may be (`<base>/manifest.json`); none for a `--urls` list.
    pub fn manifest_base(&self) -> Option<String> {
        self.manifest_base.clone()
    }

    /// The pass's own subfolder, created, without the files the pass will write.
    pub fn pass_folder(&self, pass: Pass) -> Result<PathBuf, DemoError> {
        let folder = self.folder.join(pass.name());
        prepare_folder(&folder, &self.urls).map_err(DemoError::System)?;
        Ok(folder)
    }

    /// Reads back what each pass left on disk, builds the outcome, records the figures,
    /// and stops the local server.
    pub fn finish(
        self,
        run: &DemoRun,
        manifest: Option<Vec<ManifestEntry>>,
        sequential: PassRun,
        concurrent: PassRun,
        baseline: Option<BaselineRun>,
    ) -> DownloadOutcome {
        let [sequential_outcome, concurrent_outcome] = [
            (Pass::Sequential, &sequential),
            (Pass::Concurrent, &concurrent),
        ]
        .map(|(pass, run)| {
            inspect_pass(&self.folder.join(pass.name()), &self.urls, &run.downloads)
        });
        run.figures(|f| {
            let m = &mut f.measured;
            for (pass, result, outcome) in [
                ("sequential", &sequential, &sequential_outcome),
                ("concurrent", &concurrent, &concurrent_outcome),
            ] {
                m.insert(format!("{pass}_wall_s"), result.wall_s);
                m.insert(
                    format!("{pass}_mb_per_s"),
                    saved_bytes(outcome) as f64 / 1e6 / result.wall_s,
                );
                let retries: u32 = result.downloads.iter().map(|d| d.attempts - 1).sum();
                m.insert(format!("retries_{pass}"), f64::from(retries));
            }
            m.insert("speedup".into(), sequential.wall_s / concurrent.wall_s);
            if let Some(latency) = self.latency_s {
                let images = self.urls.len();
                m.insert("latency_ms".into(), latency * 1000.0);
                m.insert(
                    "ideal_sequential_s".into(),
                    ideal_sequential_s(images, latency),
                );
                m.insert(
                    "ideal_concurrent_s".into(),
                    ideal_concurrent_s(images, self.workers, latency),
                );
            }
            if let Some(baseline) = baseline {
                m.insert("baseline_wall_s".into(), baseline.wall_s);
                m.insert(
                    "baseline_mb_per_s".into(),
                    baseline.bytes as f64 / 1e6 / baseline.wall_s,
                );
            }
            f.notes.insert("source".into(), self.source.clone());
        });
        drop(self.server);
        // The images stay only where the user asked for them: `--out-dir`, or `--keep`.
        let kept = match self.temporary {
            Some(temporary) if self.keep => Some(temporary.keep()),
            Some(temporary) => {
                drop(temporary);
                None
            }
            None => Some(self.folder),
        };
        match kept {
            Some(folder) => {
                let folder = folder.display().to_string();
                run.figures(|f| {
                    f.notes.insert("output_dir".into(), folder.clone());
                });
                run.main_says(KEPT, Some(folder));
            }
            None => run.main_says(REMOVED, Some("--keep keeps it".into())),
        }
        DownloadOutcome {
            expected: manifest,
            sequential: sequential_outcome,
            concurrent: concurrent_outcome,
        }
    }
}

fn saved_bytes(outcome: &PassOutcome) -> u64 {
    outcome
        .images
        .iter()
        .map(|image| match image.fetched {
            Fetched::Saved { length, .. } => length,
            Fetched::Failed { .. } => 0,
        })
        .sum()
}

/// The sequential pass's worker, as a job: the manifest, then every URL in turn, with a
/// client of its own, built in the worker (a client runs a thread of its own, and a fork
/// copies only the calling thread).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchInTurn {
    pub urls: Vec<ImageUrl>,
    pub settings: FetchSettings,
    pub manifest_base: Option<String>,
    pub folder: PathBuf,
}

impl Job for FetchInTurn {
    type Output = Result<SequentialResult, String>;

    fn run(self, out: &dyn EventSink) -> Self::Output {
        let client = self.settings.client()?;
        out.emit(READY, None);
        let manifest = match self.manifest_base {
            Some(base) => fetch_manifest(&client, &base)?,
            None => None,
        };
        let downloads = (self.urls.iter())
            .map(|url| fetch_one(out, &client, url, &self.folder, &self.settings))
            .collect();
        Ok(SequentialResult {
            manifest,
            downloads,
        })
    }
}

/// `--baseline`'s worker, as a job: one client fetching every URL into memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchIntoMemory {
    pub urls: Vec<ImageUrl>,
    pub settings: FetchSettings,
}

impl Job for FetchIntoMemory {
    type Output = Result<u64, String>;

    fn run(self, out: &dyn EventSink) -> Result<u64, String> {
        let client = self.settings.client()?;
        out.emit(READY, None);
        Ok(fetch_into_memory(&client, &self.urls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn pass(entries: &[ManifestEntry]) -> PassOutcome {
        PassOutcome {
            images: entries
                .iter()
                .map(|e| ImageResult {
                    name: e.name.clone(),
                    fetched: Fetched::Saved {
                        length: e.length,
                        sha256: e.sha256.clone(),
                    },
                })
                .collect(),
            stray_files: Vec::new(),
        }
    }

    #[test]
    fn download_checks_both_passes_against_the_manifest() {
        let manifest: Vec<ManifestEntry> = ["a.png", "b.png"]
            .iter()
            .map(|name| ManifestEntry {
                name: name.to_string(),
                length: 10,
                sha256: format!("hash of {name}"),
            })
            .collect();
        let good = DownloadOutcome {
            expected: Some(manifest.clone()),
            sequential: pass(&manifest),
            concurrent: pass(&manifest),
        };
        assert_eq!(good.check(), Ok(()));

        let mut wrong_bytes = good.clone();
        wrong_bytes.concurrent.images[1].fetched = Fetched::Saved {
            length: 10,
            sha256: "something else".into(),
        };
        assert!(wrong_bytes.check().unwrap_err().contains("concurrent"));

        let mut failed = good.clone();
        failed.sequential.images[0].fetched = Fetched::Failed {
            reason: "HTTP 500".into(),
        };
        let problem = failed.check().unwrap_err();
        assert!(problem.contains("a.png failed: HTTP 500"), "{problem}");

        let mut stray = good.clone();
        stray.concurrent.stray_files.push("b.png.part".into());
        assert!(stray.check().is_err());

        let mut without_manifest = good;
        without_manifest.expected = None;
        assert_eq!(without_manifest.check(), Ok(()));
        without_manifest.concurrent.images.pop();
        assert!(without_manifest.check().is_err());
    }
}

#[cfg(test)]
mod fetch_tests {
    use super::*;

    fn name(text: &str) -> Result<String, String> {
        file_name_of(&Url::parse(text).unwrap())
    }

    #[test]
    fn file_names_come_from_the_last_segment() {
        assert_eq!(name("http://h/images/cat.png").unwrap(), "cat.png");
        assert_eq!(name("http://h/a/b?x=1").unwrap(), "b.png");
        assert_eq!(name("http://h/my%20cat.png").unwrap(), "my cat.png");
    }

    #[test]
    fn traversal_slashes_and_empty_names_are_refused() {
        for bad in [
            "http://h/",
            "http://h/images/",
            "http://h/..%2f..%2fetc%2fpasswd",
            "http://h/a%2fb.png",
            "http://h/a%5cb.png",
            "http://h/x..y.png",
            "http://h/.png",
            "http://h/.hidden",
            "http://h/%2e%2e",
        ] {
            assert!(name(bad).is_err(), "{bad} was accepted as {:?}", name(bad));
        }
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_taken() {
        assert!(ImageUrl::parse("https://example.org/cat.png").is_ok());
        for bad in [
            "ftp://h/cat.png",
            "file:///tmp/cat.png",
            "not a url",
            "http://",
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_lists_skip_comments_and_refuse_duplicate_names() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("urls.txt");
        std::fs::write(&list, "# images\n\nhttp://h/a.png\n  http://h/b.png  \n").unwrap();
        let urls = read_url_list(&list).unwrap();
        assert_eq!(
            urls.iter()
                .map(|u| u.file_name.as_str())
                .collect::<Vec<_>>(),
            ["a.png", "b.png"]
        );
        std::fs::write(&list, "http://h/a.png\nhttp://other/a.png\n").unwrap();
        assert!(read_url_list(&list).unwrap_err().contains("line 2"));
        std::fs::write(&list, "# nothing\n").unwrap();
        assert!(read_url_list(&list).is_err());
        assert!(read_url_list(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn a_saved_file_is_whole_or_absent() {
        let dir = tempfile::tempdir().unwrap();
        let settings = FetchSettings {
            timeout: Duration::from_secs(1),
            retries: 0,
            backoff: Duration::ZERO,
            max_bytes: 8,
            direct: true,
            trusted_pem: Vec::new(),
            system_roots: false,
        };
        let saved = save_whole(dir.path(), "a.png", &mut &b"12345"[..], &settings);
        assert!(matches!(saved, Ok((5, _))));
        assert_eq!(std::fs::read(dir.path().join("a.png")).unwrap(), b"12345");

        let too_big = save_whole(dir.path(), "b.png", &mut &b"123456789"[..], &settings);
        assert!(matches!(too_big, Err(Failure::Final(_))));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.png"], "nothing but the whole file");

        let replaced = save_whole(dir.path(), "a.png", &mut &b"xy"[..], &settings);
        assert!(matches!(replaced, Ok((2, _))));
        assert_eq!(std::fs::read(dir.path().join("a.png")).unwrap(), b"xy");
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::outcome::testing::event;

    fn saved(name: &str, length: u64, sha256: &str) -> ImageResult {
        ImageResult {
            name: name.into(),
            fetched: Fetched::Saved {
                length,
                sha256: sha256.into(),
            },
        }
    }

    fn pass(images: Vec<ImageResult>) -> PassOutcome {
        PassOutcome {
            images,
            stray_files: vec![],
        }
    }

    fn manifest() -> Vec<ManifestEntry> {
        [("a.png", 10, "aa"), ("b.png", 20, "bb")]
            .iter()
            .map(|(name, length, sha256)| ManifestEntry {
                name: name.to_string(),
                length: *length,
                sha256: sha256.to_string(),
            })
            .collect()
    }

    fn right() -> PassOutcome {
        pass(vec![saved("a.png", 10, "aa"), saved("b.png", 20, "bb")])
    }

    #[test]
    fn each_pass_is_checked_against_the_manifest() {
        let outcome = |sequential, concurrent| DownloadOutcome {
            expected: Some(manifest()),
            sequential,
            concurrent,
        };
        assert_eq!(outcome(right(), right()).check(), Ok(()));
        // The sequential pass with other bytes for b.png: the manifest says so.
        let other_bytes = pass(vec![saved("a.png", 10, "aa"), saved("b.png", 20, "cc")]);
        assert_eq!(
            outcome(other_bytes.clone(), right()).check(),
            Err(
                "sequential: 1 files differ from the manifest (lengths 2 vs 2): [\"b.png\"]".into()
            )
        );
        assert_eq!(
            outcome(right(), other_bytes).check(),
            Err(
                "concurrent: 1 files differ from the manifest (lengths 2 vs 2): [\"b.png\"]".into()
            )
        );
        let one_missing = pass(vec![saved("a.png", 10, "aa")]);
        assert_eq!(
            outcome(right(), one_missing).check(),
            Err("concurrent: 1 files differ from the manifest (lengths 1 vs 2): []".into())
        );
    }

    #[test]
    fn without_a_manifest_the_concurrent_pass_is_checked_against_the_sequential_one() {
        let outcome = |sequential, concurrent| DownloadOutcome {
            expected: None,
            sequential,
            concurrent,
        };
        assert_eq!(outcome(right(), right()).check(), Ok(()));
        let other_bytes = pass(vec![saved("a.png", 10, "xx"), saved("b.png", 20, "bb")]);
        assert_eq!(
            outcome(right(), other_bytes).check(),
            Err(
                "concurrent: 1 files differ from the sequential pass (lengths 2 vs 2): [\"a.png\"]"
                    .into()
            )
        );
    }

    #[test]
    fn a_failed_image_or_a_stray_file_fails_its_pass() {
        let mut failed = right();
        failed.images[1].fetched = Fetched::Failed {
            reason: "HTTP 404".into(),
        };
        assert_eq!(
            failed.check("concurrent"),
            Err("concurrent: 1 of 2 failed: b.png failed: HTTP 404".into())
        );
        assert_eq!(
            failed.saved(),
            [("a.png".to_string(), 10, "aa".to_string())]
        );
        let mut stray = right();
        stray.stray_files.push(".b.png.part".into());
        assert_eq!(
            stray.check("sequential"),
            Err("sequential: stray files in the folder: [\".b.png.part\"]".into())
        );
        assert_eq!(right().check("sequential"), Ok(()));
    }

    #[test]
    fn the_ideal_times_of_fourteen_images() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(ideal_sequential_s(14, 0.1), 1.4));
        // ⌈14 / 6⌉ = 3 rounds of requests.
        assert!(close(ideal_concurrent_s(14, 6, 0.1), 0.3));
        assert!(close(ideal_concurrent_s(14, 7, 0.1), 0.2));
        assert!(
            close(ideal_concurrent_s(14, 0, 0.1), 1.4),
            "no worker counts as one"
        );
        assert!(close(ideal_wall_s(14, 6, 0.1), 1.7));
        assert_eq!(worker_name(0), "t0");
    }

    #[test]
    fn which_worker_of_the_queue_fetched_an_image_is_not_compared() {
        let key = |worker: &str| comparable_event(&event(1.0, worker, "saved")).unwrap().0;
        assert_eq!(key("t3"), "a worker");
        assert_eq!(comparable_event(&event(1.0, "t3", READY)), None);
        assert!(comparable_event(&event(1.0, SEQUENTIAL_WORKER, READY)).is_some());
        assert_eq!(key(SEQUENTIAL_WORKER), SEQUENTIAL_WORKER);
        assert_eq!(key(MAIN), MAIN);
    }
}

#[cfg(test)]
mod pass_on_disk {
    use super::*;
    use crate::demos::DemoId;
    use crate::images::sha256_hex;
    use crate::outcome::testing::download_run;

    fn settings(max_bytes: u64) -> FetchSettings {
        FetchSettings {
            timeout: Duration::from_secs(1),
            retries: 0,
            backoff: Duration::ZERO,
            max_bytes,
            direct: true,
            trusted_pem: Vec::new(),
            system_roots: false,
        }
    }

    /// A body that comes in the pieces given: bytes, or an error of some kind.
    struct Body(Vec<io::Result<&'static [u8]>>);

    impl Read for Body {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let piece = self.0.remove(0)?;
            buffer[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        }
    }

    fn names_in(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_body_in_pieces_is_saved_whole_with_its_length_and_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let interrupted = io::Error::from(io::ErrorKind::Interrupted);
        let mut body = Body(vec![Ok(b"1234"), Err(interrupted), Ok(b"5678")]);
        let saved = save_whole(dir.path(), "a.png", &mut body, &settings(8));
        assert_eq!(
            saved.ok(),
            Some((8, sha256_hex(b"12345678"))),
            "exactly the cap"
        );
        assert_eq!(
            std::fs::read(dir.path().join("a.png")).unwrap(),
            b"12345678"
        );

        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let mut cut = Body(vec![Ok(b"12"), Err(reset)]);
        match save_whole(dir.path(), "b.png", &mut cut, &settings(8)) {
            Err(Failure::Retryable(reason)) => {
                assert!(reason.starts_with("body cut short"), "{reason}")
            }
            _ => panic!("a cut body is a retryable failure"),
        }
        let mut too_big = Body(vec![Ok(b"12345"), Ok(b"6789")]);
        match save_whole(dir.path(), "c.png", &mut too_big, &settings(8)) {
            Err(Failure::Final(reason)) => assert_eq!(reason, "larger than the cap of 8 bytes"),
            _ => panic!("a body over the cap is a final failure"),
        }
        assert_eq!(
            names_in(dir.path()),
            ["a.png"],
            "nothing but the whole file"
        );
    }

    fn url(name: &str) -> ImageUrl {
        ImageUrl {
            url: format!("http://h/{name}"),
            file_name: name.into(),
        }
    }

    fn saved(name: &str, bytes: &[u8], attempts: u32) -> Download {
        Download {
            image: ImageResult {
                name: name.into(),
                fetched: Fetched::Saved {
                    length: bytes.len() as u64,
                    sha256: sha256_hex(bytes),
                },
            },
            attempts,
        }
    }

    #[test]
    fn the_read_back_keeps_only_the_files_that_are_what_the_workers_received() {
        let dir = tempfile::tempdir().unwrap();
        let write =
            |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
        write("a.png", b"image a");
        // b.png: as long as what was received, other bytes.
        write("b.png", b"IMAGE B");
        write(".c.png.7.part", b"half");
        let failed = Download {
            image: ImageResult {
                name: "d.png".into(),
                fetched: Fetched::Failed {
                    reason: "HTTP 500".into(),
                },
            },
            attempts: 2,
        };
        // Reported in another order than the URLs'.
        let downloads = [
            failed,
            saved("c.png", b"image c", 1),
            saved("b.png", b"image b", 1),
            saved("a.png", b"image a", 1),
        ];
        let urls: Vec<ImageUrl> = ["a.png", "b.png", "c.png", "d.png", "e.png"]
            .into_iter()
            .map(url)
            .collect();
        let outcome = inspect_pass(dir.path(), &urls, &downloads);
        let fetched: Vec<(&str, String)> = outcome
            .images
            .iter()
            .map(|image| {
                let what = match &image.fetched {
                    Fetched::Saved { length, sha256 } => format!("saved {length} {sha256}"),
                    Fetched::Failed { reason } => format!("failed: {reason}"),
                };
                (image.name.as_str(), what)
            })
            .collect();
        assert_eq!(
            fetched[0],
            ("a.png", format!("saved 7 {}", sha256_hex(b"image a")))
        );
        assert_eq!(
            fetched[1],
            (
                "b.png",
                "failed: the file on disk is not what was received".to_string()
            )
        );
        assert_eq!(fetched[2].0, "c.png");
        assert!(
            fetched[2]
                .1
                .starts_with("failed: the saved file cannot be read back"),
            "{fetched:?}"
        );
        assert_eq!(fetched[3], ("d.png", "failed: HTTP 500".to_string()));
        assert_eq!(
            fetched[4],
            ("e.png", "failed: no worker reported it".to_string())
        );
        assert_eq!(outcome.stray_files, [".c.png.7.part", "b.png"]);
        assert!(
            inspect_pass(&dir.path().join("gone"), &[], &[])
                .stray_files
                .is_empty()
        );
    }

    #[test]
    fn a_pass_folder_is_cleared_of_the_files_the_pass_will_write() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("out/sequential");
        prepare_folder(&folder, &[url("a.png")]).unwrap();
        std::fs::write(folder.join("a.png"), b"old").unwrap();
        std::fs::write(folder.join("notes.txt"), b"mine").unwrap();
        prepare_folder(&folder, &[url("a.png"), url("b.png")]).unwrap();
        assert_eq!(names_in(&folder), ["notes.txt"]);
        // What cannot be cleared is an error, not a folder left with an old file.
        std::fs::create_dir(folder.join("b.png")).unwrap();
        let problem = prepare_folder(&folder, &[url("b.png")]).unwrap_err();
        assert!(problem.starts_with("cannot clear"), "{problem}");
    }

    /// A plan fetching from `--base-url` (so that no server is started) into `out`.
    fn plan(out: &Path, workers: Option<usize>) -> (DownloadPlan, DemoRun) {
        let options = crate::settings::DemoOptions {
            workers,
            ..Default::default()
        };
        let download = crate::settings::DownloadArgs {
            out_dir: Some(out.to_path_buf()),
            base_url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        let run = download_run(DemoId::Download, options, download);
        (DownloadPlan::prepare(&run).unwrap(), run)
    }

    #[test]
    fn the_concurrent_pass_has_the_workers_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(plan(dir.path(), Some(2)).0.workers(), 2);
        assert_eq!(plan(dir.path(), None).0.workers(), 6);
        assert_eq!(Pass::Sequential.name(), "sequential");
        assert_eq!(Pass::Concurrent.name(), "concurrent");
    }

    #[test]
    fn finishing_reads_both_passes_back_and_records_their_figures() {
        let dir = tempfile::tempdir().unwrap();
        let (plan, run) = plan(dir.path(), Some(2));
        assert_eq!(plan.urls().len(), 14);
        let a = vec![b'a'; 300_000];
        let b = vec![b'b'; 200_000];
        let mut passes = Vec::new();
        for (pass, attempts) in [(Pass::Sequential, [1, 3]), (Pass::Concurrent, [2, 1])] {
            let folder = plan.pass_folder(pass).unwrap();
            assert_eq!(folder, dir.path().join(pass.name()));
            let names = [&plan.urls()[0].file_name, &plan.urls()[1].file_name];
            std::fs::write(folder.join(names[0]), &a).unwrap();
            std::fs::write(folder.join(names[1]), &b).unwrap();
            passes.push(vec![
                saved(names[0], &a, attempts[0]),
                saved(names[1], &b, attempts[1]),
            ]);
        }
        let [sequential, concurrent] = [0, 1].map(|i| PassRun {
            downloads: passes[i].clone(),
            wall_s: [2.0, 0.5][i],
        });
        let baseline = BaselineRun {
            bytes: 3_000_000,
            wall_s: 1.5,
        };
        let outcome = plan.finish(&run, None, sequential, concurrent, Some(baseline));
        assert_eq!(outcome.expected, None);
        for pass in [&outcome.sequential, &outcome.concurrent] {
            assert_eq!(pass.images.len(), 14);
            assert_eq!(pass.images[0], saved(&pass.images[0].name, &a, 1).image);
            assert_eq!(pass.images[1], saved(&pass.images[1].name, &b, 1).image);
            assert!(pass.stray_files.is_empty());
        }
        let report = run.into_report(Ok((serde_json::Value::Null, Ok(()))), 3.0);
        let measured: Vec<(&str, f64)> = report
            .figures
            .measured
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        // 0.5 MB saved in each pass, in 2 s and in 0.5 s.
        assert_eq!(
            measured,
            [
                ("baseline_mb_per_s", 2.0),
                ("baseline_wall_s", 1.5),
                ("concurrent_mb_per_s", 1.0),
                ("concurrent_wall_s", 0.5),
                ("retries_concurrent", 1.0),
                ("retries_sequential", 2.0),
                ("sequential_mb_per_s", 0.25),
                ("sequential_wall_s", 2.0),
                ("speedup", 4.0),
            ]
        );
        assert_eq!(
            report.figures.notes["output_dir"],
            dir.path().display().to_string()
        );
        assert_eq!(report.figures.notes["source"], "http://127.0.0.1:9");
    }
}
