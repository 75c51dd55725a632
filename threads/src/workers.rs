//! Workers as OS threads, with the same interface as `processes/src/workers.rs`.
//!
//! A thread shares the parent's memory: its events go straight into the run's trace (a
//! mutex-protected list), its result comes back as `JoinHandle::join`'s return value, and
//! a panic in it is caught at join. There is nothing to reap: a thread is gone once joined.
//!
//! A thread cannot be killed from outside: when `join_all` stops at the first worker that
//! died, the others run on until they end by themselves, and the narration and the JSON say
//! so (`left thread`, `figures.notes.left_running`). The shared-state demos make sure they
//! end: a poisoned `Mutex` stops the lock's workers, and every blocking wait on a queue or
//! an event has a time limit.
//!
//! The main flow narrates the mechanism, one line each (`contract::trace::MECHANISM`): how
//! each thread was made, and how its join ended. A worker thread's panic is not printed by
//! Rust's default hook: [`quiet_worker_panics`] keeps its message and place, and the join
//! reports them in one line.

use contract::domain::Fault;
use contract::interrupt;
use contract::{DemoError, DemoRun, EventSink, Trace};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};
use std::thread::{JoinHandle, ThreadId};

/// Names one started worker; give it back to [`Workers::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(usize);

impl WorkerId {
    /// The worker's place in start order: its result's index in `join_all`'s results.
    pub fn index(self) -> usize {
        self.0
    }
}

/// The threads of one demo, each returning a `T`.
pub struct Workers<'run, T> {
    run: &'run DemoRun,
    threads: Vec<(String, Thread<T>)>,
    /// Each thread sends its index here as it ends, returning or panicking.
    ended_tx: Sender<usize>,
    ended_rx: Receiver<usize>,
    /// The threads whose end has been received from `ended_rx`, by index.
    ended: Vec<bool>,
    /// Each thread's id in the kernel (its tid), sent by the thread as it starts.
    tids: Vec<Receiver<u32>>,
    /// The main flow narrates how each worker was made and how it ended (not in `spawn`'s
    /// timing loop, which starts thousands).
    narrated: bool,
}

/// Where a started thread is in its life, as the parent knows it.
enum Thread<T> {
    Running(JoinHandle<T>),
    /// Ended before its first event; its result waits for `join`.
    Ended(T),
    Joined,
}

impl<'run, T: Send + 'static> Workers<'run, T> {
    pub fn new(run: &'run DemoRun) -> Self {
        quiet_worker_panics();
        let (ended_tx, ended_rx) = crossbeam_channel::unbounded();
        Workers {
            run,
            threads: Vec::new(),
            ended_tx,
            ended_rx,
            ended: Vec::new(),
            tids: Vec::new(),
            narrated: true,
        }
    }

    /// The same workers, without the main flow's lines on how each was made and ended: for
    /// a timing loop that starts thousands (`spawn`).
    pub fn unnarrated(mut self) -> Self {
        self.narrated = false;
        self
    }

    /// Spawns a thread named `name` that runs `body`, and returns once the thread has
    /// emitted its first event, or has ended without one (Python's `start()` likewise
    /// returns once the thread runs).
    pub fn start<F>(&mut self, name: &str, body: F) -> Result<WorkerId, DemoError>
    where
        F: FnOnce(&dyn EventSink) -> T + Send + 'static,
    {
        let id = WorkerId(self.threads.len());
        let asked_at = self.run.trace().now_s();
        let (first_event_tx, first_event_rx) = crossbeam_channel::bounded(1);
        let sink = ThreadSink {
            trace: Arc::clone(self.run.trace()),
            worker: name.to_string(),
            first_event: Cell::new(Some(first_event_tx)),
            fault: self.run.fault_for(id.0),
        };
        let ended = EndSignal {
            to: self.ended_tx.clone(),
            index: id.0,
        };
        let (tid_tx, tid_rx) = crossbeam_channel::bounded(1);
        let narrated = self.narrated;
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _ended = ended;
                IS_WORKER.set(true);
                if narrated && let Some(tid) = own_tid() {
                    let _ = tid_tx.send(tid);
                }
                body(&sink)
            })
            .map_err(|e| DemoError::system("spawning a thread", e))?;
        if self.narrated {
            self.run.main_says(
                "made thread",
                Some(format!(
                    "{name}: a thread of this process (pid {}), by std::thread::spawn; it \
                     shares this memory",
                    std::process::id()
                )),
            );
        }
        self.threads
            .push((name.to_string(), Thread::Running(handle)));
        self.ended.push(false);
        self.tids.push(tid_rx);
        self.run.figures(|f| {
            f.workers_created += 1;
            f.results_via = Some("JoinHandle::join return value (shared memory)".into());
        });
        // The sender is dropped unused if the thread ends before its first event.
        let first_event = interrupt::wait_until(|turn| match first_event_rx.recv_timeout(turn) {
            Ok(first_event_at) => Some(Some(first_event_at)),
            Err(RecvTimeoutError::Disconnected) => Some(None),
            Err(RecvTimeoutError::Timeout) => None,
        })?;
        match first_event {
            Some(first_event_at) => {
                let micros = (first_event_at - asked_at) * 1e6;
                self.run.figures(|f| f.spawn_to_first_event_us.push(micros));
                Ok(id)
            }
            None => {
                let result = self.join(id)?;
                self.threads[id.0].1 = Thread::Ended(result);
                Ok(id)
            }
        }
    }

    /// Waits for the worker to end and returns its result, or how it died.
    pub fn join(&mut self, id: WorkerId) -> Result<T, DemoError> {
        if matches!(self.threads[id.0].1, Thread::Running(_)) {
            self.wait_for_an_end(|w| w.ended[id.0])?;
        }
        self.reap(id)
    }

    /// Joins every worker not yet joined, as each ends, and returns their results in start
    /// order; returns at once when one has died (panicked), without waiting for the others.
    pub fn join_all(&mut self) -> Result<Vec<T>, DemoError> {
        let mut results: Vec<Option<T>> = self.threads.iter().map(|_| None).collect();
        let mut waiting: Vec<usize> = (0..self.threads.len())
            .filter(|&i| !matches!(self.threads[i].1, Thread::Joined))
            .collect();
        while !waiting.is_empty() {
            self.wait_for_an_end(|w| waiting.iter().any(|&i| w.ended[i]))?;
            let ended: Vec<usize> = waiting.iter().copied().filter(|&i| self.ended[i]).collect();
            waiting.retain(|i| !ended.contains(i));
            for index in ended {
                results[index] = Some(self.reap(WorkerId(index))?);
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// Receives the ends of threads until `done`, waiting in turns: Ctrl-C or SIGTERM ends
    /// the wait with `Interrupted` (the threads end with the process; none can be stopped).
    fn wait_for_an_end(&mut self, done: impl Fn(&Self) -> bool) -> Result<(), DemoError> {
        interrupt::wait_until(|turn| {
            if done(self) {
                return Some(Ok(()));
            }
            match self.ended_rx.recv_timeout(turn) {
                Ok(index) => self.ended[index] = true,
                Err(RecvTimeoutError::Timeout) => {}
                // `self` holds a sender: this cannot happen.
                Err(e) => return Some(Err(DemoError::system("waiting for threads", e))),
            }
            None
        })?
    }

    fn reap(&mut self, id: WorkerId) -> Result<T, DemoError> {
        let (name, thread) = &mut self.threads[id.0];
        let name = name.clone();
        match std::mem::replace(thread, Thread::Joined) {
            Thread::Running(handle) => {
                let thread_id = handle.thread().id();
                let joined = handle.join().map_err(|payload| {
                    let place = take_panic_place(thread_id);
                    (panic_message(&*payload), place)
                });
                self.narrate_join(id, &name, &joined);
                joined.map_err(|(message, _)| DemoError::WorkerDied {
                    worker: name,
                    how: format!("panicked: {message}"),
                })
            }
            Thread::Ended(result) => Ok(result),
            Thread::Joined => Err(DemoError::WorkerDied {
                worker: name,
                how: "was already joined".into(),
            }),
        }
    }

    /// The main flow's line on a join: the thread returned (its result is in this memory) or
    /// panicked (where, and what it said), and what `--inject kill-worker` did instead of a
    /// kill.
    fn narrate_join(&self, id: WorkerId, name: &str, joined: &Result<T, (String, Option<String>)>) {
        if !self.narrated {
            return;
        }
        let tid = self.tids[id.0]
            .try_recv()
            .map_or_else(|_| String::new(), |tid| format!(" (tid {tid})"));
        let said = match joined {
            Ok(_) => {
                format!("{name}{tid}: it returned; its result is in this memory, no copy made")
            }
            Err((message, place)) => {
                let place = place
                    .as_deref()
                    .map_or_else(String::new, |p| format!(" at {p}"));
                format!(
                    "{name}{tid}: it panicked{place}: {message}; join caught the panic, no \
                     other thread is touched"
                )
            }
        };
        self.run.main_says("joined thread", Some(said));
        if joined.is_err() && self.run.fault_for(id.0) == Some(Fault::KillWorker) {
            self.run.figures(|f| {
                f.notes
                    .insert("injected_fault".into(), KILL_IS_A_PANIC.into());
            });
        }
    }
}

/// What `--inject kill-worker` does to a thread, as the report says it.
const KILL_IS_A_PANIC: &str = "kill-worker: a thread cannot be killed from outside (a signal \
                               is delivered to the whole process and would end every thread), \
                               so the worker panicked instead, and its join caught the panic";

impl<T> Drop for Workers<'_, T> {
    /// A thread cannot be killed: the threads that have not ended when the demo stops (at
    /// its first dead worker) run on until they end by themselves, or until this program
    /// exits. The narration and the JSON say so.
    fn drop(&mut self) {
        let running: Vec<&str> = self
            .threads
            .iter()
            .filter(|(_, thread)| matches!(thread, Thread::Running(_)))
            .map(|(name, _)| name.as_str())
            .collect();
        if running.is_empty() || interrupt::requested() {
            return;
        }
        let names = running.join(" ");
        let (they, run, end, by) = match running.len() {
            1 => ("it", "runs", "ends", "itself"),
            _ => ("they", "run", "end", "themselves"),
        };
        self.run.main_says(
            "left thread",
            Some(format!(
                "{names}: a thread cannot be killed from outside, so {they} {run} on until {they} \
                 {end} by {by} or this program exits"
            )),
        );
        self.run.figures(|f| {
            f.notes.insert("left_running".into(), names.clone());
        });
    }
}

thread_local! {
    /// True in a thread started by [`Workers::start`].
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Where each worker thread panicked, kept by the panic hook until its join reads it.
static PANIC_PLACES: Mutex<Option<HashMap<ThreadId, String>>> = Mutex::new(None);

/// Installs (once) a panic hook that prints nothing for a worker thread: it keeps where the
/// panic happened, and the worker's join reports it, with the message, in one line. A panic
/// in any other thread (the main flow's: a bug) is printed as Rust prints it.
pub fn quiet_worker_panics() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IS_WORKER.get() {
                return default(info);
            }
            let place = info
                .location()
                .map_or_else(|| "an unknown place".to_string(), ToString::to_string);
            let mut places = PANIC_PLACES.lock().unwrap_or_else(|p| p.into_inner());
            places
                .get_or_insert_with(HashMap::new)
                .insert(std::thread::current().id(), place);
        }));
    });
}

/// Where the worker thread `id` panicked, if the hook saw it.
fn take_panic_place(id: ThreadId) -> Option<String> {
    let mut places = PANIC_PLACES.lock().unwrap_or_else(|p| p.into_inner());
    places.as_mut()?.remove(&id)
}

/// This thread's id in the kernel, from `/proc/thread-self` (`<pid>/task/<tid>`).
fn own_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Sends its thread's index when dropped: at the end of the thread's closure, on return
/// and on panic alike.
struct EndSignal {
    to: Sender<usize>,
    index: usize,
}

impl Drop for EndSignal {
    fn drop(&mut self) {
        // The parent may be gone from `join_all`; then nobody is listening.
        let _ = self.to.send(self.index);
    }
}

/// A worker thread's end of the trace.
struct ThreadSink {
    trace: Arc<Trace>,
    worker: String,
    first_event: Cell<Option<Sender<f64>>>,
    fault: Option<Fault>,
}

impl EventSink for ThreadSink {
    fn worker(&self) -> &str {
        &self.worker
    }

    fn emit(&self, what: &str, detail: Option<String>) {
        let t_s = self.trace.emit(&self.worker, what, detail);
        if let Some(first_event) = self.first_event.take() {
            // The parent may have stopped waiting; then nobody needs the signal.
            let _ = first_event.send(t_s);
            if let Some(fault) = self.fault {
                inject(fault);
            }
        }
    }
}

/// Makes this worker die as `--inject` asks. A thread cannot be killed on its own (a signal
/// is delivered to the whole process), so both faults end the thread with a panic, and the
/// report says so (`figures.notes.injected_fault`).
fn inject(fault: Fault) -> ! {
    match fault {
        Fault::KillWorker => {
            panic!("injected fault kill-worker (a thread cannot be killed alone, so it panics)")
        }
        Fault::PanicWorker => panic!("injected fault panic-worker"),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::demos::DemoId;
    use contract::domain::{BackendKind, WorkerKind};
    use contract::run::RunSettings;
    use contract::trace::Echo;

    fn run() -> DemoRun {
        let settings = RunSettings {
            scale: 1.0,
            inject: None,
            start: Default::default(),
            options: Default::default(),
            download: Default::default(),
            crash_copy: false,
        };
        let kind = BackendKind {
            worker: WorkerKind::Thread,
            isolated: false,
            start_method: None,
        };
        DemoRun::new(DemoId::Join, ("threads", &kind), &settings, Echo::Silent)
    }

    #[test]
    fn results_come_back_in_start_order_whatever_order_the_workers_end_in() {
        let run = run();
        let mut workers = Workers::new(&run);
        // The first worker ends only once the second has ended.
        let (second_ended, first_may_end) = crossbeam_channel::bounded::<()>(1);
        let first = workers
            .start("t1", move |out| {
                out.emit("started", None);
                let _ = first_may_end.recv();
                10
            })
            .unwrap();
        let second = workers
            .start("t2", move |out| {
                out.emit("started", None);
                drop(second_ended);
                20
            })
            .unwrap();
        assert_eq!((first.index(), second.index()), (0, 1));
        assert_eq!(workers.join_all().unwrap(), [10, 20]);
        drop(workers);
        let report = run.into_report(Ok((serde_json::Value::Null, Ok(()))), 0.0);
        assert_eq!(report.figures.workers_created, 2);
        assert_eq!(report.figures.spawn_to_first_event_us.len(), 2);
    }

    #[test]
    fn a_worker_that_panics_is_reported_with_its_message() {
        let run = run();
        let mut workers = Workers::new(&run);
        let formatted = workers
            .start("t1", |out| -> u32 {
                out.emit("started", None);
                panic!("no {}", "luck")
            })
            .unwrap();
        let plain = workers
            .start("t2", |out| -> u32 {
                out.emit("started", None);
                panic!("no luck either")
            })
            .unwrap();
        let mut error = |id| workers.join(id).unwrap_err().to_string();
        assert_eq!(error(formatted), "t1 panicked: no luck");
        assert_eq!(error(plain), "t2 panicked: no luck either");
        assert_eq!(error(plain), "t2 was already joined");
    }
}
