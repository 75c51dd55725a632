//! `queue` (notebook §6) on threads: a producer worker fills FIFO, LIFO and priority queues,
//! a consumer worker drains them; then a timed pass and the raw channel round trips.
//!
//! A thread shares the parent's memory, so the queues are one value in it (a `Mutex` and a
//! `Condvar` around the four orders), which both threads reach through an `Arc`.

use crate::sync::ThreadQueues;
use crate::workers::Workers;
use contract::baseline::RawRoundTrips;
use contract::demos::queue::QueueOutcome;
use contract::demos::queue::{BASELINE, CONSUMER, GET_TIMEOUT_S, PRODUCER, TIMED};
use contract::queues::{self, Batches};
use contract::{DemoError, DemoRun, Job};
use std::sync::Arc;
use std::time::Duration;

/// Where the queues live and what guards them, for the report.
const SHARED_VIA: &str = "the process's own memory: Arc<Mutex<queues>> with a Condvar to \
                          sleep on while a queue is empty";

pub fn run(run: &DemoRun) -> Result<QueueOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    let timeout = Duration::from_secs_f64(GET_TIMEOUT_S);
    let batches = produce_and_consume(run, timeout)?;
    let timed_returned = timed_pass(run, timeout)?;
    raw_round_trips(run)?;
    Ok(QueueOutcome::from_batches(
        &batches,
        timed_returned,
        run.count(),
    ))
}

/// The producer fills the four queues, the consumer drains each once it is complete.
fn produce_and_consume(run: &DemoRun, timeout: Duration) -> Result<Batches, DemoError> {
    let queues = Arc::new(ThreadQueues::default());
    let mut workers = Workers::new(run);

    let for_producer = Arc::clone(&queues);
    workers.start(PRODUCER, move |out| {
        Ok(queues::produce(out, &*for_producer))
    })?;
    let for_consumer = Arc::clone(&queues);
    let consumer = workers.start(CONSUMER, move |out| {
        queues::consume(out, &*for_consumer, timeout)
    })?;

    let mut results = workers.join_all()?;
    results
        .swap_remove(consumer.index())
        .map_err(DemoError::System)
}

/// `--count` × (put, get) by one worker, for the cost of a put+get.
fn timed_pass(run: &DemoRun, timeout: Duration) -> Result<u64, DemoError> {
    let queues = Arc::new(ThreadQueues::default());
    let mut workers = Workers::new(run);
    let count = run.count();

    let timer = Arc::clone(&queues);
    workers.start(TIMED, move |out| {
        out.emit("timing", Some(format!("{count} × (put, get)")));
        queues::timed_put_get(&*timer, count, timeout)
    })?;

    let ns = workers.join_all()?.remove(0).map_err(DemoError::System)?;
    run.measured("ns_per_put_get", ns);
    Ok(count)
}

/// The raw round trips to compare with, measured by a worker in this same run.
fn raw_round_trips(run: &DemoRun) -> Result<(), DemoError> {
    let mut workers = Workers::new(run);
    let count = run.count();

    let task = RawRoundTrips { count };
    workers.start(BASELINE, move |out| task.run(out))?;

    let (crossbeam, ipc) = workers.join_all()?.remove(0).map_err(DemoError::System)?;
    run.measured("ns_per_crossbeam_round_trip", crossbeam);
    run.measured("ns_per_ipc_round_trip", ipc);
    Ok(())
}
