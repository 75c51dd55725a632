//! The queues' owner: the queues kept in one process, which workers elsewhere reach by request
//! and reply (what Python's managers do). The processes backend keeps them in the parent, the
//! cluster backend on rank 0; each carries the requests and replies its own way.

use crate::queues::{Item, OrderedQueue, QueueName, SharedQueue, TASK_DONE_TOO_OFTEN};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What a worker asks of the queues' owner.
#[derive(Debug, Serialize, Deserialize)]
pub enum QueueRequest {
    Put(QueueName, Item),
    /// Wait at most this long if the queue is empty.
    Get(QueueName, Duration),
    /// One item got from the queue has been dealt with.
    TaskDone(QueueName),
    /// Wait at most this long for every item put to be marked done.
    Join(QueueName, Duration),
}

/// The owner's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum QueueReply {
    Stored,
    /// `None`: the queue stayed empty for the whole timeout.
    Got(Option<Item>),
    /// A `task_done` was counted, or why not.
    Counted(Result<(), String>),
    /// `false`: tasks were still unfinished when the join's timeout passed.
    Joined(bool),
}

/// A worker's way to the owner, however its requests travel (an IPC channel, MPI messages):
/// what makes it a [`SharedQueue`], each put, get, `task_done` and join one request and the
/// owner's one reply.
pub trait AsksTheOwner {
    /// Sends `request` to the owner and waits for its reply.
    fn ask_owner(&self, request: QueueRequest) -> QueueReply;
}

impl<T: AsksTheOwner> SharedQueue for T {
    fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
        match self.ask_owner(QueueRequest::Put(queue, item)) {
            QueueReply::Stored => Ok(()),
            other => Err(format!("the queues' owner answered a put with {other:?}")),
        }
    }

    fn get(&self, queue: QueueName, timeout: Duration) -> Result<Option<Item>, String> {
        match self.ask_owner(QueueRequest::Get(queue, timeout)) {
            QueueReply::Got(item) => Ok(item),
            other => Err(format!("the queues' owner answered a get with {other:?}")),
        }
    }

    fn task_done(&self, queue: QueueName) -> Result<(), String> {
        match self.ask_owner(QueueRequest::TaskDone(queue)) {
            QueueReply::Counted(counted) => counted,
            other => Err(format!(
                "the queues' owner answered a task_done with {other:?}"
            )),
        }
    }

    fn join(&self, queue: QueueName, timeout: Duration) -> Result<bool, String> {
        match self.ask_owner(QueueRequest::Join(queue, timeout)) {
            QueueReply::Joined(joined) => Ok(joined),
            other => Err(format!("the queues' owner answered a join with {other:?}")),
        }
    }
}

/// The queues, kept by one process (the parent of worker processes, rank 0 of an MPI job): it
/// answers each worker's requests as they come. A get on an empty queue is parked (no reply
/// yet) until a put brings an item or its timeout passes, while the worker waits for its
/// reply. A join is parked likewise until the queue's last unfinished task is marked done.
/// `W` names a worker: where each reply goes.
#[derive(Debug)]
pub struct QueueOwner<W> {
    queues: BTreeMap<QueueName, OrderedQueue>,
    /// Gets waiting on an empty queue, oldest first, each with its deadline.
    waiting: Vec<(W, QueueName, Instant)>,
    /// Joins waiting for a queue's unfinished tasks, each with its deadline.
    joining: Vec<(W, QueueName, Instant)>,
}

impl<W: Copy> QueueOwner<W> {
    fn pop(&mut self, queue: QueueName) -> Option<Item> {
        self.queues.get_mut(&queue).and_then(OrderedQueue::pop)
    }

    /// Answers the oldest gets waiting on `queue` while it has items.
    fn serve_waiting(&mut self, queue: QueueName, replies: &mut Vec<(W, QueueReply)>) {
        while let Some(at) = self.waiting.iter().position(|(_, q, _)| *q == queue) {
            let Some(item) = self.pop(queue) else { break };
            let (worker, _, _) = self.waiting.remove(at);
            replies.push((worker, QueueReply::Got(Some(item))));
        }
    }
}

impl<W: Copy> QueueOwner<W> {
    /// Answers one request from worker `from`: pushes the replies due now (to any worker).
    pub fn answer(&mut self, from: W, request: QueueRequest, replies: &mut Vec<(W, QueueReply)>) {
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
            QueueRequest::TaskDone(queue) => {
                let counted = self
                    .queues
                    .get_mut(&queue)
                    .ok_or_else(|| TASK_DONE_TOO_OFTEN.to_string())
                    .and_then(OrderedQueue::task_done);
                replies.push((
                    from,
                    QueueReply::Counted(counted.as_ref().map(drop).map_err(Clone::clone)),
                ));
                if counted == Ok(true) {
                    // The last unfinished task: every join waiting on this queue returns.
                    self.joining.retain(|&(joiner, q, _)| {
                        let done = q == queue;
                        if done {
                            replies.push((joiner, QueueReply::Joined(true)));
                        }
                        !done
                    });
                }
            }
            QueueRequest::Join(queue, timeout) => {
                let unfinished = self.queues.get(&queue).is_some_and(|q| q.unfinished() > 0);
                if unfinished {
                    self.joining.push((from, queue, Instant::now() + timeout));
                } else {
                    replies.push((from, QueueReply::Joined(true)));
                }
            }
        }
    }

    /// Pushes the replies whose time has come: gets and joins whose timeout passed.
    pub fn expire(&mut self, now: Instant, replies: &mut Vec<(W, QueueReply)>) {
        self.waiting.retain(|&(worker, _, deadline)| {
            let expired = deadline <= now;
            if expired {
                replies.push((worker, QueueReply::Got(None)));
            }
            !expired
        });
        self.joining.retain(|&(worker, _, deadline)| {
            let expired = deadline <= now;
            if expired {
                replies.push((worker, QueueReply::Joined(false)));
            }
            !expired
        });
    }
}

impl<W> Default for QueueOwner<W> {
    fn default() -> Self {
        QueueOwner {
            queues: BTreeMap::new(),
            waiting: Vec::new(),
            joining: Vec::new(),
        }
    }
}
