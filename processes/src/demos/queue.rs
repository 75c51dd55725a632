//! `queue` (notebook §6) on processes: a producer worker fills FIFO, LIFO and priority queues,
//! a consumer worker drains them; the notebook's `q.join()`: a tasker waits until a helper has
//! marked each task done; then a timed pass, a stream from one worker to another, and the
//! channel round trips measured beside them.
//!
//! A worker process shares no memory with its sibling, so the queues must live where both
//! reach them. Two kinds, chosen for the producer and consumer by `--queue`, and both timed
//! in every run:
//!
//! - `owner` (the default): the queues live in one place, the parent, as Python's managers
//!   keep them in a server process; each put and get is a request over the child's
//!   ipc-channel and a reply on a second channel made for it. The parent answers while it
//!   pumps every child's channel.
//! - `shared-memory`: the items themselves live in a shared memory file every worker maps,
//!   under a robust process-shared lock, with futex waits (`shared_memory/queue.rs`): a put
//!   and a get go through no other process.

use crate::shared_memory::queue::SharedMemoryQueues;
use crate::shared_memory::{Shared, SharedMapping};
use crate::sync::QueueOwner;
use crate::workers::{AskingJob, Job, Parent, Workers};
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

crate::spawned::jobs!(RawRoundTrips, InSharedMemory; asking AskingOwner);

/// Where the queues live and how workers reach them, for the report.
fn shared_via(kind: QueueKind) -> &'static str {
    match kind {
        QueueKind::Owner => {
            "the parent, which owns the queues: each put and get is an ipc-channel request \
             and reply; a get on an empty queue is answered when an item comes or its timeout \
             passes"
        }
        QueueKind::SharedMemory => {
            "an IpcSharedMemory (a memfd mapped MAP_SHARED) every worker maps: the items in \
             slots (a ring, a heap for priority) under a pthread_mutex_t with \
             PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST; an empty get or a full put sleeps \
             on a shared futex"
        }
    }
}

pub fn run(run: &DemoRun) -> Result<QueueOutcome, DemoError> {
    let kind = run.options().queue.unwrap_or_default();
    run.figures(|f| f.shared_via = Some(shared_via(kind).into()));
    let timeout = Duration::from_secs_f64(GET_TIMEOUT_S);
    let batches = produce_and_consume(run, kind, timeout)?;
    tasks_joined(run, kind, timeout)?;
    let timed_returned = timed_pass(run, kind, timeout)?;
    stream(run, kind, timeout)?;
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
/// tasks lives with the queue: in the owner, or in the shared memory file.
fn tasks_joined(run: &DemoRun, kind: QueueKind, timeout: Duration) -> Result<(), DemoError> {
    let works = [
        (TASKER, QueueWork::GiveTasksAndJoin { tasks: TASKS, timeout }),
        (HELPER, QueueWork::DoTasks { tasks: TASKS, timeout }),
    ];
    for done in on_queues(run, kind, works)? {
        done.tasks().map_err(DemoError::System)?;
    }
    Ok(())
}

/// The producer fills the four queues, the consumer drains each once it is complete.
fn produce_and_consume(
    run: &DemoRun,
    kind: QueueKind,
    timeout: Duration,
) -> Result<queues::Batches, DemoError> {
    let mut done = on_queues(
        run,
        kind,
        [
            (PRODUCER, QueueWork::Produce),
            (CONSUMER, QueueWork::Consume { timeout }),
        ],
    )?;
    done.remove(1).batches().map_err(DemoError::System)
}

/// `--count` × (put, get) by one worker, for the cost of a put+get: on each kind of queue;
/// the kind of `--queue` is also `ns_per_put_get`.
fn timed_pass(run: &DemoRun, kind: QueueKind, timeout: Duration) -> Result<u64, DemoError> {
    let count = run.count();
    for each in QueueKind::ALL {
        let work = QueueWork::TimedPutGet { count, timeout };
        let [done] = on_queues(run, each, [(TIMED, work)])?.try_into().expect("one worker");
        let ns = done.ns_per_put_get().map_err(DemoError::System)?;
        run.measured(&format!("ns_per_put_get_{}", each.figure_suffix()), ns);
        if each == kind {
            run.measured("ns_per_put_get", ns);
        }
    }
    Ok(count)
}

/// `--count` items from one worker to another, for the items per second: on each kind of
/// queue; the kind of `--queue` is also `stream_items_per_s`.
fn stream(run: &DemoRun, kind: QueueKind, timeout: Duration) -> Result<(), DemoError> {
    let count = run.count();
    for each in QueueKind::ALL {
        let works = [
            (STREAM_SENDER, QueueWork::StreamOut { count, timeout }),
            (STREAM_RECEIVER, QueueWork::StreamIn { count, timeout }),
        ];
        let [began, ended] = on_queues(run, each, works)?.try_into().expect("two workers");
        let at = |done: WorkDone| done.stream_at().map_err(DemoError::System);
        let per_s = queues::stream_items_per_s(count, at(began)?, at(ended)?);
        run.measured(&format!("stream_items_per_s_{}", each.figure_suffix()), per_s);
        if each == kind {
            run.measured("stream_items_per_s", per_s);
        }
    }
    Ok(())
}

/// Runs each work in a worker process of its own, all on one fresh set of queues of `kind`,
/// and returns what each did, in the order given.
fn on_queues<const N: usize>(
    run: &DemoRun,
    kind: QueueKind,
    works: [(&str, QueueWork); N],
) -> Result<Vec<WorkDone>, DemoError> {
    let done = match kind {
        QueueKind::Owner => {
            // The queues live in the parent, which serves the children while it pumps.
            let mut workers = Workers::serving(run, QueueOwner::default());
            for (name, work) in works {
                workers.start_with(name, AskingOwner { work })?;
            }
            workers.join_all()?
        }
        QueueKind::SharedMemory => {
            // Made before the workers start: each maps the same memory file.
            let queues = SharedMapping::new(SharedMemoryQueues::default())?;
            let mut workers = Workers::new(run);
            for (name, work) in works {
                let queues = queues.handle();
                workers.start(name, InSharedMemory { queues, work })?;
            }
            workers.join_all()?
        }
    };
    done.into_iter()
        .map(|done| done.map_err(DemoError::System))
        .collect()
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

/// A worker's work on the queues its parent owns.
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

/// A worker's work on the queues in shared memory.
#[derive(Serialize, Deserialize)]
pub struct InSharedMemory {
    queues: Shared<SharedMemoryQueues>,
    work: QueueWork,
}

impl Job for InSharedMemory {
    type Output = Result<WorkDone, String>;

    fn run(self, out: &dyn EventSink) -> Self::Output {
        // SAFETY: the handle comes from the parent's `SharedMapping<SharedMemoryQueues>` in
        // `on_queues`, sent in this job.
        let queues = unsafe { self.queues.map() }?;
        self.work.run(out, &*queues)
    }
}
