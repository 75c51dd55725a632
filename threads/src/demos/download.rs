//! `download` (notebook §8) on threads: 14 images fetched by one worker in turn, then by
//! six workers taking URLs from one FIFO queue.
//!
//! A thread shares the parent's memory: the queue is a crossbeam channel that every worker
//! reads, and each worker writes its files itself. Each thread builds its own HTTP client.

use crate::workers::Workers;
use contract::demos::download::DownloadOutcome;
use contract::demos::download::{BASELINE_WORKER, SEQUENTIAL_WORKER, worker_name};
use contract::demos::download::{
    BaselineRun, DownloadPlan, FetchInTurn, FetchIntoMemory, Pass, PassRun, fetch_one,
};
use contract::{DemoError, DemoRun, Job};
use std::time::Instant;

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

    let task = FetchInTurn {
        urls,
        settings,
        manifest_base,
        folder,
    };
    let seq = workers.start(SEQUENTIAL_WORKER, move |out| task.run(out))?;

    let result = workers.join(seq)?.map_err(DemoError::System)?;
    let wall_s = started.elapsed().as_secs_f64();
    let pass = PassRun {
        downloads: result.downloads,
        wall_s,
    };
    Ok((result.manifest, pass))
}

/// The notebook's second loop: a FIFO queue of URLs and `--workers` workers taking from it.
fn concurrent_pass(run: &DemoRun, plan: &DownloadPlan) -> Result<PassRun, DemoError> {
    let folder = plan.pass_folder(Pass::Concurrent)?;
    // The queue lives in memory every thread can read: a channel filled, then closed, so
    // that `recv` fails once it is empty and each worker's loop ends.
    let (queue_in, queue) = crossbeam_channel::unbounded();
    for url in plan.urls() {
        queue_in.send(url.clone()).expect("the queue is open");
    }
    drop(queue_in);
    run.main_says(
        "pass",
        Some(format!("concurrent, {} workers", plan.workers())),
    );
    let started = Instant::now();
    let mut workers = Workers::new(run);

    for index in 0..plan.workers() {
        let (queue, folder, settings) = (queue.clone(), folder.clone(), plan.settings().clone());
        workers.start(&worker_name(index), move |out| {
            // A client of its own, on this thread.
            let client = settings.client()?;
            out.emit("ready", None);
            let mut downloads = Vec::new();
            while let Ok(url) = queue.recv() {
                downloads.push(fetch_one(out, &client, &url, &folder, &settings));
            }
            Ok(downloads)
        })?;
    }

    let mut downloads = Vec::new();
    for result in workers.join_all()? {
        downloads.extend(result.map_err(DemoError::System)?);
    }
    let wall_s = started.elapsed().as_secs_f64();
    run.figures(|f| {
        f.results_via = Some("each thread writes its files; the parent reads them back".into())
    });
    Ok(PassRun { downloads, wall_s })
}

/// `--baseline`: one client fetching every URL into memory in one worker, nothing else.
fn baseline_pass(run: &DemoRun, plan: &DownloadPlan) -> Result<BaselineRun, DemoError> {
    let (urls, settings) = (plan.urls().to_vec(), plan.settings().clone());
    let started = Instant::now();
    let mut workers = Workers::new(run);

    let task = FetchIntoMemory { urls, settings };
    let baseline = workers.start(BASELINE_WORKER, move |out| task.run(out))?;

    let bytes = workers.join(baseline)?.map_err(DemoError::System)?;
    let wall_s = started.elapsed().as_secs_f64();
    Ok(BaselineRun { bytes, wall_s })
}
