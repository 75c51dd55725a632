//! `download` (notebook §8) on processes: 14 images fetched by one worker in turn, then by
//! six workers taking URLs from one FIFO queue.
//!
//! A worker process shares nothing with its parent: the queue stays in the parent, and each
//! child asks it for the next URL over IPC. Each child writes its files itself, so image
//! bytes never cross a process boundary. Each child builds its own HTTP client once it
//! runs: a client runs a thread of its own, and a fork copies only the calling thread.

use crate::workers::{AskingJob, Parent, Service, WorkerId, Workers};
use contract::demos::download::DownloadOutcome;
use contract::demos::download::{BASELINE_WORKER, SEQUENTIAL_WORKER, worker_name};
use contract::demos::download::{
    BaselineRun, Download, DownloadPlan, FetchInTurn, FetchIntoMemory,
    FetchSettings, ImageUrl, Pass, PassRun, fetch_one,
};
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

crate::spawned::jobs!(FetchInTurn, FetchIntoMemory; asking FetchFromQueue);

pub fn run(run: &DemoRun) -> Result<DownloadOutcome, DemoError> {
    // The local image server runs as its own process, stopped when `plan` is dropped.
    let plan = DownloadPlan::prepare(run)?;
    let baseline = match run.download().baseline {
        true => Some(baseline_pass(run, &plan)?),
        false => None,
    };
    let (manifest, sequential) = sequential_pass(run, &plan)?;
    let concurrent = concurrent_pass(run, &plan)?;
    Ok(plan.finish(run, manifest, sequential, concurrent, baseline))
}

/// The notebook's first loop: one worker fetches every image in turn.
fn sequential_pass(
    run: &DemoRun,
    plan: &DownloadPlan,
) -> Result<(Option<Vec<contract::images::ManifestEntry>>, PassRun), DemoError> {
    let folder = plan.pass_folder(Pass::Sequential)?;
    let (urls, settings, manifest_base) = (
        plan.urls().to_vec(),
        plan.settings().clone(),
        plan.manifest_base(),
    );
    run.main_says("pass", Some("sequential, 1 worker".into()));
    let started = Instant::now();
    let mut workers = Workers::new(run);

    let job = FetchInTurn {
        urls,
        settings,
        manifest_base,
        folder,
    };
    let seq = workers.start(SEQUENTIAL_WORKER, job)?;

    let result = workers.join(seq)?.map_err(DemoError::System)?;
    let wall_s = started.elapsed().as_secs_f64();
    let pass = PassRun {
        downloads: result.downloads,
        wall_s,
    };
    Ok((result.manifest, pass))
}

/// A child's question to the parent, which holds the queue.
#[derive(Serialize, Deserialize)]
pub struct NextUrl;

/// The queue of URLs, kept in the parent: each `NextUrl` is answered at once with the next
/// URL, or `None` once the queue is empty, which ends the child's loop.
pub struct UrlQueue(VecDeque<ImageUrl>);

impl Service for UrlQueue {
    type Request = NextUrl;
    type Reply = Option<ImageUrl>;

    fn handle(
        &mut self,
        from: WorkerId,
        _: NextUrl,
        replies: &mut Vec<(WorkerId, Option<ImageUrl>)>,
    ) {
        replies.push((from, self.0.pop_front()));
    }
}

/// The notebook's second loop: a FIFO queue of URLs and `--workers` workers taking from it.
fn concurrent_pass(run: &DemoRun, plan: &DownloadPlan) -> Result<PassRun, DemoError> {
    let folder = plan.pass_folder(Pass::Concurrent)?;
    // The queue lives in the parent: a child asks for the next URL and the parent answers
    // while it waits for its workers; `None` once it is empty ends the child's loop.
    let queue = UrlQueue(plan.urls().iter().cloned().collect());
    run.main_says(
        "pass",
        Some(format!("concurrent, {} workers", plan.workers())),
    );
    let started = Instant::now();
    let mut workers = Workers::serving(run, queue);

    for index in 0..plan.workers() {
        let (folder, settings) = (folder.clone(), plan.settings().clone());
        workers.start_with(&worker_name(index), FetchFromQueue { folder, settings })?;
    }

    let mut downloads = Vec::new();
    for result in workers.join_all()? {
        downloads.extend(result.map_err(DemoError::System)?);
    }
    let wall_s = started.elapsed().as_secs_f64();
    run.figures(|f| {
        f.results_via = Some(
            "each child writes its files; name, length and sha256 come back in one \
             ipc-channel message; the parent reads the files back"
                .into(),
        )
    });
    Ok(PassRun { downloads, wall_s })
}

/// `--baseline`: one client fetching every URL into memory in one worker, nothing else.
fn baseline_pass(run: &DemoRun, plan: &DownloadPlan) -> Result<BaselineRun, DemoError> {
    let (urls, settings) = (plan.urls().to_vec(), plan.settings().clone());
    let started = Instant::now();
    let mut workers = Workers::new(run);

    let baseline = workers.start(BASELINE_WORKER, FetchIntoMemory { urls, settings })?;

    let bytes = workers.join(baseline)?.map_err(DemoError::System)?;
    let wall_s = started.elapsed().as_secs_f64();
    Ok(BaselineRun { bytes, wall_s })
}

/// A concurrent pass's worker: asks the parent for the next URL until the queue is empty.
#[derive(Serialize, Deserialize)]
pub struct FetchFromQueue {
    folder: PathBuf,
    settings: FetchSettings,
}

impl AskingJob for FetchFromQueue {
    type Service = UrlQueue;
    type Output = Result<Vec<Download>, String>;

    fn run(self, out: &dyn EventSink, parent: &Parent<'_, UrlQueue>) -> Self::Output {
        // A client of its own, built in the worker.
        let client = self.settings.client()?;
        out.emit("ready", None);
        let mut downloads = Vec::new();
        while let Some(url) = parent.ask(NextUrl) {
            downloads.push(fetch_one(out, &client, &url, &self.folder, &self.settings));
        }
        Ok(downloads)
    }
}
