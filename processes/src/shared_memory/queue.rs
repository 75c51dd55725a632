//! `queue`'s second kind for processes: the queues themselves in a shared memory file that
//! every worker maps, so that a put and a get are a few stores and loads in shared pages,
//! with no process in between (compare `QueueOwner` in `sync.rs`, what Python's managers do).
//!
//! - The items live in fixed slots in the mapping: a ring for FIFO and LIFO, a binary heap
//!   for priority. An item is stored by value (its number, and a pair's text up to
//!   [`TEXT_BYTES`] bytes): a pointer would name one process's own memory.
//! - One [`ProcessMutex`] (process-shared, robust) guards every queue, as one `Mutex` does in
//!   threads. A worker that dies holding it (killed, or panicking) leaves it owner-dead: the
//!   next taker gets `EOWNERDEAD`, and every put and get after that fails with a one-line
//!   reason instead of blocking for ever or reading a half-written slot.
//! - An empty queue's getter sleeps on a shared futex (the queue's count of puts), a full
//!   queue's putter on another (its count of takes). Each side counts its sleepers under the
//!   lock, so that the other side makes the `FUTEX_WAKE` system call only when someone
//!   sleeps: a put+get by one worker makes no system call at all.
//! - Each queue counts its unfinished tasks under the lock (a put adds one, a `task_done`
//!   takes one off); a `join` sleeps on a third futex word, bumped by the `task_done` that
//!   takes the count to 0.

use super::ProcessShared;
use crate::sync::{ProcessMutex, futex_wait, futex_wake_all};
use contract::DemoError;
use contract::queues::{FULL_WAIT_S, Item, Order, QueueName, SharedQueue, TASK_DONE_TOO_OFTEN};
use std::cell::UnsafeCell;
use std::cmp::Ordering as Compared;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Items one queue holds at most; a put on a full queue waits for a get.
pub const CAPACITY: usize = 256;
/// The longest text of a `(priority, text)` item, in bytes.
pub const TEXT_BYTES: usize = 48;

/// An item as it lives in the mapping: fixed size, no pointers.
#[derive(Clone, Copy)]
#[repr(C)]
struct Slot {
    number: i64,
    /// 0 for `Item::Number`, 1 for `Item::Pair`.
    is_pair: u8,
    text_len: u8,
    text: [u8; TEXT_BYTES],
}

impl Slot {
    const EMPTY: Slot = Slot {
        number: 0,
        is_pair: 0,
        text_len: 0,
        text: [0; TEXT_BYTES],
    };

    fn encode(item: &Item) -> Result<Slot, String> {
        let mut slot = Slot::EMPTY;
        match item {
            Item::Number(number) => slot.number = *number,
            Item::Pair(number, text) => {
                let bytes = text.as_bytes();
                if bytes.len() > TEXT_BYTES {
                    return Err(format!(
                        "an item's text of {} bytes does not fit a slot of the shared memory \
                         queue ({TEXT_BYTES} at most)",
                        bytes.len()
                    ));
                }
                slot.number = *number;
                slot.is_pair = 1;
                slot.text_len = bytes.len() as u8;
                slot.text[..bytes.len()].copy_from_slice(bytes);
            }
        }
        Ok(slot)
    }

    fn text(&self) -> &[u8] {
        &self.text[..usize::from(self.text_len).min(TEXT_BYTES)]
    }

    fn decode(&self) -> Result<Item, String> {
        if self.is_pair == 0 {
            return Ok(Item::Number(self.number));
        }
        let text = std::str::from_utf8(self.text())
            .map_err(|_| "a slot of the shared memory queue holds no text".to_string())?;
        Ok(Item::Pair(self.number, text.to_string()))
    }

    /// The order of [`Item`]'s derived `Ord`: numbers before pairs, then the number, then
    /// the text (a `str` compares as its UTF-8 bytes).
    fn compare(&self, other: &Slot) -> Compared {
        (self.is_pair, self.number, self.text()).cmp(&(other.is_pair, other.number, other.text()))
    }
}

/// One queue's items: a ring (`first`, `len`) in FIFO and LIFO order, a binary heap in
/// `slots[..len]` in priority order (the least item at 0).
#[repr(C)]
struct Store {
    first: u32,
    len: u32,
    /// Items put and not yet marked done (`task_done`).
    unfinished: u32,
    slots: [Slot; CAPACITY],
}

impl Store {
    const EMPTY: Store = Store {
        first: 0,
        len: 0,
        unfinished: 0,
        slots: [Slot::EMPTY; CAPACITY],
    };

    /// Stores `slot`, or hands it back when the queue is full.
    fn push(&mut self, order: Order, slot: Slot) -> Result<(), Slot> {
        let len = self.len as usize;
        if len >= CAPACITY {
            return Err(slot);
        }
        self.len += 1;
        self.unfinished = self.unfinished.wrapping_add(1);
        match order {
            Order::Fifo | Order::Lifo => {
                self.slots[(self.first as usize + len) % CAPACITY] = slot;
            }
            Order::Priority => {
                self.slots[len] = slot;
                self.sift_up(len);
            }
        }
        Ok(())
    }

    /// The next item in `order`, if any.
    fn pop(&mut self, order: Order) -> Option<Slot> {
        let len = self.len as usize;
        if len == 0 || len > CAPACITY {
            return None;
        }
        self.len -= 1;
        Some(match order {
            Order::Fifo => {
                let slot = self.slots[self.first as usize % CAPACITY];
                self.first = ((self.first as usize + 1) % CAPACITY) as u32;
                slot
            }
            Order::Lifo => self.slots[(self.first as usize + len - 1) % CAPACITY],
            Order::Priority => {
                let least = self.slots[0];
                self.slots[0] = self.slots[len - 1];
                self.sift_down(0, len - 1);
                least
            }
        })
    }

    fn sift_up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if self.slots[at].compare(&self.slots[parent]) != Compared::Less {
                break;
            }
            self.slots.swap(at, parent);
            at = parent;
        }
    }

    fn sift_down(&mut self, mut at: usize, len: usize) {
        loop {
            let mut least = at;
            for child in [2 * at + 1, 2 * at + 2] {
                if child < len && self.slots[child].compare(&self.slots[least]) == Compared::Less {
                    least = child;
                }
            }
            if least == at {
                return;
            }
            self.slots.swap(at, least);
            at = least;
        }
    }
}

/// The futex words of one queue, and who sleeps on them.
#[derive(Default)]
struct Signals {
    /// Puts so far (wrapping): an empty queue's getter sleeps until it changes.
    puts: AtomicU32,
    /// Gets so far (wrapping): a full queue's putter sleeps until it changes.
    takes: AtomicU32,
    /// Getters asleep (or about to be) on `puts`; changed under the lock when one lies
    /// down, so that a putter, which reads it under the lock, never misses one.
    sleeping_getters: AtomicU32,
    /// Putters asleep on `takes`, likewise.
    sleeping_putters: AtomicU32,
    /// Times the queue's unfinished tasks came down to 0 (wrapping): a join sleeps until it
    /// changes.
    all_done: AtomicU32,
    /// Joins asleep on `all_done`, likewise.
    sleeping_joiners: AtomicU32,
}

/// Every queue of the demo, in one shared mapping. Made by the parent with
/// `SharedMapping::new(SharedMemoryQueues::default())` before the workers start.
pub struct SharedMemoryQueues {
    lock: ProcessMutex,
    /// Read and written only by the holder of `lock`.
    stores: UnsafeCell<[Store; QueueName::ALL.len()]>,
    signals: [Signals; QueueName::ALL.len()],
}

impl Default for SharedMemoryQueues {
    fn default() -> Self {
        SharedMemoryQueues {
            lock: ProcessMutex::default(),
            stores: UnsafeCell::new([const { Store::EMPTY }; QueueName::ALL.len()]),
            signals: Default::default(),
        }
    }
}

// SAFETY: the stores are touched only by the holder of the process-shared lock (see `with`),
// and everything else is atomic.
unsafe impl Sync for SharedMemoryQueues {}

// SAFETY: a process-shared pthread mutex, slots of plain numbers and bytes, and atomics: no
// pointers, no destructor.
unsafe impl ProcessShared for SharedMemoryQueues {
    unsafe fn init_in_place(&self) -> Result<(), DemoError> {
        // SAFETY: the lock is part of this value, initialised once with it (our caller's
        // promise).
        unsafe { self.lock.init_in_place() }
    }
}

impl SharedMemoryQueues {
    /// Runs `update` on `queue`'s store while holding the lock, and hands back what it did.
    fn with<R>(
        &self,
        queue: QueueName,
        update: impl FnOnce(&mut Store, &Signals) -> R,
    ) -> Result<R, String> {
        let guard = self
            .lock
            .lock()
            .map_err(|why| format!("the shared memory queues' lock: {why}"))?;
        // SAFETY: this process holds the lock, which every access to the stores takes, so no
        // other reference to them exists until `guard` is dropped, after `update`.
        let stores = unsafe { &mut *self.stores.get() };
        let done = update(&mut stores[queue.index()], &self.signals[queue.index()]);
        drop(guard);
        Ok(done)
    }

    /// The item's put, waiting while the queue is full, at most [`FULL_WAIT_S`].
    fn put_slot(&self, queue: QueueName, slot: Slot) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs_f64(FULL_WAIT_S);
        let signals = &self.signals[queue.index()];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let stored = self.with(queue, |store, signals| {
                match store.push(queue.order(), slot) {
                    Ok(()) => {
                        signals.puts.fetch_add(1, Ordering::Release);
                        Ok(signals.sleeping_getters.load(Ordering::Relaxed) > 0)
                    }
                    Err(_) if left.is_zero() => Err(None),
                    Err(_) => {
                        signals.sleeping_putters.fetch_add(1, Ordering::Relaxed);
                        Err(Some(signals.takes.load(Ordering::Relaxed)))
                    }
                }
            })?;
            match stored {
                Ok(getters_sleep) => {
                    if getters_sleep {
                        futex_wake_all(&signals.puts);
                    }
                    return Ok(());
                }
                Err(None) => {
                    return Err(format!(
                        "'{}' stayed full ({CAPACITY} items) for {FULL_WAIT_S} s",
                        queue.id()
                    ));
                }
                Err(Some(takes_seen)) => {
                    // Sleeps only if no get came since the lock was let go.
                    futex_wait(&signals.takes, takes_seen, left);
                    signals.sleeping_putters.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// The next item of `queue`, waiting while it is empty, at most `timeout`.
    fn get_slot(&self, queue: QueueName, timeout: Duration) -> Result<Option<Slot>, String> {
        let deadline = Instant::now() + timeout;
        let signals = &self.signals[queue.index()];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let taken = self.with(queue, |store, signals| match store.pop(queue.order()) {
                Some(slot) => {
                    signals.takes.fetch_add(1, Ordering::Release);
                    Ok((slot, signals.sleeping_putters.load(Ordering::Relaxed) > 0))
                }
                None if left.is_zero() => Err(None),
                None => {
                    signals.sleeping_getters.fetch_add(1, Ordering::Relaxed);
                    Err(Some(signals.puts.load(Ordering::Relaxed)))
                }
            })?;
            match taken {
                Ok((slot, putters_sleep)) => {
                    if putters_sleep {
                        futex_wake_all(&signals.takes);
                    }
                    return Ok(Some(slot));
                }
                Err(None) => return Ok(None),
                Err(Some(puts_seen)) => {
                    // Sleeps only if no put came since the lock was let go.
                    futex_wait(&signals.puts, puts_seen, left);
                    signals.sleeping_getters.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }
}

impl SharedQueue for SharedMemoryQueues {
    fn put(&self, queue: QueueName, item: Item) -> Result<(), String> {
        self.put_slot(queue, Slot::encode(&item)?)
    }

    fn get(&self, queue: QueueName, timeout: Duration) -> Result<Option<Item>, String> {
        self.get_slot(queue, timeout)?
            .map(|slot| slot.decode())
            .transpose()
    }

    fn task_done(&self, queue: QueueName) -> Result<(), String> {
        let signals = &self.signals[queue.index()];
        let wake = self.with(queue, |store, signals| -> Result<bool, String> {
            store.unfinished = store
                .unfinished
                .checked_sub(1)
                .ok_or_else(|| TASK_DONE_TOO_OFTEN.to_string())?;
            if store.unfinished > 0 {
                return Ok(false);
            }
            signals.all_done.fetch_add(1, Ordering::Release);
            Ok(signals.sleeping_joiners.load(Ordering::Relaxed) > 0)
        })??;
        if wake {
            futex_wake_all(&signals.all_done);
        }
        Ok(())
    }

    fn join(&self, queue: QueueName, timeout: Duration) -> Result<bool, String> {
        let deadline = Instant::now() + timeout;
        let signals = &self.signals[queue.index()];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let seen = self.with(queue, |store, signals| {
                if store.unfinished == 0 {
                    return Ok(());
                }
                if left.is_zero() {
                    return Err(None);
                }
                signals.sleeping_joiners.fetch_add(1, Ordering::Relaxed);
                Err(Some(signals.all_done.load(Ordering::Relaxed)))
            })?;
            match seen {
                Ok(()) => return Ok(true),
                Err(None) => return Ok(false),
                Err(Some(all_done_seen)) => {
                    // Sleeps only if the count did not come down to 0 since the lock was let go.
                    futex_wait(&signals.all_done, all_done_seen, left);
                    signals.sleeping_joiners.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_memory::SharedMapping;

    fn drained(queues: &SharedMemoryQueues, queue: QueueName) -> Vec<Item> {
        std::iter::from_fn(|| queues.get(queue, Duration::ZERO).unwrap()).collect()
    }

    #[test]
    fn the_notebooks_orders_and_python_s_tuple_order() {
        let queues = SharedMapping::new(SharedMemoryQueues::default()).unwrap();
        for batch in QueueName::BATCHES {
            for item in batch.puts() {
                queues.put(batch, item).unwrap();
            }
        }
        let numbers = |queue| -> Vec<i64> {
            drained(&queues, queue)
                .iter()
                .map(|item| match item {
                    Item::Number(n) => *n,
                    Item::Pair(..) => panic!("a pair in {queue:?}"),
                })
                .collect()
        };
        assert_eq!(numbers(QueueName::Fifo), [0, 1, 2, 3, 4]);
        assert_eq!(numbers(QueueName::Lifo), [4, 3, 2, 1, 0]);
        assert_eq!(numbers(QueueName::Priority), [1, 2, 3, 4]);
        let labels: Vec<String> = drained(&queues, QueueName::PriorityPairs)
            .iter()
            .map(Item::label)
            .collect();
        assert_eq!(
            labels,
            ["Priority 1", "Priority 2", "Priority 3", "Priority 4"]
        );

        // Numbers before pairs, then by number, then by text, as `Item`'s order says.
        let mixed = [
            Item::Pair(2, "b".into()),
            Item::Number(9),
            Item::Pair(2, "a".into()),
            Item::Pair(1, "zz".into()),
            Item::Number(-3),
            Item::Pair(2, "ab".into()),
        ];
        for item in mixed.clone() {
            queues.put(QueueName::Priority, item).unwrap();
        }
        let mut expected = mixed.to_vec();
        expected.sort();
        assert_eq!(drained(&queues, QueueName::Priority), expected);
    }

    #[test]
    fn a_ring_wraps_and_a_heap_sorts_at_full_capacity() {
        let queues = SharedMapping::new(SharedMemoryQueues::default()).unwrap();
        // Around the ring several times, half full.
        for n in 0..(3 * CAPACITY as i64) {
            queues.put(QueueName::Fifo, Item::Number(n)).unwrap();
            if n >= CAPACITY as i64 / 2 {
                let first = n - CAPACITY as i64 / 2;
                let got = queues.get(QueueName::Fifo, Duration::ZERO).unwrap();
                assert_eq!(got, Some(Item::Number(first)));
            }
        }
        // A full heap of numbers put in a scrambled order comes out sorted.
        let scrambled: Vec<i64> = (0..CAPACITY as i64).map(|n| (n * 97) % 256 - 128).collect();
        for n in &scrambled {
            queues.put(QueueName::Priority, Item::Number(*n)).unwrap();
        }
        let mut sorted = scrambled.clone();
        sorted.sort();
        let got: Vec<Item> = drained(&queues, QueueName::Priority);
        assert_eq!(
            got,
            sorted.into_iter().map(Item::Number).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_text_too_long_for_a_slot_is_refused_and_nothing_is_stored() {
        let queues = SharedMapping::new(SharedMemoryQueues::default()).unwrap();
        let long = Item::Pair(1, "x".repeat(TEXT_BYTES + 1));
        let refused = queues.put(QueueName::PriorityPairs, long).unwrap_err();
        assert!(refused.contains("49 bytes"), "{refused}");
        let fits = Item::Pair(1, "é".repeat(TEXT_BYTES / 2));
        queues.put(QueueName::PriorityPairs, fits.clone()).unwrap();
        assert_eq!(drained(&queues, QueueName::PriorityPairs), [fits]);
    }

    /// An empty get waits its timeout and returns nothing; a full put blocks until a get
    /// makes room (a thread stands for the other process: the futex is shared either way).
    #[test]
    fn an_empty_get_times_out_and_a_full_put_waits_for_a_get() {
        let mapping = SharedMapping::new(SharedMemoryQueues::default()).unwrap();
        let queues: &SharedMemoryQueues = &mapping;
        assert_eq!(
            queues.get(QueueName::Timed, Duration::from_millis(20)),
            Ok(None)
        );
        for n in 0..CAPACITY as i64 {
            queues.put(QueueName::Stream, Item::Number(n)).unwrap();
        }
        std::thread::scope(|scope| {
            let putter = scope.spawn(|| queues.put(QueueName::Stream, Item::Number(-1)));
            // The putter cannot finish before this get: the queue stays full until then.
            let first = queues
                .get(QueueName::Stream, Duration::from_secs(5))
                .unwrap();
            assert_eq!(first, Some(Item::Number(0)));
            putter.join().unwrap().unwrap();
        });
        let rest = drained(queues, QueueName::Stream);
        assert_eq!(rest.len(), CAPACITY);
        assert_eq!(rest.last(), Some(&Item::Number(-1)));
    }

    /// A process killed while it holds the queues' lock: the next put or get says so at
    /// once, in another process, instead of blocking for ever.
    #[test]
    fn a_process_killed_holding_the_lock_is_reported_not_waited_for() {
        use nix::sys::signal::{Signal, kill};
        use nix::sys::wait::{WaitStatus, waitpid};
        use nix::unistd::{ForkResult, fork, getpid};

        let queues = SharedMapping::new(SharedMemoryQueues::default()).unwrap();
        queues.put(QueueName::Fifo, Item::Number(7)).unwrap();
        // SAFETY: the child calls only `pthread_mutex_lock` (on the shared mapping, through
        // `with`), `kill` and `_exit`: nothing that needs a lock another thread of this test
        // process may have held at the fork.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let _ = queues.with(QueueName::Fifo, |_, _| {
                    let _ = kill(getpid(), Signal::SIGKILL);
                });
                // SAFETY: `_exit` ends the child without running the parent's destructors.
                unsafe { libc::_exit(3) }
            }
            ForkResult::Parent { child } => {
                let status = waitpid(child, None).unwrap();
                assert_eq!(status, WaitStatus::Signaled(child, Signal::SIGKILL, false));
            }
        }
        // Were the death missed, the get would wait out its 30 s and return `Ok(None)`.
        let got = queues.get(QueueName::Fifo, Duration::from_secs(30));
        let put = queues.put(QueueName::Fifo, Item::Number(8));
        assert_eq!(
            got,
            Err("the shared memory queues' lock: its holder died holding it".into())
        );
        assert_eq!(put, got.map(drop));
    }
}
