//! Workers as OS threads, with the same interface as `processes/src/workers.rs`.
//!
//! A thread shares the parent's memory: its events go straight into the run's trace (a
//! mutex-protected list), its result comes back as `JoinHandle::join`'s return value, and
//! a panic in it is caught at join. There is nothing to reap: a thread is gone once joined.

use crossbeam_channel::Sender;
use shared::cli::Fault;
use shared::{DemoError, DemoRun, EventSink, Trace};
use std::any::Any;
use std::cell::Cell;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Names one started worker; give it back to [`Workers::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(usize);

/// The threads of one demo, each returning a `T`.
pub struct Workers<'run, T> {
    run: &'run DemoRun,
    threads: Vec<(String, Thread<T>)>,
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
        Workers {
            run,
            threads: Vec::new(),
        }
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
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || body(&sink))
            .map_err(|e| DemoError::system("spawning a thread", e))?;
        self.threads
            .push((name.to_string(), Thread::Running(handle)));
        self.run.figures(|f| {
            f.workers_created += 1;
            f.results_via = Some("JoinHandle::join return value (shared memory)".into());
        });
        // The sender is dropped unused if the thread ends before its first event.
        match first_event_rx.recv() {
            Ok(first_event_at) => {
                let micros = (first_event_at - asked_at) * 1e6;
                self.run.figures(|f| f.spawn_to_first_event_us.push(micros));
                Ok(id)
            }
            Err(_) => {
                let result = self.reap(id)?;
                self.threads[id.0].1 = Thread::Ended(result);
                Ok(id)
            }
        }
    }

    /// Waits for the worker to end and returns its result, or how it died.
    pub fn join(&mut self, id: WorkerId) -> Result<T, DemoError> {
        self.reap(id)
    }

    /// Joins every worker not yet joined, in start order; the first failure is returned
    /// after all have been joined.
    pub fn join_all(&mut self) -> Result<Vec<T>, DemoError> {
        let results: Vec<Result<T, DemoError>> = (0..self.threads.len())
            .map(|i| self.reap(WorkerId(i)))
            .collect();
        results.into_iter().collect()
    }

    fn reap(&mut self, id: WorkerId) -> Result<T, DemoError> {
        let (name, thread) = &mut self.threads[id.0];
        match std::mem::replace(thread, Thread::Joined) {
            Thread::Running(handle) => handle.join().map_err(|payload| DemoError::WorkerDied {
                worker: name.clone(),
                how: format!("panicked: {}", panic_message(&*payload)),
            }),
            Thread::Ended(result) => Ok(result),
            Thread::Joined => Err(DemoError::WorkerDied {
                worker: name.clone(),
                how: "was already joined".into(),
            }),
        }
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
/// is delivered to the whole process), so both faults end the thread with a panic.
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
