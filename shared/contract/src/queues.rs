//! `queue`'s orderings and its producer and consumer, written once for both backends.
//!
//! A backend supplies only the queue itself, behind [`SharedQueue`]: in `threads` a map of
//! [`OrderedQueue`]s under a mutex with a condition variable; in `processes` either the same
//! map kept by the parent and reached by request and reply over ipc-channel
//! ([`QueueKind::Owner`]), or the items themselves in a shared memory file every worker maps
//! ([`QueueKind::SharedMemory`]). What a worker does with the queues is data
//! ([`QueueWork`]), so that a thread and a worker process run the same value.

use crate::demos::queue::{FIFO_PUTS, PRIORITY_PUTS};
use crate::trace::{EventSink, monotonic_ns};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

/// The notebook's three orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// First in, first out (Python's `Queue`).
    Fifo,
    /// Last in, first out (`LifoQueue`).
    Lifo,
    /// Lowest first, whatever the order of the puts (`PriorityQueue`).
    Priority,
}

/// Where a backend of worker processes keeps the queues its workers share (`--queue`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum QueueKind {
    /// In one process, the parent, which every worker asks by request and reply over a
    /// channel: what Python's managers do.
    #[default]
    Owner,
    /// The items in a shared memory file every worker maps, under a process-shared lock,
    /// with futex waits: no process in between.
    SharedMemory,
}

impl QueueKind {
    pub const ALL: [QueueKind; 2] = [QueueKind::Owner, QueueKind::SharedMemory];

    /// As on the command line, e.g. `shared-memory`.
    pub fn id(self) -> &'static str {
        match self {
            QueueKind::Owner => "owner",
            QueueKind::SharedMemory => "shared-memory",
        }
    }

    /// As in a figure's name, e.g. `ns_per_put_get_shared_memory`.
    pub fn figure_suffix(self) -> &'static str {
        match self {
            QueueKind::Owner => "owner",
            QueueKind::SharedMemory => "shared_memory",
        }
    }
}

/// The queues of the demo. The four batches of the notebook, plus `Ready` (FIFO), on which
/// the producer names each batch once it is complete (and the stream's receiver says it is
/// ready), `Timed` for the timed pass, `Stream` for the stream, and `Tasks` (FIFO), the
/// joinable queue of the notebook's `q.join()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QueueName {
    Fifo,
    Lifo,
    Priority,
    PriorityPairs,
    Ready,
    Timed,
    Stream,
    Tasks,
}

impl QueueName {
    /// Every queue, in the order of [`QueueName::index`].
    pub const ALL: [QueueName; 8] = [
        QueueName::Fifo,
        QueueName::Lifo,
        QueueName::Priority,
        QueueName::PriorityPairs,
        QueueName::Ready,
        QueueName::Timed,
        QueueName::Stream,
        QueueName::Tasks,
    ];

    /// Its place in [`QueueName::ALL`], for a backend that keeps the queues in an array.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The notebook's four batches, in the order the producer fills them.
    pub const BATCHES: [QueueName; 4] = [
        QueueName::Fifo,
        QueueName::Lifo,
        QueueName::Priority,
        QueueName::PriorityPairs,
    ];

    pub fn order(self) -> Order {
        match self {
            QueueName::Fifo
            | QueueName::Ready
            | QueueName::Timed
            | QueueName::Stream
            | QueueName::Tasks => Order::Fifo,
            QueueName::Lifo => Order::Lifo,
            QueueName::Priority | QueueName::PriorityPairs => Order::Priority,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            QueueName::Fifo => "fifo",
            QueueName::Lifo => "lifo",
            QueueName::Priority => "priority",
            QueueName::PriorityPairs => "priority-pairs",
            QueueName::Ready => "ready",
            QueueName::Timed => "timed",
            QueueName::Stream => "stream",
            QueueName::Tasks => "tasks",
        }
    }

    /// What the producer puts into a batch, in the notebook's order.
    pub fn puts(self) -> Vec<Item> {
        match self {
            QueueName::Fifo | QueueName::Lifo => FIFO_PUTS.map(Item::Number).to_vec(),
            QueueName::Priority => PRIORITY_PUTS.map(Item::Number).to_vec(),
            QueueName::PriorityPairs => PRIORITY_PUTS
                .map(|n| Item::Pair(n, format!("Priority {n}")))
                .to_vec(),
            QueueName::Ready | QueueName::Timed | QueueName::Stream | QueueName::Tasks => {
                Vec::new()
            }
        }
    }
}

/// One element of a queue: a number, or Python's `(priority, text)` tuple. The derived
/// order compares the number first, then the text, as Python compares tuples.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Item {
    Number(i64),
    Pair(i64, String),
}

impl Item {
    /// What the notebook prints for it: the number, or the tuple's text (`q.get()[1]`).
    pub fn label(&self) -> String {
        match self {
            Item::Number(n) => n.to_string(),
            Item::Pair(_, text) => text.clone(),
        }
    }
}

/// A queue with one of the three orders. Not synchronised: each backend guards it its own way.
///
/// It counts its unfinished tasks as Python's `queue.Queue` does: a put adds one, a
/// [`task_done`](Self::task_done) takes one off, and `join` waits for none to be left.
#[derive(Debug)]
pub struct OrderedQueue {
    order: Order,
    in_line: VecDeque<Item>,
    by_priority: BinaryHeap<Reverse<Item>>,
    unfinished: u64,
}

impl OrderedQueue {
    pub fn new(order: Order) -> Self {
        OrderedQueue {
            order,
            in_line: VecDeque::new(),
            by_priority: BinaryHeap::new(),
            unfinished: 0,
        }
    }

    pub fn push(&mut self, item: Item) {
        self.unfinished += 1;
        match self.order {
            Order::Fifo | Order::Lifo => self.in_line.push_back(item),
            Order::Priority => self.by_priority.push(Reverse(item)),
        }
    }

    /// One item got from this queue has been dealt with (Python's `task_done`). Returns
    /// true when that was the last unfinished one: a `join` may return.
    pub fn task_done(&mut self) -> Result<bool, String> {
        self.unfinished = self
            .unfinished
            .checked_sub(1)
            .ok_or_else(|| TASK_DONE_TOO_OFTEN.to_string())?;
        Ok(self.unfinished == 0)
    }

    /// Items put and not yet marked done.
    pub fn unfinished(&self) -> u64 {
        self.unfinished
    }

    /// The next item in this queue's order, if any.
    pub fn pop(&mut self) -> Option<Item> {
        match self.order {
            Order::Fifo => self.in_line.pop_front(),
            Order::Lifo => self.in_line.pop_back(),
            Order::Priority => self.by_priority.pop().map(|Reverse(item)| item),
        }
    }
}

/// A set of named queues several workers share. `get` blocks while the queue is empty, at
/// most `timeout`, and returns `Ok(None)` if nothing came: it never spins. A bounded queue's
/// `put` blocks while it is full, at most [`FULL_WAIT_S`]. `Err` says why the queues cannot
/// be used at all (their lock's holder died holding it, an item too large for a slot).
pub trait SharedQueue {
    fn put(&self, queue: QueueName, item: Item) -> Result<(), String>;
    fn get(&self, queue: QueueName, timeout: Duration) -> Result<Option<Item>, String>;
    /// Python's `task_done`: one item got from `queue` has been dealt with.
    fn task_done(&self, queue: QueueName) -> Result<(), String>;
    /// Python's `join`: blocks until every item put on `queue` has had its `task_done`, at
    /// most `timeout`; false if time ran out first. It sleeps meanwhile: it never spins.
    fn join(&self, queue: QueueName, timeout: Duration) -> Result<bool, String>;
}

/// What a `task_done` without an unfinished item says (Python raises `ValueError`).
pub const TASK_DONE_TOO_OFTEN: &str = "task_done() called more times than items were put";

/// How long a put waits on a full bounded queue before it gives up: as long as a get waits.
pub const FULL_WAIT_S: f64 = crate::demos::queue::GET_TIMEOUT_S;

/// The producer: fills each batch, then puts the batch's number on `Ready`. Returns what
/// it put.
///
/// The consumer drains a batch only once it is complete: LIFO and priority orders are about
/// the items that are in the queue together, and a get on a queue that is still being
/// filled takes whatever is there.
pub fn produce(out: &dyn EventSink, queues: &dyn SharedQueue) -> Result<Batches, String> {
    out.emit(
        "producing",
        Some(format!("{} batches", QueueName::BATCHES.len())),
    );
    let mut batches = Vec::new();
    for (number, batch) in QueueName::BATCHES.into_iter().enumerate() {
        for item in batch.puts() {
            out.emit("put", Some(format!("{} {}", batch.id(), item.label())));
            queues.put(batch, item)?;
        }
        queues.put(QueueName::Ready, Item::Number(number as i64))?;
        batches.push((batch, batch.puts()));
    }
    Ok(batches)
}

/// The items of each batch, in the order they were put or got.
pub type Batches = Vec<(QueueName, Vec<Item>)>;

/// The consumer: waits on `Ready` for each batch (a blocking get: the producer is still at
/// work), then gets as many items as the batch holds.
pub fn consume(
    out: &dyn EventSink,
    queues: &dyn SharedQueue,
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
            .get(QueueName::Ready, timeout)?
            .ok_or_else(|| nothing_came(QueueName::Ready))?;
        let batch = match ready {
            Item::Number(n) => QueueName::BATCHES.get(n as usize).copied(),
            Item::Pair(..) => None,
        }
        .ok_or_else(|| format!("'ready' named no batch: {ready:?}"))?;
        let mut got = Vec::new();
        for _ in batch.puts() {
            let item = queues
                .get(batch, timeout)?
                .ok_or_else(|| nothing_came(batch))?;
            out.emit("got", Some(format!("{} {}", batch.id(), item.label())));
            got.push(item);
        }
        batches.push((batch, got));
    }
    Ok(batches)
}

/// The timed pass: `count` × (put a number on `Timed`, get it back). Returns the nanoseconds
/// per put+get, or the first item that did not come back as put.
pub fn timed_put_get(
    queues: &dyn SharedQueue,
    count: u64,
    timeout: Duration,
) -> Result<f64, String> {
    let started = Instant::now();
    for n in 0..count as i64 {
        queues.put(QueueName::Timed, Item::Number(n))?;
        match queues.get(QueueName::Timed, timeout)? {
            Some(Item::Number(got)) if got == n => {}
            other => return Err(format!("put {n} on 'timed', got {other:?} back")),
        }
    }
    Ok(started.elapsed().as_nanos() as f64 / count as f64)
}

/// The stream's sender: waits until the receiver is ready (an item on `Ready`), then puts
/// `0…count` on `Stream` as fast as the queue takes them. Returns when it began, on the
/// system-wide monotonic clock ([`monotonic_ns`]), which a worker process reads alike.
pub fn stream_out(queues: &dyn SharedQueue, count: u64, timeout: Duration) -> Result<u64, String> {
    if queues.get(QueueName::Ready, timeout)?.is_none() {
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

/// The stream's receiver: says it is ready, then gets `count` items from `Stream`, each
/// checked to be the next number. Returns when the last one came (see [`stream_out`]).
pub fn stream_in(queues: &dyn SharedQueue, count: u64, timeout: Duration) -> Result<u64, String> {
    queues.put(QueueName::Ready, Item::Number(0))?;
    for n in 0..count as i64 {
        match queues.get(QueueName::Stream, timeout)? {
            Some(Item::Number(got)) if got == n => {}
            other => return Err(format!("item {n} of the stream came as {other:?}")),
        }
    }
    Ok(monotonic_ns())
}

/// Items per second through a stream of `count` items that began at `began_ns` (the sender's
/// first put) and ended at `ended_ns` (the receiver's last get).
pub fn stream_items_per_s(count: u64, began_ns: u64, ended_ns: u64) -> f64 {
    count as f64 / (ended_ns.saturating_sub(began_ns).max(1) as f64 / 1e9)
}

/// The tasker of the notebook's `q.join()`: puts `tasks` tasks on [`QueueName::Tasks`], then
/// joins the queue: `join` returns once the helper has marked each task done, not when the
/// queue is merely empty (the last task is taken before it is done). Returns the tasks put.
pub fn give_tasks_and_join(
    out: &dyn EventSink,
    queues: &dyn SharedQueue,
    tasks: u64,
    timeout: Duration,
) -> Result<u64, String> {
    for task in 1..=tasks {
        out.emit("put", Some(format!("task {task}")));
        queues.put(QueueName::Tasks, Item::Number(task as i64))?;
    }
    out.emit("joining", Some(crate::demos::queue::joining_said(tasks)));
    if !queues.join(QueueName::Tasks, timeout)? {
        return Err(format!(
            "join on 'tasks' did not return within {} s",
            timeout.as_secs_f64()
        ));
    }
    out.emit("joined", Some(crate::demos::queue::joined_said(tasks)));
    Ok(tasks)
}

/// The helper: gets each of `tasks` tasks, does it, and marks it done; the event comes before
/// the `task_done`, so that it precedes any `join` that call lets return. Returns the tasks
/// done.
pub fn do_tasks(
    out: &dyn EventSink,
    queues: &dyn SharedQueue,
    tasks: u64,
    timeout: Duration,
) -> Result<u64, String> {
    for done in 1..=tasks {
        let task = queues
            .get(QueueName::Tasks, timeout)?
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

/// What one worker does with the queues, as data: a thread runs it from a closure, a worker
/// process receives it in its job, and both call [`QueueWork::run`] on their queues.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum QueueWork {
    /// The notebook's producer ([`produce`]).
    Produce,
    /// The notebook's consumer ([`consume`]).
    Consume { timeout: Duration },
    /// `count` × (put, get) ([`timed_put_get`]).
    TimedPutGet { count: u64, timeout: Duration },
    /// The stream's sender ([`stream_out`]).
    StreamOut { count: u64, timeout: Duration },
    /// The stream's receiver ([`stream_in`]).
    StreamIn { count: u64, timeout: Duration },
    /// The tasker of `q.join()` ([`give_tasks_and_join`]).
    GiveTasksAndJoin { tasks: u64, timeout: Duration },
    /// The helper that does the tasks ([`do_tasks`]).
    DoTasks { tasks: u64, timeout: Duration },
}

/// What a [`QueueWork`] hands back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WorkDone {
    /// The batches put or got.
    Batches(Batches),
    /// Nanoseconds per put+get.
    NsPerPutGet(f64),
    /// When the stream began or ended, on the system-wide monotonic clock.
    StreamAt(u64),
    /// Tasks put and joined, or done.
    Tasks(u64),
}

impl QueueWork {
    /// Does the work on `queues`; its events go to `out`.
    pub fn run(self, out: &dyn EventSink, queues: &dyn SharedQueue) -> Result<WorkDone, String> {
        match self {
            QueueWork::Produce => produce(out, queues).map(WorkDone::Batches),
            QueueWork::Consume { timeout } => consume(out, queues, timeout).map(WorkDone::Batches),
            QueueWork::TimedPutGet { count, timeout } => {
                out.emit("timing", Some(format!("{count} × (put, get)")));
                timed_put_get(queues, count, timeout).map(WorkDone::NsPerPutGet)
            }
            QueueWork::StreamOut { count, timeout } => {
                out.emit("streaming", Some(format!("{count} items")));
                stream_out(queues, count, timeout).map(WorkDone::StreamAt)
            }
            QueueWork::StreamIn { count, timeout } => {
                out.emit("receiving", Some(format!("{count} items")));
                stream_in(queues, count, timeout).map(WorkDone::StreamAt)
            }
            QueueWork::GiveTasksAndJoin { tasks, timeout } => {
                give_tasks_and_join(out, queues, tasks, timeout).map(WorkDone::Tasks)
            }
            QueueWork::DoTasks { tasks, timeout } => {
                do_tasks(out, queues, tasks, timeout).map(WorkDone::Tasks)
            }
        }
    }
}

impl WorkDone {
    pub fn batches(self) -> Result<Batches, String> {
        match self {
            WorkDone::Batches(batches) => Ok(batches),
            other => Err(format!("expected batches, got {other:?}")),
        }
    }

    pub fn ns_per_put_get(self) -> Result<f64, String> {
        match self {
            WorkDone::NsPerPutGet(ns) => Ok(ns),
            other => Err(format!("expected a time per put+get, got {other:?}")),
        }
    }

    pub fn tasks(self) -> Result<u64, String> {
        match self {
            WorkDone::Tasks(tasks) => Ok(tasks),
            other => Err(format!("expected a number of tasks, got {other:?}")),
        }
    }

    pub fn stream_at(self) -> Result<u64, String> {
        match self {
            WorkDone::StreamAt(ns) => Ok(ns),
            other => Err(format!("expected a time of the stream, got {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(batch: QueueName) -> Vec<String> {
        let mut queue = OrderedQueue::new(batch.order());
        for item in batch.puts() {
            queue.push(item);
        }
        std::iter::from_fn(|| queue.pop())
            .map(|i| i.label())
            .collect()
    }

    #[test]
    fn the_notebooks_four_orders() {
        assert_eq!(drained(QueueName::Fifo), ["0", "1", "2", "3", "4"]);
        assert_eq!(drained(QueueName::Lifo), ["4", "3", "2", "1", "0"]);
        assert_eq!(drained(QueueName::Priority), ["1", "2", "3", "4"]);
        assert_eq!(
            drained(QueueName::PriorityPairs),
            ["Priority 1", "Priority 2", "Priority 3", "Priority 4"]
        );
    }

    /// One thread's queues, for the work's known answers.
    #[derive(Default)]
    struct Local(std::cell::RefCell<std::collections::BTreeMap<QueueName, OrderedQueue>>);

    impl SharedQueue for Local {
        fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
            let mut queues = self.0.borrow_mut();
            let line = queues
                .entry(queue)
                .or_insert_with(|| OrderedQueue::new(queue.order()));
            line.push(item);
            Ok(())
        }

        fn get(&self, queue: QueueName, _: Duration) -> Result<Option<Item>, String> {
            Ok(self
                .0
                .borrow_mut()
                .get_mut(&queue)
                .and_then(OrderedQueue::pop))
        }

        fn task_done(&self, queue: QueueName) -> Result<(), String> {
            let mut queues = self.0.borrow_mut();
            let line = queues
                .get_mut(&queue)
                .ok_or_else(|| TASK_DONE_TOO_OFTEN.to_string())?;
            line.task_done().map(drop)
        }

        fn join(&self, queue: QueueName, _: Duration) -> Result<bool, String> {
            Ok(self
                .0
                .borrow()
                .get(&queue)
                .is_none_or(|line| line.unfinished() == 0))
        }
    }

    #[test]
    fn a_queue_counts_its_unfinished_tasks_as_python_s_does() {
        let mut queue = OrderedQueue::new(Order::Fifo);
        assert_eq!(queue.task_done(), Err(TASK_DONE_TOO_OFTEN.to_string()));
        queue.push(Item::Number(1));
        queue.push(Item::Number(2));
        assert_eq!(queue.pop(), Some(Item::Number(1)));
        assert_eq!(queue.pop(), Some(Item::Number(2)));
        // Empty, yet two tasks unfinished: `join` would still wait.
        assert_eq!(queue.unfinished(), 2);
        assert_eq!(queue.task_done(), Ok(false));
        assert_eq!(queue.task_done(), Ok(true));
        assert_eq!(queue.unfinished(), 0);
        // One queue here: join on tasks not done yet would not return, so the helper runs
        // first, then the tasker's join finds nothing unfinished.
        let queues = Local::default();
        let sink = crate::workloads::testing::Recorder::default();
        let timeout = Duration::ZERO;
        for task in 1..=3 {
            queues.put(QueueName::Tasks, Item::Number(task)).unwrap();
        }
        assert_eq!(queues.join(QueueName::Tasks, timeout), Ok(false));
        assert_eq!(do_tasks(&sink, &queues, 3, timeout), Ok(3));
        assert_eq!(queues.join(QueueName::Tasks, timeout), Ok(true));
        assert_eq!(
            queues.task_done(QueueName::Tasks),
            Err(TASK_DONE_TOO_OFTEN.to_string())
        );
    }

    #[test]
    fn every_queue_has_its_own_index() {
        for (at, queue) in QueueName::ALL.into_iter().enumerate() {
            assert_eq!(queue.index(), at, "{queue:?}");
        }
        assert_eq!(QueueKind::default(), QueueKind::Owner);
        assert_eq!(QueueKind::SharedMemory.figure_suffix(), "shared_memory");
    }

    #[test]
    fn the_stream_needs_its_receiver_ready_and_checks_every_item() {
        let timeout = Duration::ZERO;
        let queues = Local::default();
        assert_eq!(
            stream_out(&queues, 3, timeout),
            Err("the stream's receiver was not ready within 0 s".into())
        );
        queues.put(QueueName::Ready, Item::Number(0)).unwrap();
        let began = stream_out(&queues, 3, timeout).unwrap();
        // `stream_in` says it is ready again, then takes the three.
        let ended = stream_in(&queues, 3, timeout).unwrap();
        assert!(began <= ended);
        assert_eq!(
            queues.get(QueueName::Ready, timeout),
            Ok(Some(Item::Number(0)))
        );
        queues.put(QueueName::Stream, Item::Number(1)).unwrap();
        assert_eq!(
            stream_in(&queues, 3, timeout),
            Err("item 0 of the stream came as Some(Number(1))".into())
        );
        assert_eq!(
            stream_in(&queues, 1, timeout),
            Err("item 0 of the stream came as None".into())
        );
        // 1000 items in half a second.
        assert_eq!(
            stream_items_per_s(1000, 1_000_000_000, 1_500_000_000),
            2000.0
        );
    }

    #[test]
    fn each_work_hands_back_its_own_answer() {
        let queues = Local::default();
        let sink = crate::workloads::testing::Recorder::default();
        let timeout = Duration::ZERO;
        let produced = QueueWork::Produce.run(&sink, &queues).unwrap();
        let consumed = QueueWork::Consume { timeout }.run(&sink, &queues).unwrap();
        let puts: Batches = QueueName::BATCHES.map(|b| (b, b.puts())).to_vec();
        assert_eq!(produced, WorkDone::Batches(puts));
        let got = consumed.clone().batches().unwrap();
        let outcome = crate::demos::queue::QueueOutcome::from_batches(
            &got,
            0,
            0,
            crate::demos::queue::expected_join_order(),
        );
        assert_eq!(crate::outcome::Outcome::check(&outcome), Ok(()));
        let timed = QueueWork::TimedPutGet { count: 3, timeout }.run(&sink, &queues);
        assert!(timed.unwrap().ns_per_put_get().unwrap() > 0.0);
        assert!(consumed.clone().ns_per_put_get().is_err());
        assert!(consumed.stream_at().is_err());
        let said = sink.0.borrow();
        assert_eq!(said.first().map(String::as_str), Some("producing"));
        assert_eq!(said.last().map(String::as_str), Some("timing"));
    }

    #[test]
    fn pairs_compare_by_number_then_text() {
        let mut queue = OrderedQueue::new(Order::Priority);
        queue.push(Item::Pair(2, "b".into()));
        queue.push(Item::Pair(2, "a".into()));
        queue.push(Item::Pair(1, "z".into()));
        let labels: Vec<String> = std::iter::from_fn(|| queue.pop())
            .map(|i| i.label())
            .collect();
        assert_eq!(labels, ["z", "a", "b"]);
    }
}
