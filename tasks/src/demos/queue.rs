//! `queue` (notebook §6) on tasks: a producer worker fills FIFO, LIFO and priority queues,
//! a consumer worker drains them; the notebook's `q.join()`: a tasker awaits until a helper
//! has marked each task done; then a timed pass, a stream from one worker to another, and the
//! channel round trips measured beside them.
//!
//! A task shares the parent's memory, so the queues are one value in it (the orders under a
//! `Mutex` held only while an item moves, and a `Notify` that wakes the tasks awaiting an
//! item), which every task reaches through an `Arc`. The workers' steps are the contract's
//! (`contract::queues`), each wait awaited.

use crate::sync::TaskQueues;
use crate::workers::{TaskSink, Workers, on_runtime};
use contract::baseline::RawRoundTrips;
use contract::demos::queue::{
    BASELINE, CONSUMER, GET_TIMEOUT_S, HELPER, PRODUCER, STREAM_RECEIVER, STREAM_SENDER, TASKER,
    TASKS, TIMED,
};
use contract::demos::queue::{QueueOutcome, joined_said, joining_said, join_order};
use contract::queues::{self, Batches, Item, QueueName, QueueWork, WorkDone};
use contract::trace::monotonic_ns;
use contract::{DemoError, DemoRun, EventSink, Job};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the queues live and what guards them, for the report.
const SHARED_VIA: &str = "the process's own memory: Arc<Mutex<queues>> with a tokio Notify \
                          that wakes the tasks awaiting an item";

pub fn run(run: &DemoRun) -> Result<QueueOutcome, DemoError> {
    run.figures(|f| f.shared_via = Some(SHARED_VIA.into()));
    on_runtime(run, |run| async move { queue(&run).await })
}

async fn queue(run: &DemoRun) -> Result<QueueOutcome, DemoError> {
    let timeout = Duration::from_secs_f64(GET_TIMEOUT_S);
    let batches = produce_and_consume(run, timeout).await?;
    tasks_joined(run, timeout).await?;
    let timed_returned = timed_pass(run, timeout).await?;
    stream(run, timeout).await?;
    raw_round_trips(run).await?;
    Ok(QueueOutcome::from_batches(
        &batches,
        timed_returned,
        run.count(),
        join_order(&run.trace().events()),
    ))
}

/// The notebook's `q.join()`: the tasker puts the tasks and awaits the queue's join, the
/// helper does each and calls `task_done`; the join returns after the last one.
async fn tasks_joined(run: &DemoRun, timeout: Duration) -> Result<(), DemoError> {
    let works = [
        (TASKER, QueueWork::GiveTasksAndJoin { tasks: TASKS, timeout }),
        (HELPER, QueueWork::DoTasks { tasks: TASKS, timeout }),
    ];
    for done in on_queues(run, works).await? {
        done.tasks().map_err(DemoError::System)?;
    }
    Ok(())
}

/// The producer fills the four queues, the consumer drains each once it is complete.
async fn produce_and_consume(run: &DemoRun, timeout: Duration) -> Result<Batches, DemoError> {
    let mut done = on_queues(
        run,
        [
            (PRODUCER, QueueWork::Produce),
            (CONSUMER, QueueWork::Consume { timeout }),
        ],
    )
    .await?;
    done.remove(1).batches().map_err(DemoError::System)
}

/// `--count` × (put, get) by one worker, for the cost of a put+get.
async fn timed_pass(run: &DemoRun, timeout: Duration) -> Result<u64, DemoError> {
    let count = run.count();
    let work = QueueWork::TimedPutGet { count, timeout };
    let [done] = on_queues(run, [(TIMED, work)])
        .await?
        .try_into()
        .expect("one worker");
    run.measured("ns_per_put_get", done.ns_per_put_get().map_err(DemoError::System)?);
    Ok(count)
}

/// `--count` items from one worker to another, for the items per second.
async fn stream(run: &DemoRun, timeout: Duration) -> Result<(), DemoError> {
    let count = run.count();
    let works = [
        (STREAM_SENDER, QueueWork::StreamOut { count, timeout }),
        (STREAM_RECEIVER, QueueWork::StreamIn { count, timeout }),
    ];
    let [began, ended] = on_queues(run, works)
        .await?
        .try_into()
        .expect("two workers");
    let at = |done: WorkDone| done.stream_at().map_err(DemoError::System);
    let per_s = queues::stream_items_per_s(count, at(began)?, at(ended)?);
    run.measured("stream_items_per_s", per_s);
    Ok(())
}

/// Runs each work in a task of its own, all on one fresh set of queues, and returns what
/// each did, in the order given.
async fn on_queues<const N: usize>(
    run: &DemoRun,
    works: [(&str, QueueWork); N],
) -> Result<Vec<WorkDone>, DemoError> {
    let queues = Arc::new(TaskQueues::default());
    let mut workers = Workers::new(run);
    for (name, work) in works {
        let queues = Arc::clone(&queues);
        workers
            .start(name, move |out| async move {
                run_work(work, &out, &queues).await
            })
            .await?;
    }
    let done = workers.join_all().await?;
    done.into_iter()
        .map(|done| done.map_err(DemoError::System))
        .collect()
}

/// The raw round trips to compare with, measured by a worker in this same run: they block
/// (crossbeam's and ipc-channel's receives), so the worker hands them to a thread of the
/// blocking pool and awaits it.
async fn raw_round_trips(run: &DemoRun) -> Result<(), DemoError> {
    let mut workers = Workers::new(run);
    let count = run.count();

    let task = RawRoundTrips { count };
    workers
        .start(BASELINE, move |out| async move {
            let on_a_thread = tokio::task::spawn_blocking(move || task.run(&out));
            on_a_thread
                .await
                .map_err(|e| format!("the raw round trips: {e}"))?
        })
        .await?;

    let (crossbeam, ipc) = workers
        .join_all()
        .await?
        .remove(0)
        .map_err(DemoError::System)?;
    run.measured("ns_per_crossbeam_round_trip", crossbeam);
    run.measured("ns_per_ipc_round_trip", ipc);
    Ok(())
}

/// `QueueWork::run` with its gets awaited: the same steps and events as
/// `contract::queues`' producer, consumer, timed pass and stream.
async fn run_work(
    work: QueueWork,
    out: &TaskSink,
    queues: &TaskQueues,
) -> Result<WorkDone, String> {
    match work {
        QueueWork::Produce => queues::produce(out, &Putter(queues)).map(WorkDone::Batches),
        QueueWork::Consume { timeout } => consume(out, queues, timeout)
            .await
            .map(WorkDone::Batches),
        QueueWork::TimedPutGet { count, timeout } => {
            out.emit("timing", Some(format!("{count} × (put, get)")));
            timed_put_get(queues, count, timeout)
                .await
                .map(WorkDone::NsPerPutGet)
        }
        QueueWork::StreamOut { count, timeout } => {
            out.emit("streaming", Some(format!("{count} items")));
            stream_out(queues, count, timeout)
                .await
                .map(WorkDone::StreamAt)
        }
        QueueWork::StreamIn { count, timeout } => {
            out.emit("receiving", Some(format!("{count} items")));
            stream_in(queues, count, timeout)
                .await
                .map(WorkDone::StreamAt)
        }
        QueueWork::GiveTasksAndJoin { tasks, timeout } => {
            give_tasks_and_join(out, queues, tasks, timeout)
                .await
                .map(WorkDone::Tasks)
        }
        QueueWork::DoTasks { tasks, timeout } => do_tasks(out, queues, tasks, timeout)
            .await
            .map(WorkDone::Tasks),
    }
}

/// The tasker (`contract::queues::give_tasks_and_join`): puts the tasks, then awaits the
/// queue's join.
async fn give_tasks_and_join(
    out: &TaskSink,
    queues: &TaskQueues,
    tasks: u64,
    timeout: Duration,
) -> Result<u64, String> {
    for task in 1..=tasks {
        out.emit("put", Some(format!("task {task}")));
        queues.put(QueueName::Tasks, Item::Number(task as i64))?;
    }
    out.emit("joining", Some(joining_said(tasks)));
    if !queues.join(QueueName::Tasks, timeout).await? {
        return Err(format!(
            "join on 'tasks' did not return within {} s",
            timeout.as_secs_f64()
        ));
    }
    out.emit("joined", Some(joined_said(tasks)));
    Ok(tasks)
}

/// The helper (`contract::queues::do_tasks`): awaits each task, does it, and marks it done;
/// the event comes before the `task_done`, so that it precedes the join that call lets return.
async fn do_tasks(
    out: &TaskSink,
    queues: &TaskQueues,
    tasks: u64,
    timeout: Duration,
) -> Result<u64, String> {
    for done in 1..=tasks {
        let task = queues
            .get(QueueName::Tasks, timeout)
            .await?
            .ok_or_else(|| format!("no task came within {} s", timeout.as_secs_f64()))?;
        out.emit("got", Some(format!("task {}", task.label())));
        out.emit(
            "task_done",
            Some(format!("task {} ({done} of {tasks})", task.label())),
        );
        queues.task_done(QueueName::Tasks)?;
    }
    Ok(tasks)
}

/// The queues as the contract's producer sees them: it only puts, and a put never waits
/// (the queues are unbounded), so the contract's own `produce` runs as it is.
struct Putter<'a>(&'a TaskQueues);

impl queues::SharedQueue for Putter<'_> {
    fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
        self.0.put(queue, item)
    }

    fn get(&self, _: QueueName, _: Duration) -> Result<Option<Item>, String> {
        Err("the producer does not get".into())
    }

    fn task_done(&self, queue: QueueName) -> Result<(), String> {
        self.0.task_done(queue)
    }

    fn join(&self, _: QueueName, _: Duration) -> Result<bool, String> {
        Err("the producer does not join".into())
    }
}

/// The consumer (`contract::queues::consume`): awaits `Ready` for each batch, then gets as
/// many items as the batch holds.
async fn consume(
    out: &TaskSink,
    queues: &TaskQueues,
    timeout: Duration,
) -> Result<Batches, String> {
    out.emit(
        "consuming",
        Some(format!("{} batches", QueueName::BATCHES.len())),
    );
    let nothing_came = |queue: QueueName| {
        format!(
            "nothing came on '{}' within {} s",
            queue.id(),
            timeout.as_secs_f64()
        )
    };
    let mut batches = Vec::new();
    for _ in QueueName::BATCHES {
        let ready = queues
            .get(QueueName::Ready, timeout)
            .await?
            .ok_or_else(|| nothing_came(QueueName::Ready))?;
        let batch = match ready {
            Item::Number(n) => QueueName::BATCHES.get(n as usize).copied(),
            Item::Pair(..) => None,
        }
        .ok_or_else(|| format!("'ready' named no batch: {ready:?}"))?;
        let mut got = Vec::new();
        for _ in batch.puts() {
            let item = queues
                .get(batch, timeout)
                .await?
                .ok_or_else(|| nothing_came(batch))?;
            out.emit("got", Some(format!("{} {}", batch.id(), item.label())));
            got.push(item);
        }
        batches.push((batch, got));
    }
    Ok(batches)
}

/// The timed pass (`contract::queues::timed_put_get`): `count` × (put, get), in ns per pair.
async fn timed_put_get(queues: &TaskQueues, count: u64, timeout: Duration) -> Result<f64, String> {
    let started = Instant::now();
    for n in 0..count as i64 {
        queues.put(QueueName::Timed, Item::Number(n))?;
        match queues.get(QueueName::Timed, timeout).await? {
            Some(Item::Number(got)) if got == n => {}
            other => return Err(format!("put {n} on 'timed', got {other:?} back")),
        }
    }
    Ok(started.elapsed().as_nanos() as f64 / count as f64)
}

/// The stream's sender (`contract::queues::stream_out`): awaits the receiver's `Ready`, then
/// puts `0…count`; returns when it began, on the system-wide monotonic clock.
async fn stream_out(queues: &TaskQueues, count: u64, timeout: Duration) -> Result<u64, String> {
    if queues.get(QueueName::Ready, timeout).await?.is_none() {
        return Err(format!(
            "the stream's receiver was not ready within {} s",
            timeout.as_secs_f64()
        ));
    }
    let began_ns = monotonic_ns();
    for n in 0..count as i64 {
        queues.put(QueueName::Stream, Item::Number(n))?;
    }
    Ok(began_ns)
}

/// The stream's receiver (`contract::queues::stream_in`): says it is ready, then gets
/// `count` items, each checked to be the next number; returns when the last one came.
async fn stream_in(queues: &TaskQueues, count: u64, timeout: Duration) -> Result<u64, String> {
    queues.put(QueueName::Ready, Item::Number(0))?;
    for n in 0..count as i64 {
        match queues.get(QueueName::Stream, timeout).await? {
            Some(Item::Number(got)) if got == n => {}
            other => return Err(format!("item {n} of the stream came as {other:?}")),
        }
    }
    Ok(monotonic_ns())
}
