//! The lock, the event and the queues of the shared-state demos, for processes. Compare
//! `threads/src/sync.rs`: std's `Mutex` and `Condvar` use *private* futexes, which the
//! kernel looks up per process, so they cannot work across processes. Here:
//!
//! - [`ProcessMutex`]: a `pthread_mutex_t` with `PTHREAD_PROCESS_SHARED` and
//!   `PTHREAD_MUTEX_ROBUST`, in a shared mapping. Robust: when its holder dies, the next
//!   `lock` gets `EOWNERDEAD` instead of blocking forever, the analogue of a std `Mutex`
//!   poisoned by a panicking thread; and a worker that panics holding it dies holding it,
//!   so that a panic poisons it too.
//! - [`FutexEvent`]: a word in a shared mapping with a *shared* futex (no
//!   `FUTEX_PRIVATE_FLAG`), which the kernel keys by the file and offset, so a `FUTEX_WAKE`
//!   in one process wakes a `FUTEX_WAIT` in another.
//! - [`QueueOwner`]: no shared memory at all: the queues live in the parent, and children
//!   reach them by request and reply over ipc-channel, as Python's managers do.

use crate::shared_memory::ProcessShared;
use crate::workers::{EXIT_PANICKED, Parent, Service, WorkerId, exit_child};
use contract::DemoError;
use contract::event_flag::{EventFlag, SetTime};
use contract::queue_owner::{AsksTheOwner, QueueReply, QueueRequest};
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A lock that works across processes, and tells the next taker when its holder died.
pub struct ProcessMutex {
    raw: UnsafeCell<libc::pthread_mutex_t>,
}

// SAFETY: a pthread mutex is made to be used from several threads (and, initialised with
// PTHREAD_PROCESS_SHARED, several processes) at once; all access goes through pthread calls.
unsafe impl Sync for ProcessMutex {}

// SAFETY: a pthread mutex holds no pointers into private memory when it is process-shared
// (glibc keeps the robust list in the holder's thread, not in the mutex), and is used only
// through pthread calls; it needs no destructor on Linux.
unsafe impl ProcessShared for ProcessMutex {
    unsafe fn init_in_place(&self) -> Result<(), DemoError> {
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is writable memory for a mutexattr, which this call initialises.
        check("pthread_mutexattr_init", unsafe {
            libc::pthread_mutexattr_init(attr.as_mut_ptr())
        })?;
        // SAFETY: `attr` was initialised just above.
        check("PTHREAD_PROCESS_SHARED", unsafe {
            libc::pthread_mutexattr_setpshared(attr.as_mut_ptr(), libc::PTHREAD_PROCESS_SHARED)
        })?;
        // SAFETY: as above.
        check("PTHREAD_MUTEX_ROBUST", unsafe {
            libc::pthread_mutexattr_setrobust(attr.as_mut_ptr(), libc::PTHREAD_MUTEX_ROBUST)
        })?;
        // SAFETY: the mutex is at its final address in the mapping and not yet in use (the
        // caller's promise), and `attr` is initialised.
        check("pthread_mutex_init", unsafe {
            libc::pthread_mutex_init(self.raw.get(), attr.as_ptr())
        })?;
        // SAFETY: `attr` is initialised and no longer needed; the mutex keeps no reference.
        check("pthread_mutexattr_destroy", unsafe {
            libc::pthread_mutexattr_destroy(attr.as_mut_ptr())
        })
    }
}

fn check(call: &str, code: libc::c_int) -> Result<(), DemoError> {
    match code {
        0 => Ok(()),
        errno => Err(DemoError::system(
            call,
            std::io::Error::from_raw_os_error(errno),
        )),
    }
}

impl Default for ProcessMutex {
    /// A mutex to be moved into a shared mapping, which then initialises it in place.
    fn default() -> Self {
        ProcessMutex {
            raw: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
        }
    }
}

impl ProcessMutex {
    /// Takes the lock, or says why not: its holder died holding it (now or before).
    ///
    /// A lock whose holder died is poisoned for good: it is left unrecoverable, never made
    /// consistent. The first `lock` after the death gets `EOWNERDEAD` and the lock with it;
    /// what the lock guards may be half-updated, and nothing here knows how to repair it, so
    /// it unlocks without `pthread_mutex_consistent`, which marks the mutex unrecoverable:
    /// that `lock` and every later one fail (`ENOTRECOVERABLE`), in every process. std's
    /// poisoned `Mutex` likewise fails every later `lock`. Recovering would mean repairing
    /// the data, then calling `pthread_mutex_consistent` before unlocking.
    pub fn lock(&self) -> Result<ProcessMutexGuard<'_>, String> {
        // SAFETY: the mutex was initialised in place (`SharedMapping::new`) and stays mapped
        // while `self` is borrowed.
        match unsafe { libc::pthread_mutex_lock(self.raw.get()) } {
            0 => Ok(ProcessMutexGuard {
                mutex: self,
                _not_send: PhantomData,
            }),
            libc::EOWNERDEAD => {
                // SAFETY: this thread holds the mutex (EOWNERDEAD hands it over); unlocking
                // it without making it consistent leaves it unrecoverable (see above).
                unsafe { libc::pthread_mutex_unlock(self.raw.get()) };
                Err("its holder died holding it".into())
            }
            libc::ENOTRECOVERABLE => Err("its holder died holding it".into()),
            errno => Err(format!(
                "pthread_mutex_lock: {}",
                std::io::Error::from_raw_os_error(errno)
            )),
        }
    }
}

/// The lock is held while this lives.
///
/// Not `Send`: a pthread mutex is unlocked by the thread that locked it. Dropped on another
/// thread, the unlock would fail (`EPERM`) and the mutex would stay locked for ever.
pub struct ProcessMutexGuard<'a> {
    mutex: &'a ProcessMutex,
    _not_send: PhantomData<*const ()>,
}

// The guard is not `Send`: if it were, both impls would apply to it, and the path below
// would be ambiguous and fail to compile.
const _: fn() = || {
    trait AmbiguousIfSend<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    let _ = <ProcessMutexGuard<'static> as AmbiguousIfSend<_>>::some_item;
};

impl Drop for ProcessMutexGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A panic while holding the lock poisons it, as a panic poisons std's `Mutex`:
            // this process ends here, still holding it, and the kernel, walking the dying
            // thread's robust list, marks the mutex owner-dead, so that the next `lock`
            // gets EOWNERDEAD. Unlocking would hand the next taker a half-done update.
            // Merely not unlocking and unwinding on would not do either: the unwinding
            // drops the mapping, the robust list then points at unmapped memory, the
            // kernel cannot mark the mutex, and the next taker blocks for ever. The panic
            // hook has sent the message to the parent; the parent reads code 101, as for
            // any panicking worker.
            exit_child(EXIT_PANICKED);
        }
        // SAFETY: the guard exists only while this thread holds the mutex (it is not
        // `Send`), and is dropped once.
        unsafe { libc::pthread_mutex_unlock(self.mutex.raw.get()) };
    }
}

/// Python's `threading.Event` across processes: one word in a shared mapping, and a shared
/// futex on that word to sleep on. A waiter sleeps in the kernel: no CPU is used while it
/// waits. The word's low bit is the flag; the bits above count the sets, so that a waiter
/// woken by a set returns true even when a clear follows before it runs, as Python's
/// `Event.wait()` does.
#[derive(Debug, Default)]
pub struct FutexEvent {
    word: AtomicU32,
}

// SAFETY: one atomic word, no pointers, no destructor; the futex calls only name its address.
unsafe impl ProcessShared for FutexEvent {}

/// The flag in the word.
const SET: u32 = 1;
/// One more set, in the count above the flag (it wraps, after 2^31 sets).
const ONE_SET: u32 = 2;

impl EventFlag for FutexEvent {
    fn set(&self) {
        // One change of the word: the flag and the count together.
        let _ = self
            .word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                Some(word.wrapping_add(ONE_SET) | SET)
            });
        futex_wake_all(&self.word);
    }

    fn clear(&self) {
        self.word.fetch_and(!SET, Ordering::SeqCst);
    }

    fn is_set(&self) -> bool {
        self.word.load(Ordering::SeqCst) & SET != 0
    }

    fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let seen = self.word.load(Ordering::SeqCst);
        loop {
            let now = self.word.load(Ordering::SeqCst);
            // Set now, or set since the wait began (and maybe cleared since).
            if now & SET != 0 || now >> 1 != seen >> 1 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Sleeps only if the word is still what it was, so a set in between is not
            // missed; wakes on a set, a signal, or the time limit, and the loop looks again.
            // (The parent waits in short turns, and looks at Ctrl-C between them.)
            futex_wait(&self.word, seen, left);
        }
    }
}

/// `FUTEX_WAIT` without `FUTEX_PRIVATE_FLAG`: the kernel keys the wait by the file and offset,
/// so it is woken by a `FUTEX_WAKE` from any process that maps the same page. Returns on a
/// wake, a signal, the time limit, or at once if the word is not `expected`: the caller looks
/// at the word again in every case.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: `word` is a live, aligned u32 for the whole call, which only reads it;
    // `timeout` is a valid timespec on the stack; the unused arguments are ignored for
    // FUTEX_WAIT. Its errors (EAGAIN, ETIMEDOUT, EINTR) all mean "look again".
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &timeout as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
}

/// `FUTEX_WAKE` of every waiter on `word`, in any process (shared futex, as above).
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE does not touch its value and
    // ignores the unused arguments.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        )
    };
}

// SAFETY: one atomic word, no pointers, no destructor.
unsafe impl ProcessShared for AtomicU64 {}

// SAFETY: `SetTime` is one atomic word (nanoseconds), no pointers, no destructor.
unsafe impl ProcessShared for SetTime {}

/// The queues, kept by the parent, which answers each child's requests while it pumps their
/// channels; a child blocks on its reply channel meanwhile, and nothing spins.
pub type QueueOwner = contract::queue_owner::QueueOwner<WorkerId>;

impl Service for QueueOwner {
    type Request = QueueRequest;
    type Reply = QueueReply;

    fn handle(
        &mut self,
        from: WorkerId,
        request: QueueRequest,
        replies: &mut Vec<(WorkerId, QueueReply)>,
    ) {
        self.answer(from, request, replies);
    }

    fn expire(&mut self, now: Instant, replies: &mut Vec<(WorkerId, QueueReply)>) {
        QueueOwner::expire(self, now, replies);
    }
}

/// A child's view of the owner's queues: each put and get is one request and one reply.
impl AsksTheOwner for Parent<'_, QueueOwner> {
    fn ask_owner(&self, request: QueueRequest) -> QueueReply {
        self.ask(request)
    }
}

#[cfg(test)]
mod tests {
    use super::FutexEvent;
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

    /// A shared futex works between the threads of one process as between processes.
    /// Whether the set-then-clear happens before the waiter runs again is up to the
    /// scheduler: the race is run many times, and the waiter must see every set.
    #[test]
    fn a_waiter_woken_by_a_set_returns_true_even_if_a_clear_follows_at_once() {
        for round in 0..100 {
            let event = Arc::new(FutexEvent::default());
            let (tid_sender, tid) = std::sync::mpsc::channel();
            let waiting = Arc::clone(&event);
            let waiter = std::thread::spawn(move || {
                tid_sender.send(nix::unistd::gettid().to_string()).unwrap();
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
        let event = FutexEvent::default();
        assert!(!event.wait(Duration::from_millis(1)));
        event.set();
        assert!(event.wait(Duration::ZERO));
    }
}
