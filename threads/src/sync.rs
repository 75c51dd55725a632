//! The event and the queues of the shared-state demos, for threads: std's `Mutex` and
//! `Condvar` in memory every thread of the process sees. Compare `processes/src/sync.rs`.

use contract::event_flag::EventFlag;
use contract::queues::{Item, OrderedQueue, QueueName, SharedQueue, TASK_DONE_TOO_OFTEN};
use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Python's `threading.Event`: a flag under a mutex, with a condition variable to sleep on.
/// Waiting threads sleep in the kernel (a private futex inside `Condvar`): no CPU is used.
/// The sets are counted, so that a waiter woken by a set returns true even when a clear
/// follows before it runs, as Python's `Event.wait()` does.
#[derive(Debug, Default)]
pub struct ThreadEvent {
    flag: Mutex<Flag>,
    changed: Condvar,
}

/// The event's state: whether it is set, and how many times it has been.
#[derive(Debug, Default)]
struct Flag {
    set: bool,
    sets: u64,
}

impl ThreadEvent {
    fn flag(&self) -> MutexGuard<'_, Flag> {
        // Nothing can panic while holding this lock, but a poisoned flag is still a flag.
        self.flag
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl EventFlag for ThreadEvent {
    fn set(&self) {
        let mut flag = self.flag();
        flag.set = true;
        flag.sets = flag.sets.wrapping_add(1);
        self.changed.notify_all();
    }

    fn clear(&self) {
        self.flag().set = false;
    }

    fn is_set(&self) -> bool {
        self.flag().set
    }

    fn wait(&self, timeout: Duration) -> bool {
        let flag = self.flag();
        let seen = flag.sets;
        // Set now, or set since the wait began (and maybe cleared since).
        let (flag, _) = self
            .changed
            .wait_timeout_while(flag, timeout, |flag| !flag.set && flag.sets == seen)
            .unwrap_or_else(|poison| poison.into_inner());
        flag.set || flag.sets != seen
    }
}

/// The demo's named queues under one mutex; a get on an empty queue sleeps on the condition
/// variable until a put wakes it or its time is up. Each queue counts its unfinished tasks
/// (a put adds one, a `task_done` takes one off), and a `join` sleeps on a second condition
/// variable until the count is 0, as Python's `queue.Queue` does.
#[derive(Debug, Default)]
pub struct ThreadQueues {
    queues: Mutex<BTreeMap<QueueName, OrderedQueue>>,
    put_done: Condvar,
    all_tasks_done: Condvar,
}

impl ThreadQueues {
    fn queues(&self) -> MutexGuard<'_, BTreeMap<QueueName, OrderedQueue>> {
        self.queues
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl SharedQueue for ThreadQueues {
    fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
        self.queues()
            .entry(queue)
            .or_insert_with(|| OrderedQueue::new(queue.order()))
            .push(item);
        self.put_done.notify_all();
        Ok(())
    }

    fn get(&self, queue: QueueName, timeout: Duration) -> Result<Option<Item>, String> {
        let mut item = None;
        // The condition takes the item as soon as there is one, under the same lock.
        let _ = self
            .put_done
            .wait_timeout_while(self.queues(), timeout, |queues| {
                item = queues.get_mut(&queue).and_then(OrderedQueue::pop);
                item.is_none()
            })
            .unwrap_or_else(|poison| poison.into_inner());
        Ok(item)
    }

    fn task_done(&self, queue: QueueName) -> Result<(), String> {
        let mut queues = self.queues();
        let line = queues
            .get_mut(&queue)
            .ok_or_else(|| TASK_DONE_TOO_OFTEN.to_string())?;
        if line.task_done()? {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    fn join(&self, queue: QueueName, timeout: Duration) -> Result<bool, String> {
        let unfinished = |queues: &mut BTreeMap<QueueName, OrderedQueue>| {
            queues.get(&queue).is_some_and(|q| q.unfinished() > 0)
        };
        let (queues, waited) = self
            .all_tasks_done
            .wait_timeout_while(self.queues(), timeout, unfinished)
            .unwrap_or_else(|poison| poison.into_inner());
        drop(queues);
        Ok(!waited.timed_out())
    }
}

#[cfg(test)]
mod tests {
    use super::ThreadEvent;
    use contract::event_flag::EventFlag;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Blocks until thread `tid` of this process sleeps, as it does in its wait.
    fn until_asleep(tid: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            // The state follows the thread's name, which is in parentheses.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|s| s.split_whitespace().next());
            if state == Some("S") {
                return;
            }
            assert!(Instant::now() < deadline, "the waiter never slept");
            std::thread::yield_now();
        }
    }

    /// Whether the set-then-clear happens before the waiter runs again is up to the
    /// scheduler: the race is run many times, and the waiter must see every set.
    #[test]
    fn a_waiter_woken_by_a_set_returns_true_even_if_a_clear_follows_at_once() {
        for round in 0..100 {
            let event = Arc::new(ThreadEvent::default());
            let (tid_sender, tid) = std::sync::mpsc::channel();
            let waiting = Arc::clone(&event);
            let waiter = std::thread::spawn(move || {
                // `/proc/thread-self` is `<pid>/task/<tid>`.
                let me = std::fs::read_link("/proc/thread-self").unwrap();
                let me = me.file_name().unwrap().to_string_lossy().into_owned();
                tid_sender.send(me).unwrap();
                waiting.wait(Duration::from_millis(500))
            });
            until_asleep(&tid.recv().unwrap());
            event.set();
            event.clear();
            assert!(
                waiter.join().unwrap(),
                "round {round}: the waiter missed the set"
            );
            assert!(!event.is_set());
        }
        let event = ThreadEvent::default();
        assert!(!event.wait(Duration::from_millis(1)));
        event.set();
        assert!(event.wait(Duration::ZERO));
    }
}
