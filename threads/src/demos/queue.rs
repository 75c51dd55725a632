//! `queue` (notebook §6) on threads: a producer worker fills FIFO, LIFO and priority queues,
//! a consumer worker drains them; the notebook's `q.join()`: a tasker waits until a helper has
//! marked each task done; then a timed pass, a stream from one worker to another, and the
//! channel round trips measured beside them.
//!
//! A thread shares the parent's memory, so the queues are one value in it (a `Mutex` and a
//! `Condvar` around the four orders), which every thread reaches through an `Arc`. There is
//! one kind of queue here; processes have two (`--queue`), and time both.

use crate::sync::ThreadQueues;
use crate::workers::Workers;
use contract::baseline::RawRoundTrips;
use contract::demos::queue::{
    BASELINE, CONSUMER, GET_TIMEOUT_S, HELPER, PRODUCER, STREAM_RECEIVER, STREAM_SENDER, TASKER,
    TASKS, TIMED,
};
use contract::demos::queue::{QueueOutcome, join_order};
use contract::queues::{self, QueueWork, WorkDone};
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
/// each and calls `task_done`; the join returns after the last one.
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
    run.measured("ns_per_put_get", done.ns_per_put_get().map_err(DemoError::System)?);
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
    run.measured("stream_items_per_s", per_s);
    Ok(())
}

/// Runs each work in a thread of its own, all on one fresh set of queues, and returns what
/// each did, in the order given.
fn on_queues<const N: usize>(
    run: &DemoRun,
    works: [(&str, QueueWork); N],
) -> Result<Vec<WorkDone>, DemoError> {
    let queues = Arc::new(ThreadQueues::default());
    let mut workers = Workers::new(run);
    for (name, work) in works {
        let queues = Arc::clone(&queues);
        workers.start(name, move |out| work.run(out, &*queues))?;
    }
    let done = workers.join_all()?;
    done.into_iter()
        .map(|done| done.map_err(DemoError::System))
        .collect()
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
