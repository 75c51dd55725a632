//! `queue`'s orderings and its producer and consumer, written once for both backends.
//!
//! A backend supplies only the queue itself, behind [`SharedQueue`]: in `threads` a map of
//! [`OrderedQueue`]s under a mutex with a condition variable, in `processes` the same map
//! kept by the parent and reached by request and reply over ipc-channel.

use crate::demos::queue::{FIFO_PUTS, PRIORITY_PUTS};
use crate::trace::EventSink;
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

/// The queues of the demo. The four batches of the notebook, plus `Ready` (FIFO), on which
/// the producer names each batch once it is complete, and `Timed` for the timed pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QueueName {
    Fifo,
    Lifo,
    Priority,
    PriorityPairs,
    Ready,
    Timed,
}

impl QueueName {
    /// The notebook's four batches, in the order the producer fills them.
    pub const BATCHES: [QueueName; 4] = [
        QueueName::Fifo,
        QueueName::Lifo,
        QueueName::Priority,
        QueueName::PriorityPairs,
    ];

    pub fn order(self) -> Order {
        match self {
            QueueName::Fifo | QueueName::Ready | QueueName::Timed => Order::Fifo,
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
            QueueName::Ready | QueueName::Timed => Vec::new(),
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
#[derive(Debug)]
pub struct OrderedQueue {
    order: Order,
    in_line: VecDeque<Item>,
    by_priority: BinaryHeap<Reverse<Item>>,
}

impl OrderedQueue {
    pub fn new(order: Order) -> Self {
        OrderedQueue {
            order,
            in_line: VecDeque::new(),
            by_priority: BinaryHeap::new(),
        }
    }

    pub fn push(&mut self, item: Item) {
        match self.order {
            Order::Fifo | Order::Lifo => self.in_line.push_back(item),
            Order::Priority => self.by_priority.push(Reverse(item)),
        }
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
/// most `timeout`, and returns `None` if nothing came: it never spins.
pub trait SharedQueue {
    fn put(&self, queue: QueueName, item: Item);
    fn get(&self, queue: QueueName, timeout: Duration) -> Option<Item>;
}

/// The producer: fills each batch, then puts the batch's number on `Ready`. Returns what
/// it put.
///
/// The consumer drains a batch only once it is complete: LIFO and priority orders are about
/// the items that are in the queue together, and a get on a queue that is still being
/// filled takes whatever is there.
pub fn produce(out: &dyn EventSink, queues: &dyn SharedQueue) -> Batches {
    out.emit(
        "producing",
        Some(format!("{} batches", QueueName::BATCHES.len())),
    );
    let mut batches = Vec::new();
    for (number, batch) in QueueName::BATCHES.into_iter().enumerate() {
        for item in batch.puts() {
            out.emit("put", Some(format!("{} {}", batch.id(), item.label())));
            queues.put(batch, item);
        }
        queues.put(QueueName::Ready, Item::Number(number as i64));
        batches.push((batch, batch.puts()));
    }
    batches
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
            .get(QueueName::Ready, timeout)
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
        queues.put(QueueName::Timed, Item::Number(n));
        match queues.get(QueueName::Timed, timeout) {
            Some(Item::Number(got)) if got == n => {}
            other => return Err(format!("put {n} on 'timed', got {other:?} back")),
        }
    }
    Ok(started.elapsed().as_nanos() as f64 / count as f64)
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
