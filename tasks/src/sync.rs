//! The event and the queues of the shared-state demos, for tasks: tokio's `watch` channel and
//! `Notify` in memory every task of the process sees. A waiting task is a future parked on
//! them, not a thread asleep: its worker thread runs other tasks. Compare
//! `threads/src/sync.rs`, whose `Condvar`s block a thread each.
//!
//! Their methods are the contract's (`EventFlag`, `SharedQueue`), with the waits `async`:
//! the contract's traits block, and a task must not.

use contract::queues::{Item, OrderedQueue, QueueName, TASK_DONE_TOO_OFTEN};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Python's `threading.Event` for tasks: the flag in a `watch` channel, which wakes every
/// task waiting on it when it changes. The sets are counted, so that a waiter woken by a set
/// returns true even when a clear follows before it runs, as Python's `Event.wait()` does.
#[derive(Debug)]
pub struct TaskEvent {
    flag: watch::Sender<Flag>,
}

/// The event's state: whether it is set, and how many times it has been.
#[derive(Debug, Default, Clone, Copy)]
struct Flag {
    set: bool,
    sets: u64,
}

impl Default for TaskEvent {
    fn default() -> Self {
        TaskEvent {
            flag: watch::Sender::new(Flag::default()),
        }
    }
}

impl TaskEvent {
    pub fn set(&self) {
        self.flag.send_modify(|flag| {
            flag.set = true;
            flag.sets = flag.sets.wrapping_add(1);
        });
    }

    pub fn clear(&self) {
        self.flag
            .send_if_modified(|flag| std::mem::replace(&mut flag.set, false));
    }

    pub fn is_set(&self) -> bool {
        self.flag.borrow().set
    }

    /// Waits until the flag is set, at most `timeout`; true if it is set, or was set since
    /// the wait began (and maybe cleared since).
    pub async fn wait(&self, timeout: Duration) -> bool {
        // Read before subscribing: a set in between is then seen as one since the wait began.
        let seen = self.flag.borrow().sets;
        let mut changes = self.flag.subscribe();
        let set_since = changes.wait_for(|flag| flag.set || flag.sets != seen);
        // The sender lives in `self`: the channel cannot close while we wait.
        matches!(tokio::time::timeout(timeout, set_since).await, Ok(Ok(_)))
    }
}

/// The demo's named queues under one mutex, held only while an item is pushed or popped
/// (never across an `.await`); a get on an empty queue awaits the `Notify` every put
/// signals, then looks again. Each queue counts its unfinished tasks (a put adds one, a
/// `task_done` takes one off), and a `join` awaits a second `Notify` until the count is 0, as
/// Python's `queue.Queue` does.
#[derive(Debug, Default)]
pub struct TaskQueues {
    queues: Mutex<BTreeMap<QueueName, OrderedQueue>>,
    put_done: Notify,
    all_tasks_done: Notify,
}

impl TaskQueues {
    fn queues(&self) -> MutexGuard<'_, BTreeMap<QueueName, OrderedQueue>> {
        self.queues
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
        self.queues()
            .entry(queue)
            .or_insert_with(|| OrderedQueue::new(queue.order()))
            .push(item);
        self.put_done.notify_waiters();
        Ok(())
    }

    /// The next item of `queue` in its order, awaited at most `timeout`; `None` after that.
    pub async fn get(&self, queue: QueueName, timeout: Duration) -> Result<Option<Item>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            // Registered before looking, so that a put between the look and the wait wakes it.
            let put = self.put_done.notified();
            let mut put = std::pin::pin!(put);
            put.as_mut().enable();
            if let Some(item) = self.queues().get_mut(&queue).and_then(OrderedQueue::pop) {
                return Ok(Some(item));
            }
            if tokio::time::timeout_at(deadline, put).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// Python's `task_done`: one item got from `queue` has been dealt with.
    pub fn task_done(&self, queue: QueueName) -> Result<(), String> {
        let mut queues = self.queues();
        let line = queues
            .get_mut(&queue)
            .ok_or_else(|| TASK_DONE_TOO_OFTEN.to_string())?;
        if line.task_done()? {
            self.all_tasks_done.notify_waiters();
        }
        Ok(())
    }

    /// Python's `join`: awaits, at most `timeout`, until every item put on `queue` has had its
    /// `task_done`; false when the time is up first.
    pub async fn join(&self, queue: QueueName, timeout: Duration) -> Result<bool, String> {
        let deadline = Instant::now() + timeout;
        loop {
            // Registered before looking, so that a last `task_done` in between wakes it.
            let done = self.all_tasks_done.notified();
            let mut done = std::pin::pin!(done);
            done.as_mut().enable();
            let unfinished = (self.queues().get(&queue)).is_some_and(|q| q.unfinished() > 0);
            if !unfinished {
                return Ok(true);
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{TaskEvent, TaskQueues};
    use contract::queues::{Item, QueueName};
    use std::sync::Arc;
    use std::time::Duration;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap()
    }

    /// The waiter has subscribed to the channel before the set (the channel counts its
    /// receiver); the clear comes at once, and the waiter must still see the set.
    #[test]
    fn a_waiter_woken_by_a_set_returns_true_even_if_a_clear_follows_at_once() {
        runtime().block_on(async {
            for round in 0..100 {
                let event = Arc::new(TaskEvent::default());
                let waiting = Arc::clone(&event);
                let waiter =
                    tokio::spawn(async move { waiting.wait(Duration::from_millis(500)).await });
                while event.flag.receiver_count() == 0 {
                    tokio::task::yield_now().await;
                }
                event.set();
                event.clear();
                assert!(
                    waiter.await.unwrap(),
                    "round {round}: the waiter missed the set"
                );
                assert!(!event.is_set());
            }
            let event = TaskEvent::default();
            assert!(!event.wait(Duration::from_millis(1)).await);
            event.set();
            assert!(event.wait(Duration::ZERO).await);
        });
    }

    #[test]
    fn a_get_on_an_empty_queue_waits_for_the_put_and_gives_up_after_its_time() {
        runtime().block_on(async {
            let queues = Arc::new(TaskQueues::default());
            let getting = Arc::clone(&queues);
            let getter =
                tokio::spawn(
                    async move { getting.get(QueueName::Fifo, Duration::from_secs(10)).await },
                );
            tokio::task::yield_now().await;
            queues.put(QueueName::Fifo, Item::Number(7)).unwrap();
            assert_eq!(getter.await.unwrap(), Ok(Some(Item::Number(7))));
            let nothing = queues.get(QueueName::Lifo, Duration::from_millis(5)).await;
            assert_eq!(nothing, Ok(None));
        });
    }
}
