//! `download` (notebook §8) on MPI ranks: 14 images fetched by one worker in turn, then by
//! six workers taking URLs from one FIFO queue, as master and workers.
//!
//! A rank shares nothing with rank 0: the queue stays on rank 0 (the master), and each
//! worker rank asks it for the next URL in an MPI message and gets it in the reply. Each
//! rank writes its files itself, so image bytes never travel in a message; rank 0 reads the
//! files back (across machines the folder must be one they share, and the image server one
//! they reach). Each rank builds its own HTTP client once its job runs.

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

crate::ranks::jobs!(FetchInTurn, FetchIntoMemory; asking FetchFromQueue);

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

/// A worker rank's question to rank 0, which holds the queue.
#[derive(Serialize, Deserialize)]
pub struct NextUrl;

/// The queue of URLs, kept on rank 0: each `NextUrl` is answered at once with the next URL,
/// or `None` once the queue is empty, which ends the worker's loop.
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
    // The queue lives on rank 0: a worker rank asks for the next URL and rank 0 answers
    // while it waits for its workers; `None` once it is empty ends the worker's loop.
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
            "each worker rank writes its files; name, length and sha256 come back in one \
             MPI message; rank 0 reads the files back"
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

/// A concurrent pass's worker: asks rank 0 for the next URL until the queue is empty.
#[derive(Serialize, Deserialize)]
pub struct FetchFromQueue {
    folder: PathBuf,
    settings: FetchSettings,
}

impl AskingJob for FetchFromQueue {
    type Service = UrlQueue;
    type Output = Result<Vec<Download>, String>;

    fn run(self, out: &dyn EventSink, parent: &Parent<'_, UrlQueue>) -> Self::Output {
        // A client of its own, built in the worker rank.
        let client = self.settings.client()?;
        out.emit("ready", None);
        let mut downloads = Vec::new();
        while let Some(url) = parent.ask(NextUrl) {
            downloads.push(fetch_one(out, &client, &url, &self.folder, &self.settings));
        }
        Ok(downloads)
    }
}
