//! Workers as tokio tasks, with the same interface as `threads/src/workers.rs` (`start`,
//! `join` and `join_all` are `async` here: the main flow is a task too).
//!
//! A task shares the parent's memory, as a thread does: its events go straight into the
//! run's trace, its result comes back from awaiting its `JoinHandle`, and a panic in it is
//! caught there (tokio catches it where it polls the task). It has no stack of its own: its
//! state is its future, polled by the runtime's worker threads between the `.await`s of other
//! tasks. Nothing is reaped: a task is gone once it has been joined or the runtime is dropped.
//!
//! A task cannot be killed by a signal alone any more than a thread can; it can be cancelled
//! (`JoinHandle::abort`), but only at an `.await`: a task that computes without awaiting holds
//! its worker thread until it is done. The main flow waits in turns (`interrupt::TURN`), so
//! Ctrl-C ends a demo within a turn; dropping the runtime then cancels every task still
//! waiting.

use contract::domain::{Executor, Fault};
use contract::interrupt::{self, Interrupted};
use contract::{DemoError, DemoRun, EventSink, Trace};
use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinError, JoinHandle};

/// The executor every demo's main flow and workers run on: tokio's multi-thread runtime with
/// one worker thread per core, as `tokio::main` makes it.
pub fn executor() -> Executor {
    Executor {
        flavour: "multi-thread".into(),
        worker_threads: worker_threads(),
    }
}

/// The worker threads of the multi-thread runtime: one per core.
pub fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs a demo's main flow to its end as a task on a fresh multi-thread runtime, as the
/// tasks of a tokio program spawn theirs; the runtime is dropped with every task still on it
/// once the flow returns. The flow owns a clone of `run` (a task outlives any borrow).
///
/// On a worker thread the flow starts a task cheaply: the new task waits in that thread's
/// queue and runs as soon as the flow awaits, with no other thread to wake. A worker that
/// then computes without awaiting holds that thread, with the flow queued behind it: demos
/// whose workers do that run their flow with [`beside_runtime`].
pub fn on_runtime<O, Flow>(
    run: &DemoRun,
    main_flow: impl FnOnce(DemoRun) -> Flow,
) -> Result<O, DemoError>
where
    Flow: Future<Output = Result<O, DemoError>> + Send + 'static,
    O: Send + 'static,
{
    let runtime = multi_thread_runtime()?;
    let flow = MAIN_FLOW.scope((), main_flow(run.clone()));
    let flow = runtime.spawn(flow);
    finish_on(runtime, async move {
        match flow.await {
            Ok(result) => result,
            Err(error) => match error.try_into_panic() {
                // A panic of the main flow is a bug: it goes on as the panic it was.
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(_cancelled) => Err(DemoError::Interrupted),
            },
        }
    })
}

/// Runs a demo's main flow to its end on this thread, beside a fresh multi-thread runtime
/// whose worker threads run the tasks it starts (as `#[tokio::main]` does). Starting a task
/// costs a wake-up of a worker thread and one of this thread, but no worker that computes
/// can hold the flow up.
pub fn beside_runtime<O>(
    main_flow: impl Future<Output = Result<O, DemoError>>,
) -> Result<O, DemoError> {
    finish_on(multi_thread_runtime()?, main_flow)
}

/// A multi-thread runtime with one worker thread per core.
fn multi_thread_runtime() -> Result<tokio::runtime::Runtime, DemoError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_time()
        .enable_io()
        .build()
        .map_err(|e| DemoError::system("starting the tokio runtime", e))
}

tokio::task_local! {
    /// Set in the main flow's task: its panics are printed, a worker task's are not.
    static MAIN_FLOW: ();
}

/// Runs `main_flow` to its end on `runtime`, then drops the runtime: after an interrupt
/// without waiting for a task that computes without awaiting (the program is about to exit),
/// otherwise once every task has ended or been cancelled at its next `.await`.
pub fn finish_on<O>(
    runtime: tokio::runtime::Runtime,
    main_flow: impl Future<Output = Result<O, DemoError>>,
) -> Result<O, DemoError> {
    let result = runtime.block_on(main_flow);
    match result {
        Err(DemoError::Interrupted) => runtime.shutdown_background(),
        _ => drop(runtime),
    }
    result
}

/// Awaits `future` in turns of at most [`interrupt::TURN`], looking at Ctrl-C and SIGTERM
/// before each: how the main flow waits for anything.
pub async fn in_turns<F: Future + Unpin>(future: &mut F) -> Result<F::Output, Interrupted> {
    loop {
        if interrupt::requested() {
            return Err(Interrupted);
        }
        if let Ok(output) = tokio::time::timeout(interrupt::TURN, &mut *future).await {
            return Ok(output);
        }
    }
}

/// Names one started worker; give it back to [`Workers::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(usize);

impl WorkerId {
    /// The worker's place in start order: its result's index in `join_all`'s results.
    pub fn index(self) -> usize {
        self.0
    }
}

/// The tasks of one demo, each returning a `T`.
pub struct Workers<'run, T> {
    run: &'run DemoRun,
    tasks: Vec<(String, Task<T>)>,
    /// Each task sends its index here as it ends, returning, panicking or cancelled.
    ended_tx: mpsc::UnboundedSender<usize>,
    ended_rx: mpsc::UnboundedReceiver<usize>,
    /// The tasks whose end has been received from `ended_rx`, by index.
    ended: Vec<bool>,
    /// The main flow narrates how each worker was made and how it ended (not in `spawn`'s
    /// timing loop, which starts thousands).
    narrated: bool,
}

/// Where a started task is in its life, as the parent knows it.
enum Task<T> {
    Running(JoinHandle<T>),
    /// Ended before its first event; its result waits for `join`.
    Ended(T),
    Joined,
}

impl<'run, T: Send + 'static> Workers<'run, T> {
    pub fn new(run: &'run DemoRun) -> Self {
        quiet_task_panics();
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        Workers {
            run,
            tasks: Vec::new(),
            ended_tx,
            ended_rx,
            ended: Vec::new(),
            narrated: true,
        }
    }

    /// The same workers, without the main flow's lines on how each was made and ended: for
    /// a timing loop that starts thousands (`spawn`).
    pub fn unnarrated(mut self) -> Self {
        self.narrated = false;
        self
    }

    /// Spawns a task named `name` that runs the future `body` makes, and returns once the
    /// task has emitted its first event, or has ended without one (Python's `start()`
    /// likewise returns once the thread runs).
    pub async fn start<F, Fut>(&mut self, name: &str, body: F) -> Result<WorkerId, DemoError>
    where
        F: FnOnce(TaskSink) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let id = WorkerId(self.tasks.len());
        let asked_at = self.run.trace().now_s();
        let (first_event_tx, mut first_event_rx) = oneshot::channel();
        let sink = TaskSink {
            trace: Arc::clone(self.run.trace()),
            worker: name.to_string(),
            first_event: Mutex::new(Some(first_event_tx)),
            fault: self.run.fault_for(id.0),
        };
        let ended = EndSignal {
            to: self.ended_tx.clone(),
            index: id.0,
        };
        let work = body(sink);
        let handle = tokio::spawn(async move {
            let _ended = ended;
            work.await
        });
        if self.narrated {
            self.run.main_says("made task", Some(made(name)));
        }
        self.tasks.push((name.to_string(), Task::Running(handle)));
        self.ended.push(false);
        self.run.figures(|f| {
            f.workers_created += 1;
            f.results_via = Some("the JoinHandle's output, awaited (shared memory)".into());
        });
        // The sender is dropped unused if the task ends before its first event.
        match in_turns(&mut first_event_rx).await? {
            Ok(first_event_at) => {
                let micros = (first_event_at - asked_at) * 1e6;
                self.run.figures(|f| f.spawn_to_first_event_us.push(micros));
                Ok(id)
            }
            Err(_ended_without_an_event) => {
                let result = self.join(id).await?;
                self.tasks[id.0].1 = Task::Ended(result);
                Ok(id)
            }
        }
    }

    /// Waits for the worker to end and returns its result, or how it died.
    pub async fn join(&mut self, id: WorkerId) -> Result<T, DemoError> {
        let (name, task) = &mut self.tasks[id.0];
        match std::mem::replace(task, Task::Joined) {
            Task::Running(mut handle) => {
                let joined = in_turns(&mut handle).await;
                self.ended[id.0] = true;
                let joined = joined?.map_err(|error| died(name, error));
                if self.narrated {
                    self.run
                        .main_says("joined task", Some(how_it_ended(name, &joined)));
                }
                joined
            }
            Task::Ended(result) => Ok(result),
            Task::Joined => Err(DemoError::WorkerDied {
                worker: name.clone(),
                how: "was already joined".into(),
            }),
        }
    }

    /// Joins every worker not yet joined, as each ends, and returns their results in start
    /// order; returns at once when one has died (panicked), without waiting for the others.
    pub async fn join_all(&mut self) -> Result<Vec<T>, DemoError> {
        let mut results: Vec<Option<T>> = self.tasks.iter().map(|_| None).collect();
        let mut waiting = self
            .tasks
            .iter()
            .filter(|(_, task)| !matches!(task, Task::Joined))
            .count();
        // Those that ended before their first event: their results are here already.
        let ended_early: Vec<usize> = (self.tasks.iter().enumerate())
            .filter(|(_, (_, task))| matches!(task, Task::Ended(_)))
            .map(|(index, _)| index)
            .collect();
        for index in ended_early {
            results[index] = Some(self.join(WorkerId(index)).await?);
            waiting -= 1;
        }
        while waiting > 0 {
            let index = {
                let mut next_end = std::pin::pin!(self.ended_rx.recv());
                in_turns(&mut next_end)
                    .await?
                    .expect("`self` holds a sender: the channel stays open")
            };
            // An end already seen by `join`, or of a task joined since.
            if self.ended[index] || matches!(self.tasks[index].1, Task::Joined) {
                continue;
            }
            results[index] = Some(self.join(WorkerId(index)).await?);
            waiting -= 1;
        }
        Ok(results.into_iter().flatten().collect())
    }
}

/// The main flow's line on a task it made: what made it, on which runtime, and what it is.
fn made(name: &str) -> String {
    let runtime = tokio::runtime::Handle::current();
    let flavour = match runtime.runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => "current-thread",
        _ => "multi-thread",
    };
    let threads = runtime.metrics().num_workers();
    let threads = match threads {
        1 => "1 worker thread".to_string(),
        n => format!("{n} worker threads"),
    };
    format!(
        "{name}: a task on this process's runtime ({flavour}, {threads}), by tokio::spawn; its \
         future is on the heap, no stack of its own, and it shares this memory"
    )
}

/// The main flow's line on a join: the task returned (its result came back through its
/// `JoinHandle`, in this memory), or panicked (caught at its `JoinHandle`), or was cancelled.
fn how_it_ended<T>(name: &str, joined: &Result<T, DemoError>) -> String {
    match joined {
        Ok(_) => format!(
            "{name}: it returned; its result came back through its JoinHandle, in this \
             memory, no copy made"
        ),
        Err(DemoError::WorkerDied { how, .. }) => match how.strip_prefix("panicked: ") {
            Some(message) => format!(
                "{name}: it panicked: {message}; caught at its JoinHandle, no other task is \
                 touched"
            ),
            None => format!("{name}: it {how}"),
        },
        Err(other) => format!("{name}: {other}"),
    }
}

/// How a task that did not return ended, as its `JoinHandle` reports it.
fn died(name: &str, error: JoinError) -> DemoError {
    let how = match error.try_into_panic() {
        Ok(payload) => format!("panicked: {}", panic_message(&*payload)),
        Err(error) if error.is_cancelled() => "was cancelled".to_string(),
        Err(error) => format!("failed: {error}"),
    };
    DemoError::WorkerDied {
        worker: name.to_string(),
        how,
    }
}

/// Sends its task's index when dropped: when the task's future ends, returns or panics, or
/// is dropped by a cancel.
struct EndSignal {
    to: mpsc::UnboundedSender<usize>,
    index: usize,
}

impl Drop for EndSignal {
    fn drop(&mut self) {
        // The parent may be gone from `join_all`; then nobody is listening.
        let _ = self.to.send(self.index);
    }
}

/// A worker task's end of the trace. It is `Sync`, so that a task may hold a reference to
/// it across an `.await` and still move between worker threads.
pub struct TaskSink {
    trace: Arc<Trace>,
    worker: String,
    first_event: Mutex<Option<oneshot::Sender<f64>>>,
    fault: Option<Fault>,
}

impl EventSink for TaskSink {
    fn worker(&self) -> &str {
        &self.worker
    }

    fn emit(&self, what: &str, detail: Option<String>) {
        let t_s = self.trace.emit(&self.worker, what, detail);
        let first_event = self
            .first_event
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        if let Some(first_event) = first_event {
            // The parent may have stopped waiting; then nobody needs the signal.
            let _ = first_event.send(t_s);
            if let Some(fault) = self.fault {
                inject(fault);
            }
        }
    }
}

/// Makes this worker die as `--inject` asks. A task cannot be killed alone by a signal (it
/// would take the whole process), so both faults end the task with a panic.
fn inject(fault: Fault) -> ! {
    match fault {
        Fault::KillWorker => {
            panic!("injected fault kill-worker (a task cannot be killed alone, so it panics)")
        }
        Fault::PanicWorker => panic!("injected fault panic-worker"),
    }
}

/// Installs (once) a panic hook that prints nothing for a panic inside a worker task: the
/// task's `JoinHandle` catches it and its join reports the message in one line. A panic of
/// the main flow (a bug) is printed as Rust prints it.
pub fn quiet_task_panics() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_main_flow = MAIN_FLOW.try_with(|_| ()).is_ok();
            if in_main_flow || tokio::task::try_id().is_none() {
                default(info);
            }
        }));
    });
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
            worker: WorkerKind::Task,
            isolated: false,
            start_method: None,
            executor: Some(executor()),
        };
        DemoRun::new(DemoId::Join, ("tasks", &kind), &settings, Echo::Silent)
    }

    #[test]
    fn results_come_back_in_start_order_whatever_order_the_workers_end_in() {
        let run = run();
        let results = on_runtime(&run, |run| async move {
            let mut workers = Workers::new(&run);
            // The first worker ends only once the second has ended.
            let (second_ended, first_may_end) = oneshot::channel::<()>();
            let first = workers
                .start("t1", move |out| async move {
                    out.emit("started", None);
                    let _ = first_may_end.await;
                    10
                })
                .await?;
            let second = workers
                .start("t2", move |out| async move {
                    out.emit("started", None);
                    drop(second_ended);
                    20
                })
                .await?;
            assert_eq!((first.index(), second.index()), (0, 1));
            workers.join_all().await
        })
        .unwrap();
        assert_eq!(results, [10, 20]);
        let report = run.into_report(Ok((serde_json::Value::Null, Ok(()))), 0.0);
        assert_eq!(report.figures.workers_created, 2);
        assert_eq!(report.figures.spawn_to_first_event_us.len(), 2);
    }

    #[test]
    fn a_worker_that_panics_is_reported_with_its_message_and_the_others_finish() {
        let run = run();
        let errors = on_runtime(&run, |run| async move {
            let mut workers = Workers::new(&run);
            let formatted = workers
                .start("t1", |out| async move {
                    out.emit("started", None);
                    tokio::task::yield_now().await;
                    panic!("no {}", "luck")
                })
                .await?;
            let survivor = workers
                .start("t2", |out| async move {
                    out.emit("started", None);
                    tokio::task::yield_now().await;
                    7_u32
                })
                .await?;
            let mut error = async |id| workers.join(id).await.unwrap_err().to_string();
            let first = error(formatted).await;
            let again = error(formatted).await;
            let survived = workers.join(survivor).await?;
            Ok((first, again, survived))
        })
        .unwrap();
        assert_eq!(errors.0, "t1 panicked: no luck");
        assert_eq!(errors.1, "t1 was already joined");
        assert_eq!(errors.2, 7);
    }
}
