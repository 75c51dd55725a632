//! What the shared-state demos share between ranks, as `processes/src/sync.rs` does between
//! processes: here nothing is in shared memory (ranks may be on different machines), so
//! shared state is owned by rank 0 and reached by request and reply.
//!
//! - [`QueueOwner`]: the queues live on rank 0, and workers reach them by request and reply
//!   in MPI messages, as Python's managers keep them in a server process.

use crate::workers::{Parent, Service, WorkerId};
use contract::queues::{Item, OrderedQueue, QueueName, SharedQueue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What a worker asks of the queues' owner.
#[derive(Debug, Serialize, Deserialize)]
pub enum QueueRequest {
    Put(QueueName, Item),
    /// Wait at most this long if the queue is empty.
    Get(QueueName, Duration),
}

/// The owner's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum QueueReply {
    Stored,
    /// `None`: the queue stayed empty for the whole timeout.
    Got(Option<Item>),
}

/// The queues, kept by rank 0: it answers each worker's requests while it pumps their
/// messages. A get on an empty queue is parked (no reply yet) until a put brings an item or
/// its timeout passes; the worker waits for its reply meanwhile.
#[derive(Debug, Default)]
pub struct QueueOwner {
    queues: BTreeMap<QueueName, OrderedQueue>,
    /// Gets waiting on an empty queue, oldest first, each with its deadline.
    waiting: Vec<(WorkerId, QueueName, Instant)>,
}

impl QueueOwner {
    fn pop(&mut self, queue: QueueName) -> Option<Item> {
        self.queues.get_mut(&queue).and_then(OrderedQueue::pop)
    }

    /// Answers the oldest gets waiting on `queue` while it has items.
    fn serve_waiting(&mut self, queue: QueueName, replies: &mut Vec<(WorkerId, QueueReply)>) {
        while let Some(at) = self.waiting.iter().position(|(_, q, _)| *q == queue) {
            let Some(item) = self.pop(queue) else { break };
            let (worker, _, _) = self.waiting.remove(at);
            replies.push((worker, QueueReply::Got(Some(item))));
        }
    }
}

impl Service for QueueOwner {
    type Request = QueueRequest;
    type Reply = QueueReply;

    fn handle(
        &mut self,
        from: WorkerId,
        request: QueueRequest,
        replies: &mut Vec<(WorkerId, QueueReply)>,
    ) {
        match request {
            QueueRequest::Put(queue, item) => {
                self.queues
                    .entry(queue)
                    .or_insert_with(|| OrderedQueue::new(queue.order()))
                    .push(item);
                replies.push((from, QueueReply::Stored));
                self.serve_waiting(queue, replies);
            }
            QueueRequest::Get(queue, timeout) => match self.pop(queue) {
                Some(item) => replies.push((from, QueueReply::Got(Some(item)))),
                None => self.waiting.push((from, queue, Instant::now() + timeout)),
            },
        }
    }

    fn expire(&mut self, now: Instant, replies: &mut Vec<(WorkerId, QueueReply)>) {
        self.waiting.retain(|&(worker, _, deadline)| {
            let expired = deadline <= now;
            if expired {
                replies.push((worker, QueueReply::Got(None)));
            }
            !expired
        });
    }
}

/// A worker's view of rank 0's queues: each put and get is one request and one reply.
impl SharedQueue for Parent<'_, QueueOwner> {
    fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
        match self.ask(QueueRequest::Put(queue, item)) {
            QueueReply::Stored => Ok(()),
            QueueReply::Got(_) => Err("the queues' owner answered a put with an item".into()),
        }
    }

    fn get(&self, queue: QueueName, timeout: Duration) -> Result<Option<Item>, String> {
        match self.ask(QueueRequest::Get(queue, timeout)) {
            QueueReply::Got(item) => Ok(item),
            QueueReply::Stored => Err("the queues' owner answered a get with 'stored'".into()),
        }
    }
}
