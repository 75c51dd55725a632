//! `download` (notebook §8) on tasks: 14 images (or `--images N`) fetched by one worker in
//! turn, then by one task per URL, each awaiting one of `--workers` permits (six by default,
//! up to 100 000) of a semaphore before its request.
//!
//! A task shares the parent's memory: every task reaches the one semaphore, and each writes
//! its file itself. Threads and processes need a pool of `--workers` workers taking URLs from
//! a queue, since each worker costs a stack or a process; a task costs only its future, so
//! tasks start one per URL and `tokio::sync::Semaphore` keeps at most `--workers` requests in
//! flight, as asyncio's `Semaphore` does. Unlike threads, which build a blocking client each
//! (one with a thread of its own inside), every task shares one async client: its sockets are
//! polled by the runtime's worker threads, so a thousand requests in flight cost a thousand
//! futures and sockets, not a thousand stacks.

use crate::workers::{TaskSink, Workers, on_runtime};
use contract::demos::download::DownloadOutcome;
use contract::demos::download::{BASELINE_WORKER, READY, SEQUENTIAL_WORKER, worker_name};
use contract::demos::download::{
    AfterAttempt, BaselineRun, Download, DownloadPlan, Failure, FetchSettings, ImageUrl, Pass,
    PassRun, SequentialResult, WholeFile, after_attempt, request_failure, root_cause, timed_out,
    too_large,
};
use contract::images::ManifestEntry;
use contract::local_server::ServedManifest;
use contract::{DemoError, DemoRun, EventSink};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::Semaphore;

pub fn run(run: &DemoRun) -> Result<DownloadOutcome, DemoError> {
    // The local image server runs as its own process, stopped when `plan` is dropped: the
    // main flow owns it, and hands it back with the passes (or drops it on an error).
    let plan = DownloadPlan::prepare(run)?;
    let (plan, passes) = on_runtime(run, move |run| async move {
        let passes = passes(&run, &plan).await?;
        Ok((plan, passes))
    })?;
    let (baseline, manifest, sequential, concurrent) = passes;
    Ok(plan.finish(run, manifest, sequential, concurrent, baseline))
}

/// What the passes bring back: the baseline's, the manifest, the sequential and the
/// concurrent pass.
type Passes = (
    Option<BaselineRun>,
    Option<Vec<ManifestEntry>>,
    PassRun,
    PassRun,
);

async fn passes(run: &DemoRun, plan: &DownloadPlan) -> Result<Passes, DemoError> {
    let baseline = match run.download().baseline {
        true => Some(baseline_pass(run, plan).await?),
        false => None,
    };
    let (manifest, sequential) = sequential_pass(run, plan).await?;
    let concurrent = concurrent_pass(run, plan).await?;
    Ok((baseline, manifest, sequential, concurrent))
}

/// The notebook's first loop: one worker fetches every image in turn.
async fn sequential_pass(
    run: &DemoRun,
    plan: &DownloadPlan,
) -> Result<(Option<Vec<ManifestEntry>>, PassRun), DemoError> {
    let folder = plan.pass_folder(Pass::Sequential)?;
    let (urls, settings, manifest_base) = (
        plan.urls().to_vec(),
        plan.settings().clone(),
        plan.manifest_base(),
    );
    run.main_says("pass", Some("sequential, 1 worker".into()));
    let started = Instant::now();
    let mut workers = Workers::new(run);

    let seq = workers
        .start(SEQUENTIAL_WORKER, move |out| async move {
            fetch_in_turn(&out, &urls, &settings, manifest_base, &folder).await
        })
        .await?;

    let result = workers.join(seq).await?.map_err(DemoError::System)?;
    let wall_s = started.elapsed().as_secs_f64();
    let pass = PassRun {
        downloads: result.downloads,
        wall_s,
    };
    Ok((result.manifest, pass))
}

/// The notebook's second loop, as async code writes it: one task per URL, each awaiting one
/// of `--workers` permits before its request, so that `--workers` requests are in flight at
/// most, however many tasks wait.
async fn concurrent_pass(run: &DemoRun, plan: &DownloadPlan) -> Result<PassRun, DemoError> {
    let folder = Arc::new(plan.pass_folder(Pass::Concurrent)?);
    // The permits live in memory every task can reach. A task waiting for one is not polled
    // at all: it holds no thread and no socket. There are none until every task is made, as
    // asyncio's `gather` makes every task before the first one runs.
    let permits = Arc::new(Semaphore::new(0));
    let in_flight = Arc::new(InFlight::default());
    // One client for every task: made by the main flow, shared through an `Arc` inside.
    let settings = Arc::new(plan.settings().clone());
    let client = settings.async_client().map_err(DemoError::System)?;
    run.main_says(
        "pass",
        Some(format!("concurrent, {} workers", plan.workers())),
    );
    let started = Instant::now();
    let mut workers = Workers::new(run);

    for (index, url) in plan.urls().iter().enumerate() {
        let (permits, in_flight, folder, settings, client, url) = (
            Arc::clone(&permits),
            Arc::clone(&in_flight),
            Arc::clone(&folder),
            Arc::clone(&settings),
            client.clone(),
            url.clone(),
        );
        workers
            .start(&worker_name(index), move |out| async move {
                out.emit(READY, None);
                // Given back when dropped, after the last attempt: retries keep their permit.
                let _permit = permits.acquire().await.expect("the semaphore is never closed");
                let _request = in_flight.enter();
                fetch_one(&out, &client, &url, &folder, &settings).await
            })
            .await?;
    }

    permits.add_permits(plan.workers());
    let downloads = workers.join_all().await?;
    let wall_s = started.elapsed().as_secs_f64();
    let most_in_flight = in_flight.most();
    run.figures(|f| {
        f.results_via = Some("each task writes its file; the parent reads them back".into());
        f.measured
            .insert(MOST_IN_FLIGHT.into(), most_in_flight as f64);
    });
    Ok(PassRun { downloads, wall_s })
}

/// The figure of the concurrent pass: the most requests in flight at once, as the tasks
/// counted them (never more than `--workers`: the semaphore's permits).
pub const MOST_IN_FLIGHT: &str = "most_requests_in_flight";

/// The requests in flight now, and the most there ever were.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl InFlight {
    /// One more request in flight, until the guard is dropped.
    fn enter(&self) -> InFlightGuard<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        InFlightGuard(self)
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

struct InFlightGuard<'a>(&'a InFlight);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `--baseline`: one client fetching every URL into memory in one worker, nothing else.
async fn baseline_pass(run: &DemoRun, plan: &DownloadPlan) -> Result<BaselineRun, DemoError> {
    let (urls, settings) = (plan.urls().to_vec(), plan.settings().clone());
    let started = Instant::now();
    let mut workers = Workers::new(run);

    let baseline = workers
        .start(BASELINE_WORKER, move |out| async move {
            let client = settings.async_client()?;
            out.emit(READY, None);
            let mut bytes = 0;
            for url in &urls {
                if let Ok(response) = client.get(&url.url).send().await
                    && let Ok(body) = response.bytes().await
                {
                    bytes += body.len() as u64;
                }
            }
            Ok::<u64, String>(bytes)
        })
        .await?;

    let bytes = workers.join(baseline).await?.map_err(DemoError::System)?;
    let wall_s = started.elapsed().as_secs_f64();
    Ok(BaselineRun { bytes, wall_s })
}

/// The sequential pass's worker (`contract::demos::download::FetchInTurn`), awaited: the
/// manifest, then every URL in turn, with a client of its own.
async fn fetch_in_turn(
    out: &TaskSink,
    urls: &[ImageUrl],
    settings: &FetchSettings,
    manifest_base: Option<String>,
    folder: &Path,
) -> Result<SequentialResult, String> {
    let client = settings.async_client()?;
    out.emit(READY, None);
    let manifest = match manifest_base {
        Some(base) => fetch_manifest(&client, &base).await?,
        None => None,
    };
    let mut downloads = Vec::new();
    for url in urls {
        downloads.push(fetch_one(out, &client, url, folder, settings).await);
    }
    Ok(SequentialResult {
        manifest,
        downloads,
    })
}

/// `contract::demos::download::fetch_manifest`, awaited: `None` when the server has none.
async fn fetch_manifest(
    client: &reqwest::Client,
    base: &str,
) -> Result<Option<Vec<ManifestEntry>>, String> {
    let url = format!("{}/manifest.json", base.trim_end_matches('/'));
    let failed = |e: &dyn std::fmt::Display| format!("the manifest at {url}: {e}");
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| failed(&root_cause(&e)))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let response = response.error_for_status().map_err(|e| failed(&e))?;
    let body = response
        .bytes()
        .await
        .map_err(|e| failed(&root_cause(&e)))?;
    let manifest: ServedManifest = serde_json::from_slice(&body).map_err(|e| failed(&e))?;
    Ok(Some(manifest.images))
}

/// `contract::demos::download::fetch_one`, awaited: fetches one image into `folder`,
/// retrying as `settings` say (the backoff is an awaited sleep), and tells `out` what
/// happened: `retry` before each retry, then `saved` or `failed`.
async fn fetch_one(
    out: &TaskSink,
    client: &reqwest::Client,
    url: &ImageUrl,
    folder: &Path,
    settings: &FetchSettings,
) -> Download {
    let mut attempt = 1;
    loop {
        let result = try_once(client, url, folder, settings).await;
        match after_attempt(out, url, settings, attempt, result) {
            AfterAttempt::Done(download) => return download,
            AfterAttempt::RetryAfter(backoff) => tokio::time::sleep(backoff).await,
        }
        attempt += 1;
    }
}

/// One request (`contract::demos::download`'s `try_once`), awaited: each chunk of the body is
/// written as it comes into a file that gets its name only once whole (`WholeFile`, as
/// `save_whole` does for a blocking reader), so that the file is whole or absent and no body
/// waits whole in memory.
async fn try_once(
    client: &reqwest::Client,
    url: &ImageUrl,
    folder: &Path,
    settings: &FetchSettings,
) -> Result<(u64, String), Failure> {
    let mut response = client
        .get(&url.url)
        .send()
        .await
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
    let mut saving = WholeFile::create(folder, &url.file_name, settings)?;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => saving.write(&chunk)?,
            Ok(None) => return saving.publish(),
            Err(e) if e.is_timeout() => return Err(Failure::Retryable(timed_out(settings))),
            Err(e) => {
                let cause = root_cause(&e);
                return Err(Failure::Retryable(format!("body cut short: {cause}")));
            }
        }
    }
}
