//! The event and the queues of the shared-state demos, for threads: std's `Mutex` and
//! `Condvar` in memory every thread of the process sees. Compare `processes/src/sync.rs`.

use contract::event_flag::EventFlag;
use contract::queues::{Item, OrderedQueue, QueueName, SharedQueue};
use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Python's `threading.Event`: a flag under a mutex, with a condition variable to sleep on.
/// Waiting threads sleep in the kernel (a private futex inside `Condvar`): no CPU is used.
#[derive(Debug, Default)]
pub struct ThreadEvent {
    flag: Mutex<bool>,
    changed: Condvar,
}

impl ThreadEvent {
    fn flag(&self) -> MutexGuard<'_, bool> {
        // Nothing can panic while holding this lock, but a poisoned bool is still a bool.
        self.flag
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl EventFlag for ThreadEvent {
    fn set(&self) {
        *self.flag() = true;
        self.changed.notify_all();
    }

    fn clear(&self) {
        *self.flag() = false;
    }

    fn is_set(&self) -> bool {
        *self.flag()
    }

    fn wait(&self, timeout: Duration) -> bool {
        let (flag, _) = self
            .changed
            .wait_timeout_while(self.flag(), timeout, |set| !*set)
            .unwrap_or_else(|poison| poison.into_inner());
        *flag
    }
}

/// The demo's named queues under one mutex; a get on an empty queue sleeps on the condition
/// variable until a put wakes it or its time is up.
#[derive(Debug, Default)]
pub struct ThreadQueues {
    queues: Mutex<BTreeMap<QueueName, OrderedQueue>>,
    put_done: Condvar,
}

impl ThreadQueues {
    fn queues(&self) -> MutexGuard<'_, BTreeMap<QueueName, OrderedQueue>> {
        self.queues
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl SharedQueue for ThreadQueues {
    fn put(&self, queue: QueueName, item: Item) {
        self.queues()
            .entry(queue)
            .or_insert_with(|| OrderedQueue::new(queue.order()))
            .push(item);
        self.put_done.notify_all();
    }

    fn get(&self, queue: QueueName, timeout: Duration) -> Option<Item> {
        let mut item = None;
        // The condition takes the item as soon as there is one, under the same lock.
        let _ = self
            .put_done
            .wait_timeout_while(self.queues(), timeout, |queues| {
                item = queues.get_mut(&queue).and_then(OrderedQueue::pop);
                item.is_none()
            })
            .unwrap_or_else(|poison| poison.into_inner());
        item
    }
}
