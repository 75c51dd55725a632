//! Workers as forked child processes, with the same interface as `threads/src/workers.rs`.
//!
//! After `fork()` a child shares nothing with its parent: each child gets its own
//! ipc-channel, created just before the fork, over which it sends its events and finally
//! its result. The parent multiplexes every child's channel in one `IpcReceiverSet` and
//! watches the children with `waitpid(WNOHANG)`, so a child that dies is noticed (exit
//! code or signal) instead of waited for forever. Every child is reaped: when it ends,
//! or, on an error or Ctrl-C, killed and reaped when `Workers` is dropped.
//!
//! A child may also ask its parent a question (`ChildSink::ask`), e.g. "the next URL?",
//! when the state it needs lives in the parent: a thread would read it in shared memory,
//! a process cannot. The question goes up the child's channel, the parent answers it
//! while it pumps (with the function given to [`Workers::answering`]) over a second
//! channel made for that child before the fork, and the child waits for the answer.

use crate::interrupt;
use ipc_channel::TrySelectError;
use ipc_channel::ipc::{
    self, IpcMessage, IpcReceiver, IpcReceiverSet, IpcSelectionResult, IpcSender,
};
use nix::sys::signal::{self, SigHandler, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shared::cli::Fault;
use shared::{DemoError, DemoRun, Event, EventSink, Trace};
use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

/// How long the parent waits for a message before it checks children and Ctrl-C again.
const TICK: Duration = Duration::from_millis(20);
/// The tick while a child has closed its channel but is not reaped yet (it is exiting).
const EXIT_TICK: Duration = Duration::from_millis(1);

/// Exit codes of a child, for the parent's report.
const EXIT_OK: i32 = 0;
const EXIT_PANICKED: i32 = 101;
const EXIT_PARENT_GONE: i32 = 102;

/// Names one started worker; give it back to [`Workers::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(usize);

/// What a child sends its parent: events and questions while it works, then its result.
#[derive(Serialize, Deserialize)]
enum ToParent<T, Q> {
    Event(Event),
    Question(Q),
    Result(T),
}

/// The question type of workers that never ask one: no value of it exists.
#[derive(Serialize, Deserialize)]
pub enum NoQuestion {}

/// The parent's view of one child.
struct Child<T, A> {
    name: String,
    pid: Pid,
    answers: IpcSender<A>,
    asked_at: f64,
    first_event_seen: bool,
    result: Option<T>,
    channel_open: bool,
    end: Option<WaitStatus>,
}

impl<T, A> Child<T, A> {
    /// Its channel is closed and it has been reaped: nothing more will come from it.
    fn finished(&self) -> bool {
        !self.channel_open && self.end.is_some()
    }

    fn died(&self, how: String) -> DemoError {
        DemoError::WorkerDied {
            worker: self.name.clone(),
            how,
        }
    }
}

/// The parent's answer to a child's question: (the child's name, the question) → answer.
type Answerer<'run, Q, A> = Box<dyn FnMut(&str, Q) -> A + 'run>;

/// The child processes of one demo, each returning a `T` over its channel, and asking
/// questions `Q` that the parent answers with an `A`.
pub struct Workers<'run, T, Q = NoQuestion, A = NoQuestion> {
    run: &'run DemoRun,
    channels: Option<IpcReceiverSet>,
    children: Vec<Child<T, A>>,
    child_of_channel: HashMap<u64, usize>,
    answer: Answerer<'run, Q, A>,
}

impl<'run, T: Serialize + DeserializeOwned> Workers<'run, T> {
    /// Workers that only emit events and return a result.
    pub fn new(run: &'run DemoRun) -> Self {
        Workers::answering(run, |_, question: NoQuestion| match question {})
    }
}

impl<'run, T, Q, A> Workers<'run, T, Q, A>
where
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    A: Serialize + DeserializeOwned,
{
    /// Workers whose questions the parent answers with `answer` while it waits for them
    /// (in `start`, `join` and `join_all`).
    pub fn answering(run: &'run DemoRun, answer: impl FnMut(&str, Q) -> A + 'run) -> Self {
        Workers {
            run,
            channels: None,
            children: Vec::new(),
            child_of_channel: HashMap::new(),
            answer: Box::new(answer),
        }
    }

    /// Forks a child named `name` that runs `body`, and returns once the child has sent
    /// its first event (Python's `start()` likewise returns once the worker runs).
    pub fn start<F>(&mut self, name: &str, body: F) -> Result<WorkerId, DemoError>
    where
        F: FnOnce(&ChildSink<T, Q, A>) -> T,
    {
        if self.channels.is_none() {
            ensure_single_threaded()?;
            let set = IpcReceiverSet::new()
                .map_err(|e| DemoError::system("creating a receiver set", e))?;
            self.channels = Some(set);
        }
        let id = WorkerId(self.children.len());
        let asked_at = self.run.trace().now_s();
        // The channels are made before the fork, so that both processes hold an end of each.
        let (sender, receiver) = ipc::channel::<ToParent<T, Q>>()
            .map_err(|e| DemoError::system("creating a channel", e))?;
        let (answers, answers_in_child) =
            ipc::channel::<A>().map_err(|e| DemoError::system("creating a channel", e))?;
        let parent = getpid();
        // SAFETY: this process never starts a second thread (checked above), so the child
        // is a complete copy of a single-threaded process: no lock is held by a thread that
        // does not exist in it, and it may run ordinary Rust code until it calls `_exit`.
        let forked = unsafe { fork() }.map_err(|e| DemoError::system("fork", e))?;
        let pid = match forked {
            ForkResult::Child => {
                let sink = ChildSink {
                    sender,
                    answers: answers_in_child,
                    trace: Arc::clone(self.run.trace()),
                    worker: name.to_string(),
                    first_event_sent: Cell::new(false),
                    fault: self.run.fault_for(id.0),
                };
                run_child(parent, sink, body)
            }
            ForkResult::Parent { child } => child,
        };
        // The parent keeps only the receiving end: when the child exits, its channel closes.
        drop(sender);
        drop(answers_in_child);
        let set = self.channels.as_mut().expect("created above");
        let channel = set
            .add(receiver)
            .map_err(|e| DemoError::system("watching a channel", e))?;
        self.child_of_channel.insert(channel, id.0);
        self.children.push(Child {
            name: name.to_string(),
            pid,
            answers,
            asked_at,
            first_event_seen: false,
            result: None,
            channel_open: true,
            end: None,
        });
        self.run.figures(|f| {
            f.workers_created += 1;
            f.results_via =
                Some("one ipc-channel message per worker (serde, postcard-encoded)".into());
        });

        self.pump_until(|w| w.children[id.0].first_event_seen || w.children[id.0].finished())?;
        if self.children[id.0].first_event_seen {
            Ok(id)
        } else {
            Err(self
                .take_result(id)
                .err()
                .unwrap_or_else(|| self.children[id.0].died("ended before its first event".into())))
        }
    }

    /// Waits for the worker to end, reaps it, and returns its result, or how it died.
    pub fn join(&mut self, id: WorkerId) -> Result<T, DemoError> {
        self.pump_until(|w| w.children[id.0].finished())?;
        self.take_result(id)
    }

    /// Joins every worker not yet joined, in start order; the first failure is returned
    /// after all have been joined.
    pub fn join_all(&mut self) -> Result<Vec<T>, DemoError> {
        let results: Vec<Result<T, DemoError>> = (0..self.children.len())
            .map(|i| self.join(WorkerId(i)))
            .collect();
        results.into_iter().collect()
    }

    fn take_result(&mut self, id: WorkerId) -> Result<T, DemoError> {
        let child = &mut self.children[id.0];
        match (child.end, child.result.take()) {
            (Some(WaitStatus::Exited(_, EXIT_OK)), Some(result)) => Ok(result),
            (Some(WaitStatus::Exited(_, EXIT_OK)), None) => {
                Err(child.died("exited without sending its result (or was already joined)".into()))
            }
            (Some(WaitStatus::Exited(_, EXIT_PANICKED)), _) => {
                Err(child.died(format!("exited with code {EXIT_PANICKED} (it panicked)")))
            }
            (Some(WaitStatus::Exited(_, code)), _) => {
                Err(child.died(format!("exited with code {code}")))
            }
            (Some(WaitStatus::Signaled(_, signal, _)), _) => {
                Err(child.died(format!("was killed by signal {}", signal.as_str())))
            }
            (end, _) => Err(child.died(format!("ended in an unexpected state: {end:?}"))),
        }
    }

    /// Receives messages from every child and reaps the ones that ended, until `done`.
    /// Returns early with `Interrupted` on Ctrl-C; `Drop` then kills and reaps the rest.
    fn pump_until(&mut self, done: impl Fn(&Self) -> bool) -> Result<(), DemoError> {
        loop {
            // Checked before `done`: on Ctrl-C to the group the children die of SIGINT too,
            // and the run must end as interrupted, not as a worker failure.
            if interrupt::requested() {
                return Err(DemoError::Interrupted);
            }
            if done(self) {
                return Ok(());
            }
            let exiting = self
                .children
                .iter()
                .any(|c| !c.channel_open && c.end.is_none());
            let tick = if exiting { EXIT_TICK } else { TICK };
            let set = self.channels.as_mut().expect("a worker was started");
            match set.try_select_timeout(tick) {
                Ok(results) => {
                    for result in results {
                        match result {
                            IpcSelectionResult::MessageReceived(channel, message) => {
                                self.deliver(channel, message)?
                            }
                            IpcSelectionResult::ChannelClosed(channel) => {
                                if let Some(index) = self.child_of_channel.remove(&channel) {
                                    self.children[index].channel_open = false;
                                }
                            }
                        }
                    }
                }
                Err(TrySelectError::Empty) => {}
                Err(TrySelectError::IoError(e)) => {
                    return Err(DemoError::system("waiting for workers", e));
                }
            }
            self.reap_ended();
        }
    }

    fn deliver(&mut self, channel: u64, message: IpcMessage) -> Result<(), DemoError> {
        let index = self.child_of_channel[&channel];
        let message: ToParent<T, Q> = message
            .to()
            .map_err(|e| DemoError::system("decoding a worker's message", e))?;
        // ipc-channel does not expose the received length; re-encoding gives the same bytes.
        let bytes = postcard::to_allocvec(&message).map_or(0, |encoded| encoded.len());
        self.run.figures(|f| f.count_ipc_message(bytes));
        let child = &mut self.children[index];
        match message {
            ToParent::Event(event) => {
                if !child.first_event_seen {
                    child.first_event_seen = true;
                    let micros = (event.t_s - child.asked_at) * 1e6;
                    self.run.figures(|f| f.spawn_to_first_event_us.push(micros));
                }
                self.run.trace().record(event);
            }
            ToParent::Question(question) => {
                let answer = (self.answer)(&child.name, question);
                // A child that died after asking cannot read the answer; `reap_ended` will
                // report how it ended.
                let _ = child.answers.send(answer);
            }
            ToParent::Result(result) => child.result = Some(result),
        }
        Ok(())
    }

    /// Reaps every child that has ended, without blocking.
    fn reap_ended(&mut self) {
        for child in self.children.iter_mut().filter(|c| c.end.is_none()) {
            match waitpid(child.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(status) => child.end = Some(status),
                // ECHILD: not our child any more, so nothing is left to reap or to read.
                Err(_) => {
                    child.end = Some(WaitStatus::Exited(child.pid, EXIT_PARENT_GONE));
                    child.channel_open = false;
                }
            }
        }
    }
}

impl<T, Q, A> Drop for Workers<'_, T, Q, A> {
    /// On every path (an error, a panic, Ctrl-C), no child outlives its demo unreaped.
    fn drop(&mut self) {
        for child in self.children.iter_mut().filter(|c| c.end.is_none()) {
            let _ = signal::kill(child.pid, Signal::SIGKILL);
            child.end = waitpid(child.pid, None).ok();
        }
    }
}

/// A child's line to its parent: each event is one message to the parent, and a question
/// is one message up and one answer down.
pub struct ChildSink<T, Q = NoQuestion, A = NoQuestion> {
    sender: IpcSender<ToParent<T, Q>>,
    answers: IpcReceiver<A>,
    trace: Arc<Trace>,
    worker: String,
    first_event_sent: Cell<bool>,
    fault: Option<Fault>,
}

impl<T, Q, A> ChildSink<T, Q, A>
where
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    A: Serialize + DeserializeOwned,
{
    /// Asks the parent `question` and waits for its answer (the parent answers while it
    /// waits for its workers). If the parent is gone, the child ends.
    pub fn ask(&self, question: Q) -> A {
        if self.sender.send(ToParent::Question(question)).is_err() {
            exit_child(EXIT_PARENT_GONE);
        }
        match self.answers.recv() {
            Ok(answer) => answer,
            Err(_) => exit_child(EXIT_PARENT_GONE),
        }
    }
}

impl<T, Q, A> EventSink for ChildSink<T, Q, A>
where
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    A: Serialize + DeserializeOwned,
{
    fn worker(&self) -> &str {
        &self.worker
    }

    fn emit(&self, what: &str, detail: Option<String>) {
        let event = Event {
            // The same monotonic clock as the parent's trace: the child inherited its start.
            t_s: self.trace.now_s(),
            worker: self.worker.clone(),
            what: what.to_string(),
            detail,
        };
        if self.sender.send(ToParent::Event(event)).is_err() {
            // The parent is gone; nobody will read anything this child does.
            exit_child(EXIT_PARENT_GONE);
        }
        if !self.first_event_sent.replace(true)
            && let Some(fault) = self.fault
        {
            inject(fault);
        }
    }
}

/// The child's whole life: run `body`, send the result, `_exit`. Never returns.
fn run_child<T, Q, A, F>(parent: Pid, sink: ChildSink<T, Q, A>, body: F) -> !
where
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    A: Serialize + DeserializeOwned,
    F: FnOnce(&ChildSink<T, Q, A>) -> T,
{
    // Die with the parent: if it is killed outright, no orphan is left working.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
        exit_child(EXIT_PARENT_GONE);
    }
    restore_default_signals();
    let code = match catch_unwind(AssertUnwindSafe(|| body(&sink))) {
        Ok(result) => match sink.sender.send(ToParent::Result(result)) {
            Ok(()) => EXIT_OK,
            Err(_) => EXIT_PARENT_GONE,
        },
        // The panic message has already gone to stderr through the panic hook.
        Err(_) => EXIT_PANICKED,
    };
    exit_child(code)
}

/// Makes this worker die as `--fault` asks.
fn inject(fault: Fault) {
    match fault {
        Fault::KillWorker => {
            let _ = signal::raise(Signal::SIGKILL);
        }
        Fault::PanicWorker => panic!("injected fault panic-worker"),
    }
}

/// The child inherited the parent's Ctrl-C handler, which only sets a flag that the child
/// never reads: put back the default action, so that SIGINT ends the child.
fn restore_default_signals() {
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: SIG_DFL runs no code of ours in signal context, so it cannot break any
        // invariant; this process is single-threaded, so no other thread races on it.
        let _ = unsafe { signal::signal(signal, SigHandler::SigDfl) };
    }
}

/// Ends the child at once with `code`: no destructors, no atexit handlers, no flushing of
/// stdio buffers copied from the parent (which would print the parent's output twice).
fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` takes no pointers and never returns; skipping destructors is the
    // point, and the kernel releases everything the child holds.
    unsafe { libc::_exit(code) }
}

/// Refuses to fork from a process that runs more than one thread: the child would inherit
/// locks held by threads that do not exist in it.
fn ensure_single_threaded() -> Result<(), DemoError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| DemoError::system("reading /proc/self/status", e))?;
    let threads = status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse::<u32>().ok());
    match threads {
        Some(1) => Ok(()),
        other => Err(DemoError::System(format!(
            "refusing to fork: the parent must be single-threaded, it runs {other:?} threads"
        ))),
    }
}
