//! `queue` (notebook §6) on processes: a producer worker fills FIFO, LIFO and priority queues,
//! a consumer worker drains them; then a timed pass and the raw channel round trips.
//!
//! A worker process shares no memory with its sibling, so the queues live in one place, the
//! parent, as Python's managers keep them in a server process: each put and get is a
//! request over the child's ipc-channel and a reply on a second channel made for it. The
//! parent answers while it pumps every child's channel.

use crate::sync::QueueOwner;
use crate::workers::{AskingJob, Parent, Workers};
use contract::baseline::RawRoundTrips;
use contract::demos::queue::QueueOutcome;
use contract::demos::queue::{BASELINE, CONSUMER, GET_TIMEOUT_S, PRODUCER, TIMED};
use contract::queues::{self, Batches};
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};
use std::time::Duration;

crate::spawned::jobs!(RawRoundTrips; asking Produce, Consume, TimedPutGet);

/// Where the queues live and how workers reach them, for the report.
const SHARED_VIA: &str = "the parent, which owns the queues: each put and get is an \
                          ipc-channel request and reply; a get on an empty queue is answered \
                          when an item comes or its timeout passes";

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
    // The queues live in the parent, which serves both children while it pumps.
    let mut workers = Workers::serving(run, QueueOwner::default());

    workers.start_with(PRODUCER, Produce)?;
    let consumer = workers.start_with(CONSUMER, Consume { timeout })?;

    let mut results = workers.join_all()?;
    results
        .swap_remove(consumer.index())
        .map_err(DemoError::System)
}

/// `--count` × (put, get) by one worker, for the cost of a put+get.
fn timed_pass(run: &DemoRun, timeout: Duration) -> Result<u64, DemoError> {
    let mut workers = Workers::serving(run, QueueOwner::default());
    let count = run.count();

    workers.start_with(TIMED, TimedPutGet { count, timeout })?;

    let ns = workers.join_all()?.remove(0).map_err(DemoError::System)?;
    run.measured("ns_per_put_get", ns);
    Ok(count)
}

/// The raw round trips to compare with, measured by a worker in this same run (a child:
/// the echo threads must not start in the parent, which may fork again).
fn raw_round_trips(run: &DemoRun) -> Result<(), DemoError> {
    let mut workers = Workers::new(run);
    let count = run.count();

    workers.start(BASELINE, RawRoundTrips { count })?;

    let (crossbeam, ipc) = workers.join_all()?.remove(0).map_err(DemoError::System)?;
    run.measured("ns_per_crossbeam_round_trip", crossbeam);
    run.measured("ns_per_ipc_round_trip", ipc);
    Ok(())
}

/// A batch of puts and gets, or why the worker gave up.
type Batched = Result<Batches, String>;

/// The producer: fills the four queues in the parent.
#[derive(Serialize, Deserialize)]
pub struct Produce;

impl AskingJob for Produce {
    type Service = QueueOwner;
    type Output = Batched;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, QueueOwner>) -> Batched {
        Ok(queues::produce(out, owner))
    }
}

/// The consumer: drains each queue once it is complete.
#[derive(Serialize, Deserialize)]
pub struct Consume {
    timeout: Duration,
}

impl AskingJob for Consume {
    type Service = QueueOwner;
    type Output = Batched;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, QueueOwner>) -> Batched {
        queues::consume(out, owner, self.timeout)
    }
}

/// `count` × (put, get), timed by the worker.
#[derive(Serialize, Deserialize)]
pub struct TimedPutGet {
    count: u64,
    timeout: Duration,
}

impl AskingJob for TimedPutGet {
    type Service = QueueOwner;
    type Output = Result<f64, String>;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, QueueOwner>) -> Result<f64, String> {
        out.emit("timing", Some(format!("{} × (put, get)", self.count)));
        queues::timed_put_get(owner, self.count, self.timeout)
    }
}
