//! `queue` (notebook §6) on MPI ranks: a producer worker fills FIFO, LIFO and priority queues,
//! a consumer worker drains them; the notebook's `q.join()`: a tasker waits until a helper has
//! marked each task done; then a timed pass, a stream from one worker to another, and the
//! channel round trips measured beside them.
//!
//! A rank shares no memory with another, so the queues live in one place, rank 0, as
//! Python's managers keep them in a server process (`processes --queue owner`): each put,
//! get, `task_done` and `join` is a request in an MPI message and a reply, which rank 0
//! answers while it pumps every worker's messages; a get on an empty queue and a join with
//! unfinished tasks are parked until they can be answered. There is no shared-memory kind
//! (ranks may be on different machines), so `--queue`, as for threads, is taken and ignored.

use crate::sync::QueueOwner;
use crate::workers::{AskingJob, Parent, Workers};
use contract::baseline::RawRoundTrips;
use contract::demos::queue::{
    BASELINE, CONSUMER, GET_TIMEOUT_S, HELPER, PRODUCER, STREAM_RECEIVER, STREAM_SENDER, TASKER,
    TASKS, TIMED,
};
use contract::demos::queue::{QueueOutcome, join_order};
use contract::queues::{self, QueueKind, QueueWork, WorkDone};
use contract::{DemoError, DemoRun, EventSink};
use serde::{Deserialize, Serialize};
use std::time::Duration;

crate::ranks::jobs!(RawRoundTrips; asking AskingOwner);

/// Where the queues live and how workers reach them, for the report.
const SHARED_VIA: &str = "rank 0, which owns the queues: each put, get, task_done and join is \
                          an MPI message and a reply; a get on an empty queue is answered when \
                          an item comes or its timeout passes, a join when the last task is done";

/// The one kind of queue ranks have.
const KIND: QueueKind = QueueKind::Owner;

pub fn run(run: &DemoRun) -> Result<QueueOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    let timeout = Duration::from_secs_f64(GET_TIMEOUT_S);
    let batches = produce_and_consume(run, timeout)?;
    tasks_joined(run, timeout)?;
    let timed_returned = timed_pass(run, timeout)?;
    stream(run, timeout)?;
    raw_round_trips(run)?;
    Ok(QueueOutcome::from_batches(
        &batches,
        timed_returned,
        run.count(),
        join_order(&run.trace().events()),
    ))
}

/// The notebook's `q.join()`: the tasker puts the tasks and joins the queue, the helper does
/// each and calls `task_done`; the join returns after the last one. The count of unfinished
/// tasks lives with the queue, on rank 0.
fn tasks_joined(run: &DemoRun, timeout: Duration) -> Result<(), DemoError> {
    let works = [
        (TASKER, QueueWork::GiveTasksAndJoin { tasks: TASKS, timeout }),
        (HELPER, QueueWork::DoTasks { tasks: TASKS, timeout }),
    ];
    for done in on_queues(run, works)? {
        done.tasks().map_err(DemoError::System)?;
    }
    Ok(())
}

/// The producer fills the four queues, the consumer drains each once it is complete.
fn produce_and_consume(run: &DemoRun, timeout: Duration) -> Result<queues::Batches, DemoError> {
    let mut done = on_queues(
        run,
        [
            (PRODUCER, QueueWork::Produce),
            (CONSUMER, QueueWork::Consume { timeout }),
        ],
    )?;
    done.remove(1).batches().map_err(DemoError::System)
}

/// `--count` × (put, get) by one worker, for the cost of a put+get.
fn timed_pass(run: &DemoRun, timeout: Duration) -> Result<u64, DemoError> {
    let count = run.count();
    let work = QueueWork::TimedPutGet { count, timeout };
    let [done] = on_queues(run, [(TIMED, work)])?.try_into().expect("one worker");
    let ns = done.ns_per_put_get().map_err(DemoError::System)?;
    run.measured(&format!("ns_per_put_get_{}", KIND.figure_suffix()), ns);
    run.measured("ns_per_put_get", ns);
    Ok(count)
}

/// `--count` items from one worker to another, for the items per second.
fn stream(run: &DemoRun, timeout: Duration) -> Result<(), DemoError> {
    let count = run.count();
    let works = [
        (STREAM_SENDER, QueueWork::StreamOut { count, timeout }),
        (STREAM_RECEIVER, QueueWork::StreamIn { count, timeout }),
    ];
    let [began, ended] = on_queues(run, works)?.try_into().expect("two workers");
    let at = |done: WorkDone| done.stream_at().map_err(DemoError::System);
    let per_s = queues::stream_items_per_s(count, at(began)?, at(ended)?);
    run.measured(&format!("stream_items_per_s_{}", KIND.figure_suffix()), per_s);
    run.measured("stream_items_per_s", per_s);
    Ok(())
}

/// Runs each work on a worker rank of its own, all on one fresh set of queues on rank 0, and
/// returns what each did, in the order given.
fn on_queues<const N: usize>(
    run: &DemoRun,
    works: [(&str, QueueWork); N],
) -> Result<Vec<WorkDone>, DemoError> {
    // The queues live on rank 0, which serves the workers while it pumps.
    let mut workers = Workers::serving(run, QueueOwner::default());
    for (name, work) in works {
        workers.start_with(name, AskingOwner { work })?;
    }
    workers
        .join_all()?
        .into_iter()
        .map(|done| done.map_err(DemoError::System))
        .collect()
}

/// The raw round trips to compare with, measured by a worker rank in this same run.
fn raw_round_trips(run: &DemoRun) -> Result<(), DemoError> {
    let mut workers = Workers::new(run);
    let count = run.count();

    workers.start(BASELINE, RawRoundTrips { count })?;

    let (crossbeam, ipc) = workers.join_all()?.remove(0).map_err(DemoError::System)?;
    run.measured("ns_per_crossbeam_round_trip", crossbeam);
    run.measured("ns_per_ipc_round_trip", ipc);
    Ok(())
}

/// A worker's work on the queues rank 0 owns.
#[derive(Serialize, Deserialize)]
pub struct AskingOwner {
    work: QueueWork,
}

impl AskingJob for AskingOwner {
    type Service = QueueOwner;
    type Output = Result<WorkDone, String>;

    fn run(self, out: &dyn EventSink, owner: &Parent<'_, QueueOwner>) -> Self::Output {
        self.work.run(out, owner)
    }
}
