//! `spawn` (beyond the notebook) on tasks: the cost to start and join one worker, next to a
//! bare `tokio::spawn` + await and, in the same run, a bare `std::thread::spawn` + `join`;
//! and the bare task's cost after the parent touched more memory.

use crate::workers::{Workers, in_turns, on_runtime};
use contract::bench::{
    median_or_zero, on_cpu, one_core, record_all_at_once, record_spawn_costs,
    record_spawn_costs_on_one_core, record_touched_cost, touch_memory,
};
use contract::demos::spawn::SpawnOutcome;
use contract::demos::spawn::{ALL_AT_ONCE_PASSES, all_at_once, touched_mib, touched_starts};
use contract::{DemoError, DemoRun, interrupt};
use std::future::Future;
use std::time::Instant;

pub fn run(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let outcome = on_runtime(run, |run| async move { spawn(&run).await })?;
    if let Some(cpu) = one_core() {
        on_one_core(run, cpu)?;
    }
    Ok(outcome)
}

/// The same start and join, and the bare one, on a runtime of one thread pinned to one core
/// (as threads and processes pin theirs): every task of it runs on that thread.
fn on_one_core(run: &DemoRun, cpu: usize) -> Result<(), DemoError> {
    let count = run.count();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| DemoError::system("building a runtime", e))?;
    let (through_workers, raw) = on_cpu(cpu, || {
        runtime.block_on(async {
            let mut workers = Workers::new(run).unnarrated();
            let (mut through_workers, mut raw) = (Vec::new(), Vec::new());
            for _ in 0..count {
                through_workers.push(
                    timed(async {
                        let id = workers.start("t0", |_| async {}).await?;
                        workers.join(id).await.map(drop)
                    })
                    .await?,
                );
                raw.push(timed(bare_start_and_join()).await?);
            }
            Ok::<_, DemoError>((through_workers, raw))
        })
    })
    .map_err(DemoError::System)??;
    record_spawn_costs_on_one_core(run, &through_workers, &raw);
    Ok(())
}

async fn spawn(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let count = run.count();
    let mut workers = Workers::new(run).unnarrated();
    let mut joined = 0;
    let (mut through_workers, mut raw, mut thread) = (Vec::new(), Vec::new(), Vec::new());
    // The three take turns, so that the machine's drift falls on each alike.
    for _ in 0..count {
        through_workers.push(
            timed(async {
                let id = workers.start("t0", |_| async {}).await?;
                workers.join(id).await?;
                joined += 1;
                Ok(())
            })
            .await?,
        );
        raw.push(timed(bare_start_and_join()).await?);
        thread.push(timed(async { bare_thread_start_and_join() }).await?);
    }
    run.main_says(
        "started and joined",
        Some(format!("{joined} workers, one after another")),
    );
    record_spawn_costs(run, &through_workers, &raw);
    // What the same start and join costs for a thread, measured here, in the same run.
    let thread_us = median_or_zero(&thread);
    run.measured("thread_start_join_us", thread_us);
    run.measured("thread_over_task", thread_us / median_or_zero(&raw));

    // `--workers N`: N tasks alive at once before the first is joined.
    if let Some(at_once) = all_at_once(run) {
        let mut passes = Vec::new();
        for _ in 0..ALL_AT_ONCE_PASSES {
            passes.push(
                timed(async {
                    for index in 0..at_once {
                        workers.start(&format!("t{index}"), |_| async {}).await?;
                    }
                    workers.join_all().await.map(drop)
                })
                .await?,
            );
        }
        record_all_at_once(run, at_once, &passes);
    }

    // A task lives in the parent's memory: how much of it is touched should not matter.
    for mib in touched_mib(run) {
        let memory = touch_memory(mib);
        let mut raw = Vec::new();
        for _ in 0..touched_starts(run) {
            raw.push(timed(bare_start_and_join()).await?);
        }
        drop(memory);
        record_touched_cost(run, mib, &raw);
    }
    Ok(SpawnOutcome {
        started: count,
        joined,
    })
}

/// The microseconds `op` took; Ctrl-C is looked at before it starts.
async fn timed(op: impl Future<Output = Result<(), DemoError>>) -> Result<f64, DemoError> {
    if interrupt::requested() {
        return Err(DemoError::Interrupted);
    }
    let started = Instant::now();
    op.await?;
    Ok(started.elapsed().as_secs_f64() * 1e6)
}

/// The bare runtime cost: `tokio::spawn` of an empty future, then awaiting its `JoinHandle`.
async fn bare_start_and_join() -> Result<(), DemoError> {
    let mut handle = tokio::spawn(async {});
    in_turns(&mut handle)
        .await?
        .map_err(|_| DemoError::System("an empty task panicked".into()))
}

/// The bare OS cost of a thread: `std::thread::spawn` of an empty closure, then `join`.
fn bare_thread_start_and_join() -> Result<(), DemoError> {
    std::thread::spawn(|| ())
        .join()
        .map_err(|_| DemoError::System("an empty thread panicked".into()))
}
