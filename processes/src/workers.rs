//! Workers as child processes, with the same interface as `threads/src/workers.rs`.
//!
//! A child shares nothing with its parent: each child gets its own ipc-channels, over which
//! it sends its events and finally its result. The parent multiplexes every child's channel
//! in one `IpcReceiverSet` and watches the children with `waitpid(WNOHANG)`, so a child that
//! dies is noticed (exit code or signal) instead of waited for forever. Every child is
//! reaped: when it ends, or, on an error or Ctrl-C, killed and reaped when `Workers` is
//! dropped.
//!
//! A child starts in one of three ways (`--start`), as Python's multiprocessing does:
//! - `fork`: the child is a copy of the parent. It closes every descriptor it inherited but
//!   its own (a child holds no end of its siblings' channels, nor the parent's), and receives
//!   its [`Job`] over one channel it inherits, with the job's channel ends and shared memory.
//!   Only a single-threaded parent may fork: a child of a multi-threaded one inherits locks
//!   held by threads that do not exist in it.
//! - `spawn`: `fork` then `exec` of this program, which connects to a one-shot ipc-channel
//!   server of the parent and receives its job as data (see `spawned.rs`). The new program
//!   inherits no memory, so the job carries everything it needs: values, channel ends,
//!   and the descriptors of shared memory files.
//! - `forkserver`: a server forked when the program started forks the child on request; the
//!   job waits in a channel whose receiving end the server passes on (see `forkserver.rs`).
//!   The child is the server's: the server reaps it and reports how it ended.
//!
//! The parent wakes once for a child's end, as for a bare `waitpid`: a child sends a small
//! result on a channel of its own that the parent does not watch, and the parent reaps the
//! child when its events channel closes, which the kernel does just before the child becomes
//! a zombie, then takes the result.
//!
//! The parent narrates the mechanism, one line each (`contract::trace::MECHANISM`): each
//! child's pid and start method as it is made; how it ended (exit code or signal) as it is
//! reaped, with what carried its result (an IPC message of so many bytes); and, when a demo
//! stops at a dead worker, which siblings it killed and reaped. A child's panic is not printed
//! by Rust's default hook: the child's hook sends its message and place to the parent, which
//! reports them in one line.
//!
//! A child can also ask its parent for something and wait for the answer ([`AskingJob`]):
//! its requests travel on the same channel as its events, the parent hands each to its
//! [`Service`] while it pumps, and replies on a second channel made for that child. That is
//! how `queue` keeps its queues in the parent, as Python's managers do.

use crate::spawned::{Registered, job_name};
use contract::domain::{Fault, StartMethod};
use contract::interrupt;
use contract::trace::Echo;
use contract::{DemoError, DemoRun, Event, EventSink, Trace};
use ipc_channel::TrySelectError;
use ipc_channel::ipc::IpcOneShotServer;
use ipc_channel::ipc::{
    self, IpcMessage, IpcReceiver, IpcReceiverSet, IpcSelectionResult, IpcSender, OpaqueIpcReceiver,
};
use nix::sys::signal::{self, SigHandler, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Exit codes of a child, for the parent's report.
const EXIT_OK: i32 = 0;
/// Also the code of a worker that panicked holding a [`ProcessMutex`](crate::sync::ProcessMutex).
pub const EXIT_PANICKED: i32 = 101;
const EXIT_PARENT_GONE: i32 = 102;

/// A result of at most this many bytes is sent on a channel of its own that the parent does
/// not watch, and read once the child has ended: the parent then wakes once, for the end,
/// instead of once for the result and again for the exit. It fits in one message on an empty
/// socket, so the send never waits for the parent. A larger one goes on the events channel
/// (a send that fills the socket must wake the parent, or both would wait for ever).
const RESULT_ASIDE_MAX: usize = 32 * 1024;

/// Names one started worker; give it back to [`Workers::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(usize);

impl WorkerId {
    /// The worker's place in start order: its result's index in `join_all`'s results.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A worker process's job is data: see [`contract::Job`]. A spawned child finds the job's
/// code by the job's type name; each demo file lists its job types in one `jobs!` line,
/// which is what lets [`Workers::start`] take them.
pub use contract::Job;

/// A job whose worker asks its parent's [`Service`] for things while it works.
pub trait AskingJob: Serialize + DeserializeOwned + Send + 'static {
    type Service: Service;
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// The worker's work; `parent.ask` sends a request and waits for the reply.
    fn run(self, out: &dyn EventSink, parent: &Parent<'_, Self::Service>) -> Self::Output;

    /// As [`Job::inherited_descriptors`].
    fn inherited_descriptors(&self) -> Vec<RawFd> {
        Vec::new()
    }
}

/// What the parent does with the requests its children send while it pumps their channels.
pub trait Service {
    type Request: Serialize + DeserializeOwned + Send + 'static;
    type Reply: Serialize + DeserializeOwned + Send + 'static;

    /// Handles one request from worker `from`; pushes the replies due now (to any worker).
    fn handle(
        &mut self,
        from: WorkerId,
        request: Self::Request,
        replies: &mut Vec<(WorkerId, Self::Reply)>,
    );

    /// Called at every turn of the pump (at least once per tick): pushes the replies whose
    /// time has come, e.g. a get that waited on an empty queue for too long.
    fn expire(&mut self, _now: Instant, _replies: &mut Vec<(WorkerId, Self::Reply)>) {}
}

/// The service of workers that ask their parent nothing.
pub struct NoService;

impl Service for NoService {
    type Request = ();
    type Reply = ();

    fn handle(&mut self, _: WorkerId, _: (), _: &mut Vec<(WorkerId, ())>) {}
}

/// What a child sends its parent: events while it works, requests, then its result; or,
/// from its panic hook, where it panicked and what it said.
#[derive(Serialize, Deserialize)]
enum ToParent<T, Q> {
    Event(Event),
    Request(Q),
    Result(T),
    Panicked(String),
}

/// The parent's view of one child.
struct Child<T, R> {
    name: String,
    pid: Pid,
    asked_at: f64,
    first_event_seen: bool,
    result: Option<T>,
    channel_open: bool,
    end: Option<WaitStatus>,
    /// Where the parent's replies go (children started with `start_with`).
    replies: Option<IpcSender<R>>,
    /// Where a small result comes, beside the events channel: see [`RESULT_ASIDE_MAX`].
    /// Closed once the child is reaped, so that a long series of workers holds no
    /// descriptor per worker that has ended.
    result_inbox: Option<IpcReceiver<T>>,
    /// Its result (or death) has been handed out by `join` or `join_all`.
    joined: bool,
    /// The bytes of its result's message, once received.
    result_bytes: Option<usize>,
    /// Where it panicked and what it said, from its panic hook.
    panic: Option<String>,
    /// The parent has said how it ended (once it was reaped and its channel drained).
    end_told: bool,
}

impl<T, R> Child<T, R> {
    /// Its channel is closed and it has been reaped: nothing more will come from it.
    fn finished(&self) -> bool {
        !self.channel_open && self.end.is_some()
    }

    /// It ended without delivering a result: killed, panicked, or exited with an error.
    fn died(&self) -> bool {
        self.finished()
            && !(matches!(self.end, Some(WaitStatus::Exited(_, EXIT_OK))) && self.result.is_some())
    }

    fn death(&self, how: String) -> DemoError {
        DemoError::WorkerDied {
            worker: self.name.clone(),
            how,
        }
    }
}

/// The child processes of one demo, each returning a `T` over its channel, and the
/// service the parent runs for their requests.
pub struct Workers<'run, T, S: Service = NoService> {
    run: &'run DemoRun,
    channels: Option<IpcReceiverSet>,
    children: Vec<Child<T, S::Reply>>,
    child_of_channel: HashMap<u64, usize>,
    service: S,
    start_method: StartMethod,
    /// This process was found single-threaded when the first child was forked (it starts
    /// no thread of its own while it forks).
    single_threaded: bool,
    /// The parent narrates how each worker was made and how it ended (not in `spawn`'s
    /// timing loop, which starts thousands).
    narrated: bool,
}

impl<'run, T: Serialize + DeserializeOwned + Send + 'static> Workers<'run, T> {
    pub fn new(run: &'run DemoRun) -> Self {
        Workers::serving(run, NoService)
    }

    /// Starts a child named `name` that runs `job`, and returns once it has sent its first
    /// event, or has ended without one (Python's `start()` likewise returns once the
    /// worker runs).
    pub fn start<J>(&mut self, name: &str, job: J) -> Result<WorkerId, DemoError>
    where
        J: Job<Output = T> + Registered,
    {
        let inherited = job.inherited_descriptors();
        self.launch(name, job, inherited, None, run_job::<J>)
    }
}

impl<'run, T: Serialize + DeserializeOwned + Send + 'static, S: Service> Workers<'run, T, S> {
    /// Workers whose requests the parent answers with `service`, while it pumps.
    pub fn serving(run: &'run DemoRun, service: S) -> Self {
        Workers {
            run,
            channels: None,
            children: Vec::new(),
            child_of_channel: HashMap::new(),
            service,
            start_method: run.start_method(),
            single_threaded: false,
            narrated: true,
        }
    }

    /// The same workers, without the parent's lines on how each was made and ended: for a
    /// timing loop that starts thousands (`spawn`).
    pub fn unnarrated(mut self) -> Self {
        self.narrated = false;
        self
    }

    /// The same workers, started by `method` rather than by `--start` (for `spawn`'s
    /// measurement of both).
    pub fn started_by(mut self, method: StartMethod) -> Self {
        self.start_method = method;
        self
    }

    /// Like [`Workers::start`], for a child that asks this parent's service while it works.
    pub fn start_with<J>(&mut self, name: &str, job: J) -> Result<WorkerId, DemoError>
    where
        J: AskingJob<Service = S, Output = T> + Registered,
    {
        // Made before the child starts: the parent keeps the sending end.
        let replies = ipc::channel::<S::Reply>()
            .map_err(|e| DemoError::system("creating a reply channel", e))?;
        let inherited = job.inherited_descriptors();
        self.launch(name, job, inherited, Some(replies), run_asking_job::<J>)
    }

    /// Starts a child named `name` that runs `job` with `run`'s start method, and returns
    /// once the child has sent its first event, or has ended without one (Python's
    /// `start()` likewise returns once the worker runs).
    fn launch<J: Serialize + DeserializeOwned + Send + 'static>(
        &mut self,
        name: &str,
        job: J,
        inherited: Vec<RawFd>,
        replies: Option<ReplyChannel<S::Reply>>,
        body: Body<J, T, S::Request, S::Reply>,
    ) -> Result<WorkerId, DemoError> {
        if self.channels.is_none() {
            let set = IpcReceiverSet::new()
                .map_err(|e| DemoError::system("creating a receiver set", e))?;
            self.channels = Some(set);
        }
        let id = WorkerId(self.children.len());
        let asked_at = self.run.trace().now_s();
        // The events channel: the parent keeps the receiving end, the child gets the other.
        let (sender, receiver) = ipc::channel::<ToParent<T, S::Request>>()
            .map_err(|e| DemoError::system("creating a channel", e))?;
        let (result_sender, result_inbox) =
            ipc::channel::<T>().map_err(|e| DemoError::system("creating a channel", e))?;
        let (reply_sender, reply_receiver) = replies.unzip();
        let to_child = ToChild {
            worker: name.to_string(),
            job,
            events: sender,
            result: result_sender,
            replies: reply_receiver,
            trace_origin_ns: self.run.trace().origin_ns(),
            fault: self.run.fault_for(id.0),
        };
        let (pid, handover) = match self.start_method {
            StartMethod::Fork => {
                if !self.single_threaded {
                    ensure_single_threaded()?;
                    self.single_threaded = true;
                }
                (fork_child(to_child, &inherited, body)?, None)
            }
            StartMethod::Spawn => {
                let handover = spawn_child::<J, T, S::Request, S::Reply>()?;
                (handover.pid, Some((handover, to_child)))
            }
            StartMethod::Forkserver => (forkserve_child(to_child, &inherited)?, None),
        };
        // Tracked before anything else can fail, so that `Drop` reaps it on every path.
        self.children.push(Child {
            name: name.to_string(),
            pid,
            asked_at,
            first_event_seen: false,
            result: None,
            channel_open: true,
            end: None,
            replies: reply_sender,
            result_inbox: Some(result_inbox),
            joined: false,
            result_bytes: None,
            panic: None,
            end_told: false,
        });
        if self.narrated {
            self.run.main_says(
                "made process",
                Some(format!(
                    "{name}: pid {pid}, by {}",
                    describe(self.start_method)
                )),
            );
        }
        let set = self.channels.as_mut().expect("created above");
        let channel = set
            .add(receiver)
            .map_err(|e| DemoError::system("watching a channel", e))?;
        self.child_of_channel.insert(channel, id.0);
        if let Some((handover, to_child)) = handover {
            self.hand_over(id, handover, to_child)?;
        }
        let start_method = self.start_method;
        self.run.figures(|f| {
            f.workers_created += 1;
            f.results_via =
                Some("one ipc-channel message per worker (serde, postcard-encoded)".into());
            // The first start of a demo names its method (`spawn` also measures the other).
            (f.notes.entry("start_method".into())).or_insert_with(|| describe(start_method).into());
        });

        self.pump_until(|w| w.children[id.0].first_event_seen || w.children[id.0].finished())?;
        let child = &self.children[id.0];
        let ended_well =
            matches!(child.end, Some(WaitStatus::Exited(_, EXIT_OK))) && child.result.is_some();
        if child.first_event_seen || ended_well {
            // A child that has ended keeps its result for `join`.
            Ok(id)
        } else {
            Err(self.take_result(id).err().unwrap_or_else(|| {
                self.children[id.0].death("ended before its first event".into())
            }))
        }
    }

    /// Waits for a spawned child to connect to the one-shot server, and sends it its job.
    /// A child that dies before it connects would leave `accept` waiting for ever, so the
    /// accept runs on a helper thread while this one watches the child and Ctrl-C.
    fn hand_over<J: Serialize + DeserializeOwned + Send + 'static>(
        &mut self,
        id: WorkerId,
        handover: Handover<J, T, S::Request, S::Reply>,
        to_child: ToChild<J, T, S::Request, S::Reply>,
    ) -> Result<(), DemoError> {
        let Handover {
            server_name,
            accepted,
            accepting,
            ..
        } = handover;
        let outcome = interrupt::wait_until(|turn| {
            match accepted.recv_timeout(turn) {
                Ok(Ok((_, first_message))) => return Some(Ok(first_message)),
                Ok(Err(e)) => return Some(Err(DemoError::system("accepting a spawned worker", e))),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Some(Err(DemoError::System("the accepting thread ended".into())));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            self.reap_ended();
            if self.children[id.0].end.is_some() {
                self.children[id.0].channel_open = false;
                return Some(Err(self.take_result(id).err().unwrap_or_else(|| {
                    self.children[id.0].death("ended before it took its job".into())
                })));
            }
            None
        })
        .unwrap_or(Err(DemoError::Interrupted));
        match outcome {
            // A child that dies now drops the message, and with it the events channel's
            // only sender: the pump sees the channel close and reaps it.
            Ok(job_inbox) => {
                let _ = accepting.join();
                let _ = job_inbox.send(to_child);
                Ok(())
            }
            Err(error) => {
                // Connecting ourselves ends the helper thread's `accept`.
                if let Ok(server) =
                    IpcSender::<JobInbox<J, T, S::Request, S::Reply>>::connect(server_name)
                    && let Ok((unused, _)) = ipc::channel()
                {
                    let _ = server.send(unused);
                }
                if accepted.recv_timeout(Duration::from_secs(1)).is_ok() {
                    let _ = accepting.join();
                }
                Err(error)
            }
        }
    }

    /// Waits for the worker to end, reaps it, and returns its result, or how it died.
    pub fn join(&mut self, id: WorkerId) -> Result<T, DemoError> {
        self.pump_until(|w| w.children[id.0].finished())?;
        self.take_result(id)
    }

    /// Joins every worker not yet joined, and returns their results in start order; returns
    /// as soon as one has died, without waiting for the others (which may be blocked on
    /// what it held: a lock, a queue, an event). `Drop` then kills and reaps them.
    pub fn join_all(&mut self) -> Result<Vec<T>, DemoError> {
        self.pump_until(|w| {
            w.first_death().is_some() || w.children.iter().all(|c| c.joined || c.finished())
        })?;
        if let Some(index) = self.first_death() {
            return Err(self
                .take_result(WorkerId(index))
                .err()
                .expect("a dead worker has no result"));
        }
        let waiting: Vec<usize> = (0..self.children.len())
            .filter(|&i| !self.children[i].joined)
            .collect();
        waiting
            .into_iter()
            .map(|i| self.take_result(WorkerId(i)))
            .collect()
    }

    /// The first worker, in start order, that died and was not joined yet.
    fn first_death(&self) -> Option<usize> {
        self.children.iter().position(|c| !c.joined && c.died())
    }

    fn take_result(&mut self, id: WorkerId) -> Result<T, DemoError> {
        let child = &mut self.children[id.0];
        child.joined = true;
        match (child.end, child.result.take()) {
            (Some(WaitStatus::Exited(_, EXIT_OK)), Some(result)) => Ok(result),
            (Some(WaitStatus::Exited(_, EXIT_OK)), None) => {
                Err(child.death("exited without sending its result (or was already joined)".into()))
            }
            // Where and how it panicked is in the parent's line on its reaping; the death
            // reads the same whatever the backend, as the contract's outcomes compare it.
            (Some(WaitStatus::Exited(_, EXIT_PANICKED)), _) => {
                Err(child.death(format!("exited with code {EXIT_PANICKED} (it panicked)")))
            }
            (Some(WaitStatus::Exited(_, code)), _) => {
                Err(child.death(format!("exited with code {code}")))
            }
            (Some(WaitStatus::Signaled(_, signal, _)), _) => {
                Err(child.death(format!("was killed by signal {}", signal.as_str())))
            }
            (end, _) => Err(child.death(format!("ended in an unexpected state: {end:?}"))),
        }
    }

    /// Receives messages from every child and reaps the ones that ended, until `done`.
    /// Returns early with `Interrupted` on Ctrl-C; `Drop` then kills and reaps the rest.
    fn pump_until(&mut self, done: impl Fn(&Self) -> bool) -> Result<(), DemoError> {
        // The flag is looked at before `done`, every turn: on Ctrl-C to the group the
        // children die of SIGINT too, and the run must end as interrupted, not as a worker
        // failure.
        interrupt::wait_until(|turn| {
            if done(self) {
                return Some(Ok(()));
            }
            self.pump_once(turn).err().map(Err)
        })?
    }

    /// One turn of the pump: waits at most `turn` for messages, delivers them, answers the
    /// requests whose time has come, and reaps the children that ended.
    fn pump_once(&mut self, turn: Duration) -> Result<(), DemoError> {
        let set = self.channels.as_mut().expect("a worker was started");
        match set.try_select_timeout(turn) {
            Ok(results) => {
                // The events of one wake-up are recorded (and narrated) in the order they
                // happened, not in the order of their channels: a worker's `task_done` sent
                // before another's `join` returned is read in the same wake-up, maybe after.
                let mut events = Vec::new();
                for result in results {
                    match result {
                        IpcSelectionResult::MessageReceived(channel, message) => {
                            self.deliver(channel, message, &mut events)?
                        }
                        IpcSelectionResult::ChannelClosed(channel) => {
                            // Its events first: a worker is narrated as reaped after them.
                            self.record_in_order(&mut events);
                            if let Some(index) = self.child_of_channel.remove(&channel) {
                                self.reap_closed(index);
                            }
                        }
                    }
                }
                self.record_in_order(&mut events);
            }
            Err(TrySelectError::Empty) => {}
            Err(TrySelectError::IoError(e)) => {
                return Err(DemoError::system("waiting for workers", e));
            }
        }
        let mut replies = Vec::new();
        self.service.expire(Instant::now(), &mut replies);
        self.send_replies(replies);
        self.reap_ended();
        Ok(())
    }

    /// Sends the service's replies, each on its worker's reply channel.
    fn send_replies(&mut self, replies: Vec<(WorkerId, S::Reply)>) {
        for (to, reply) in replies {
            let bytes = encoded_size(&reply);
            // A worker that has died cannot read it; its death is reported by the pump.
            let sent = self.children[to.0]
                .replies
                .as_ref()
                .is_some_and(|channel| channel.send(reply).is_ok());
            if sent {
                self.run.figures(|f| f.count_ipc_message(bytes));
            }
        }
    }

    /// Records the events read in one wake-up, earliest first.
    fn record_in_order(&self, events: &mut Vec<Event>) {
        events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        for event in events.drain(..) {
            self.run.trace().record(event);
        }
    }

    fn deliver(
        &mut self,
        channel: u64,
        message: IpcMessage,
        events: &mut Vec<Event>,
    ) -> Result<(), DemoError> {
        let index = self.child_of_channel[&channel];
        let message: ToParent<T, S::Request> = message
            .to()
            .map_err(|e| DemoError::system("decoding a worker's message", e))?;
        let bytes = encoded_size(&message);
        self.run.figures(|f| f.count_ipc_message(bytes));
        let child = &mut self.children[index];
        match message {
            ToParent::Event(event) => {
                if !child.first_event_seen {
                    child.first_event_seen = true;
                    let micros = (event.t_s - child.asked_at) * 1e6;
                    self.run.figures(|f| f.spawn_to_first_event_us.push(micros));
                }
                events.push(event);
            }
            ToParent::Request(request) => {
                let mut replies = Vec::new();
                self.service.handle(WorkerId(index), request, &mut replies);
                self.send_replies(replies);
            }
            // A large result, sent on the events channel; the child's exit closes the
            // channel next, and the pump reaps it then.
            ToParent::Result(result) => {
                child.result = Some(result);
                child.result_bytes = Some(bytes);
            }
            ToParent::Panicked(panic) => child.panic = Some(panic),
        }
        Ok(())
    }

    /// Reaps a child whose channel has closed. The channel's one sender lives in the child
    /// until its `_exit` (the parent dropped or sent its copy once the child started, so no
    /// sibling started later inherited it), and the kernel closes a dying process's
    /// descriptors just before it makes it a zombie: the wait is over at once, or within
    /// microseconds. So the parent wakes once for a child's end, as it does for a bare
    /// `waitpid`, and not first for its result (which waits aside, unwatched) and then again
    /// for its exit.
    fn reap_closed(&mut self, index: usize) {
        let child = &mut self.children[index];
        child.channel_open = false;
        if child.end.is_none() {
            child.end = Some(
                wait_for(self.start_method, child.pid, true)
                    .unwrap_or(WaitStatus::Exited(child.pid, EXIT_PARENT_GONE)),
            );
            self.collect_result(index);
        }
        self.narrate_end(index);
    }

    /// Reaps every child that has ended, without blocking.
    fn reap_ended(&mut self) {
        for index in 0..self.children.len() {
            let child = &mut self.children[index];
            if child.end.is_some() {
                continue;
            }
            match wait_for(self.start_method, child.pid, false) {
                Ok(WaitStatus::StillAlive) => continue,
                Ok(status) => child.end = Some(status),
                // ECHILD: not our child any more, so nothing is left to reap or to read.
                Err(_) => {
                    child.end = Some(WaitStatus::Exited(child.pid, EXIT_PARENT_GONE));
                    child.channel_open = false;
                }
            }
            self.collect_result(index);
            self.narrate_end(index);
        }
    }

    /// The parent's line on a child it has reaped, once its channel is drained too (what it
    /// sent before it died, such as where it panicked, may still be in the channel when it
    /// is reaped): how it ended, and what carried its result. Said once.
    fn narrate_end(&mut self, index: usize) {
        let child = &mut self.children[index];
        if !self.narrated || child.channel_open || child.end.is_none() || child.end_told {
            return;
        }
        child.end_told = true;
        let child = &self.children[index];
        let how = match child.end {
            Some(WaitStatus::Exited(_, EXIT_PANICKED)) => format!(
                "it {}, and exited with code {EXIT_PANICKED}",
                child.panic.as_deref().unwrap_or("panicked")
            ),
            Some(WaitStatus::Exited(_, code)) => format!("it exited with code {code}"),
            Some(WaitStatus::Signaled(_, signal, _)) => {
                format!("it was killed by signal {}", signal.as_str())
            }
            other => format!("it ended as {other:?}"),
        };
        let result = match child.result_bytes {
            Some(bytes) => format!("; its result came in an IPC message, {bytes} B of payload"),
            None => "; no result came".to_string(),
        };
        let by = match self.start_method {
            StartMethod::Forkserver => " (the forkserver reaped it and told this process)",
            _ => "",
        };
        self.run.main_says(
            "reaped process",
            Some(format!(
                "{} (pid {}): {how}{by}{result}",
                child.name, child.pid
            )),
        );
    }

    /// Takes a reaped child's result from beside its channel, if it sent it there: it is in
    /// the socket before the child's exit, so the receive does not wait.
    fn collect_result(&mut self, index: usize) {
        let child = &mut self.children[index];
        let inbox = child.result_inbox.take();
        if child.result.is_none()
            && let Some(Ok(result)) = inbox.map(|inbox| inbox.try_recv())
        {
            let bytes = encoded_size(&result);
            child.result = Some(result);
            child.result_bytes = Some(bytes);
            self.run.figures(|f| f.count_ipc_message(bytes));
        }
    }
}

impl<T, S: Service> Drop for Workers<'_, T, S> {
    /// On every path (an error, a panic, Ctrl-C), no child outlives its demo unreaped.
    fn drop(&mut self) {
        let method = self.start_method;
        let mut killed = Vec::new();
        for child in self.children.iter_mut().filter(|c| c.end.is_none()) {
            match method {
                StartMethod::Forkserver => crate::forkserver::kill(child.pid),
                _ => {
                    let _ = signal::kill(child.pid, Signal::SIGKILL);
                }
            }
            child.end = wait_for(method, child.pid, true).ok();
            killed.push(format!("{} (pid {})", child.name, child.pid));
        }
        // Said when a demo stops at a dead worker; after Ctrl-C the run prints nothing more.
        if self.narrated && !killed.is_empty() && !interrupt::requested() {
            self.run.main_says(
                "killed process",
                Some(format!(
                    "{}: SIGKILL, then reaped: the demo stopped at a dead worker, and these \
                     could have waited for ever on what it held",
                    killed.join(", ")
                )),
            );
        }
    }
}

/// A child's end of the trace: each event is one message to the parent.
struct ChildSink<T, Q> {
    sender: IpcSender<ToParent<T, Q>>,
    trace: Arc<Trace>,
    worker: String,
    first_event_sent: Cell<bool>,
    fault: Option<Fault>,
}

impl<T: Serialize + DeserializeOwned, Q: Serialize + DeserializeOwned> EventSink
    for ChildSink<T, Q>
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

/// A child's way to its parent's [`Service`]: a request on the child's channel, the reply
/// on the reply channel made for it when it started.
pub struct Parent<'a, S: Service> {
    requests: &'a dyn SendRequest<S::Request>,
    replies: IpcReceiver<S::Reply>,
}

impl<S: Service> Parent<'_, S> {
    /// Sends `request` and blocks until the parent replies. A parent that is gone will
    /// never reply: the child then exits (it would also get SIGKILL from PR_SET_PDEATHSIG).
    pub fn ask(&self, request: S::Request) -> S::Reply {
        self.requests.send_request(request);
        match self.replies.recv() {
            Ok(reply) => reply,
            Err(_) => exit_child(EXIT_PARENT_GONE),
        }
    }
}

/// Sends a request on a child's channel to its parent.
trait SendRequest<Q> {
    fn send_request(&self, request: Q);
}

impl<T: Serialize + DeserializeOwned, Q: Serialize + DeserializeOwned> SendRequest<Q>
    for ChildSink<T, Q>
{
    fn send_request(&self, request: Q) {
        if self.sender.send(ToParent::Request(request)).is_err() {
            exit_child(EXIT_PARENT_GONE);
        }
    }
}

/// Everything a child needs to do its job: what it receives as its first message, over the
/// job inbox it inherits (fork) or the one-shot server (spawn).
#[derive(Serialize, Deserialize)]
#[serde(bound(
    serialize = "J: Serialize, T: Serialize, Q: Serialize, R: Serialize",
    deserialize = "J: DeserializeOwned, T: DeserializeOwned, Q: DeserializeOwned, R: DeserializeOwned"
))]
struct ToChild<J, T, Q, R> {
    worker: String,
    job: J,
    /// Where its events and requests go, and a result too large for `result`.
    events: IpcSender<ToParent<T, Q>>,
    /// Where a result of at most [`RESULT_ASIDE_MAX`] bytes goes.
    result: IpcSender<T>,
    /// Where the parent's replies come from (a child started with `start_with`).
    replies: Option<IpcReceiver<R>>,
    /// The parent's trace clock, so that the child's events fall on the same time line.
    trace_origin_ns: u64,
    fault: Option<Fault>,
}

/// The channel on which a spawned child receives its [`ToChild`]: the child makes it and
/// sends its sending end to the parent's one-shot server.
type JobInbox<J, T, Q, R> = IpcSender<ToChild<J, T, Q, R>>;

/// The channel of a child's replies: the parent's sending end, the child's receiving end.
type ReplyChannel<R> = (IpcSender<R>, IpcReceiver<R>);

/// How a child turns its job into its result: `Job::run` or `AskingJob::run`.
type Body<J, T, Q, R> = fn(J, &ChildSink<T, Q>, Option<IpcReceiver<R>>) -> T;

fn run_job<J: Job>(
    job: J,
    out: &ChildSink<J::Output, ()>,
    _: Option<IpcReceiver<()>>,
) -> J::Output {
    job.run(out)
}

fn run_asking_job<J: AskingJob>(
    job: J,
    out: &ChildSink<J::Output, <J::Service as Service>::Request>,
    replies: Option<IpcReceiver<<J::Service as Service>::Reply>>,
) -> J::Output {
    let parent = Parent {
        requests: out,
        replies: replies.expect("a job started with start_with has a reply channel"),
    };
    job.run(out, &parent)
}

/// A spawned child on its way to its job: the one-shot server's name and, from the helper
/// thread that accepts the child's connection, the child's job inbox.
struct Handover<J, T, Q, R> {
    pid: Pid,
    server_name: String,
    accepted: mpsc::Receiver<AcceptResult<J, T, Q, R>>,
    /// Joined once it has accepted, so that no thread outlives the start (a later fork
    /// needs a single-threaded parent).
    accepting: std::thread::JoinHandle<()>,
}

type AcceptResult<J, T, Q, R> =
    Result<(IpcReceiver<JobInbox<J, T, Q, R>>, JobInbox<J, T, Q, R>), ipc_channel::IpcError>;

/// `--start fork`: the child is a copy of this process. It keeps only what it owns: first it
/// closes every descriptor it inherited but its standard streams, the descriptors its job
/// names (`inherited`) and the one channel in which its job waits, sent as to a spawned
/// child; the job's channel ends and shared memory come with the message. So a
/// child holds no end of its siblings' channels, nor the parent's: when the parent or a
/// sibling closes an end, the channel ends.
fn fork_child<J, T, Q, R>(
    to_child: ToChild<J, T, Q, R>,
    inherited: &[RawFd],
    body: Body<J, T, Q, R>,
) -> Result<Pid, DemoError>
where
    J: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
{
    let parent = getpid();
    // The job inbox takes the two lowest free descriptors, found just before: this process
    // is single-threaded, so nothing takes them in between. The child keeps both numbers,
    // whichever end each holds.
    let inbox_descriptors = two_lowest_free_descriptors()?;
    let (inbox, inbox_receiver) = ipc::channel::<ToChild<J, T, Q, R>>()
        .map_err(|e| DemoError::system("creating a job inbox", e))?;
    let mut keep = vec![0, 1, 2, inbox_descriptors.0, inbox_descriptors.1];
    keep.extend_from_slice(inherited);
    // Sent before the fork: the message waits in the inbox, which the child inherits, so the
    // child reads its job at once instead of waiting for the parent to send it, and the
    // parent's copies of the job's channel ends are closed before the fork copies them.
    let _ = inbox.send(to_child);
    // SAFETY: this process runs no second thread (checked by the caller), so the child is a
    // complete copy of a single-threaded process: no lock is held by a thread that does not
    // exist in it, and it may run ordinary Rust code until it calls `_exit`.
    match unsafe { fork() }.map_err(|e| DemoError::system("fork", e))? {
        ForkResult::Child => {
            // Ctrl-C to the group ends the child from here on.
            restore_default_signals();
            drop(inbox);
            // SAFETY: this is the forked child; what owns the descriptors it closes (the
            // parent's channels, mappings, sockets, pipes) is never used nor dropped here:
            // the child runs only its job, received next, and ends with `_exit`. The
            // inbox's descriptors are kept.
            unsafe { close_inherited_descriptors(&keep) };
            let Ok(to_child) = inbox_receiver.recv() else {
                exit_child(EXIT_PARENT_GONE)
            };
            drop(inbox_receiver);
            child_runs(parent, to_child, body)
        }
        // The parent keeps none of the child's ends. A child that dies before it reads its
        // job takes the message with it; the pump reports its end.
        ForkResult::Parent { child } => Ok(child),
    }
}

/// The two lowest descriptor numbers free now: the next two this process will open.
pub(crate) fn two_lowest_free_descriptors() -> Result<(RawFd, RawFd), DemoError> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| DemoError::system("socketpair", e))?;
    // Closed when dropped: free again, and still the two lowest.
    Ok((a.as_raw_fd(), b.as_raw_fd()))
}

/// Waits for the child `pid`'s end (with `block`, until it comes), by `waitpid`, or for a
/// worker of the forkserver, by the server's report (the server reaps its own children).
fn wait_for(method: StartMethod, pid: Pid, block: bool) -> nix::Result<WaitStatus> {
    match method {
        StartMethod::Forkserver => {
            Ok(crate::forkserver::end_of(pid, block).unwrap_or(WaitStatus::StillAlive))
        }
        _ if block => waitpid(pid, None),
        _ => waitpid(pid, Some(WaitPidFlag::WNOHANG)),
    }
}

/// `--start forkserver`: the job waits in a new inbox, whose receiving end goes to the
/// server with the job's name; the server forks the worker, which reads its job there.
fn forkserve_child<J, T, Q, R>(
    to_child: ToChild<J, T, Q, R>,
    inherited: &[RawFd],
) -> Result<Pid, DemoError>
where
    J: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
{
    let (inbox, inbox_receiver) = ipc::channel::<ToChild<J, T, Q, R>>()
        .map_err(|e| DemoError::system("creating a job inbox", e))?;
    // A worker that dies before it reads its job takes the message with it.
    let _ = inbox.send(to_child);
    crate::forkserver::fork_worker(job_name::<J>(), inbox_receiver.to_opaque(), inherited)
}

/// A worker of the forkserver: reads its job from its inbox and runs it. Its parent is the
/// server, which reaps it.
fn forkserved_child_runs<J, T, Q, R>(
    inbox: OpaqueIpcReceiver,
    server: Pid,
    body: Body<J, T, Q, R>,
) -> !
where
    J: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
{
    let inbox = inbox.to::<ToChild<J, T, Q, R>>();
    let received = inbox.recv();
    drop(inbox);
    match received {
        Ok(to_child) => child_runs(server, to_child, body),
        Err(_) => exit_child(EXIT_PARENT_GONE),
    }
}

pub fn forkserved_job<J: Job>(inbox: OpaqueIpcReceiver, server: Pid) -> ! {
    forkserved_child_runs(inbox, server, run_job::<J>)
}

pub fn forkserved_asking_job<J: AskingJob>(inbox: OpaqueIpcReceiver, server: Pid) -> ! {
    forkserved_child_runs(inbox, server, run_asking_job::<J>)
}

/// Takes ownership of a descriptor that a worker's job names (see
/// [`Job::inherited_descriptors`]): inherited by fork, or kept open across `exec`.
///
/// # Safety
/// `fd` must be a descriptor the parent made for this job and listed in its
/// `inherited_descriptors`, open in this worker, and taken only once: the returned `OwnedFd`
/// closes it.
pub unsafe fn take_inherited(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller's promise: the descriptor is open and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Closes every descriptor of this process but those in `keep`. A failure (no `close_range`:
/// Linux before 5.9) only leaves them open.
///
/// # Safety
/// Call it only in a forked child that will never use nor drop anything that owns a closed
/// descriptor (a copy of its parent's channels, files, mappings): a closed number is reused
/// by the next descriptor opened, which its old owner would then read, write or close.
unsafe fn close_inherited_descriptors(keep: &[RawFd]) {
    let mut keep: Vec<libc::c_uint> = keep
        .iter()
        .filter_map(|&fd| libc::c_uint::try_from(fd).ok())
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first = 0;
    for fd in keep.into_iter().chain([libc::c_uint::MAX]) {
        if fd > first {
            // SAFETY: closing takes no pointer; that nothing uses the closed descriptors
            // again is our caller's promise.
            unsafe { libc::close_range(first, fd - 1, 0) };
        }
        first = fd.saturating_add(1);
    }
}

/// `--start spawn`: forks and execs this program, which connects to a one-shot server and
/// waits there for its job. Returns the child and the way to hand it its job.
fn spawn_child<J, T, Q, R>() -> Result<Handover<J, T, Q, R>, DemoError>
where
    J: Serialize + DeserializeOwned + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
    Q: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    let (server, server_name) = IpcOneShotServer::<JobInbox<J, T, Q, R>>::new()
        .map_err(|e| DemoError::system("creating a one-shot server", e))?;
    let parent = getpid().to_string();
    let args = [job_name::<J>(), &server_name, &parent];
    let pid = start_this_program(&args)?;
    let (sender, accepted) = mpsc::channel();
    let accepting = std::thread::spawn(move || {
        let _ = sender.send(server.accept());
    });
    Ok(Handover {
        pid,
        server_name,
        accepted,
        accepting,
    })
}

/// Forks and execs this program as a worker with `args` after the spawned-worker flag.
/// Returns the child's pid; the caller reaps it.
pub fn start_this_program(args: &[&str]) -> Result<Pid, DemoError> {
    let program = std::env::current_exe()
        .map_err(|e| DemoError::system("finding this program to spawn it", e))?;
    let mut command = Command::new(program);
    command.arg(crate::spawned::FLAG).args(args);
    let before_exec = || {
        // Die with the parent; kept across `exec` (this program is not set-user-ID).
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
        Ok(())
    };
    // SAFETY: `before_exec` runs in the forked child before `exec`, where only
    // async-signal-safe calls are allowed (the parent may run other threads): it makes no
    // allocation and calls only `prctl`.
    unsafe { command.pre_exec(before_exec) };
    let child = command
        .spawn()
        .map_err(|e| DemoError::system("spawning a worker", e))?;
    // `Child` neither kills nor reaps on drop: the caller reaps the pid itself.
    Ok(Pid::from_raw(child.id() as i32))
}

/// A spawned child's life: connect to the parent's one-shot server, receive the job, run it.
fn spawned_child_runs<J, T, Q, R>(server_name: String, parent: Pid, body: Body<J, T, Q, R>) -> !
where
    J: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
{
    let Ok((inbox, inbox_receiver)) = ipc::channel::<ToChild<J, T, Q, R>>() else {
        exit_child(EXIT_PARENT_GONE)
    };
    let sent = IpcSender::<JobInbox<J, T, Q, R>>::connect(server_name)
        .is_ok_and(|server| server.send(inbox).is_ok());
    let received = sent.then(|| inbox_receiver.recv());
    // Its job is in; the inbox is not the child's to keep.
    drop(inbox_receiver);
    match received {
        Some(Ok(to_child)) => child_runs(parent, to_child, body),
        _ => exit_child(EXIT_PARENT_GONE),
    }
}

pub fn spawned_job<J: Job>(server_name: String, parent: Pid) -> ! {
    spawned_child_runs(server_name, parent, run_job::<J>)
}

pub fn spawned_asking_job<J: AskingJob>(server_name: String, parent: Pid) -> ! {
    spawned_child_runs(server_name, parent, run_asking_job::<J>)
}

/// The child's whole life, however it started: run the job, send the result, `_exit`.
fn child_runs<J, T, Q, R>(parent: Pid, to_child: ToChild<J, T, Q, R>, body: Body<J, T, Q, R>) -> !
where
    T: Serialize + DeserializeOwned,
    Q: Serialize + DeserializeOwned,
{
    // Die with the parent: if it is killed outright, no orphan is left working.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
        exit_child(EXIT_PARENT_GONE);
    }
    restore_default_signals();
    let ToChild {
        worker,
        job,
        events,
        result: result_channel,
        replies,
        trace_origin_ns,
        fault,
    } = to_child;
    // A panic is reported by the parent, in one line: the hook sends it there instead of
    // printing Rust's message (and a backtrace) on the terminal the parent shares.
    // The hook must be `Send`, which a sender typed by the job's result need not be: it gets
    // one typed for no result and no request. `Panicked` is encoded alike whatever those
    // types are (the variant's number, then the text), so the parent reads it as its own.
    let panics_to = Mutex::new(events.clone().to_opaque().to::<ToParent<(), ()>>());
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic".to_string());
        let place = info
            .location()
            .map_or_else(String::new, |place| format!(" at {place}"));
        let sender = panics_to.lock().unwrap_or_else(|p| p.into_inner());
        let _ = sender.send(ToParent::Panicked(format!("panicked{place}: {message}")));
    }));
    let sink = ChildSink {
        sender: events,
        // The parent's clock: a forked child could use its copy, a spawned one is sent it.
        trace: Arc::new(Trace::continuing(trace_origin_ns, Echo::Silent)),
        worker,
        first_event_sent: Cell::new(false),
        fault,
    };
    let code = match catch_unwind(AssertUnwindSafe(|| body(job, &sink, replies))) {
        Ok(result) => {
            let sent = if encoded_size(&result) <= RESULT_ASIDE_MAX {
                result_channel.send(result)
            } else {
                sink.sender.send(ToParent::Result(result))
            };
            match sent {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_PARENT_GONE,
            }
        }
        // The panic's message has gone to the parent through the panic hook.
        Err(_) => EXIT_PANICKED,
    };
    exit_child(code)
}

/// The payload bytes of a message as ipc-channel encodes it (postcard), counted without
/// encoding it again: ipc-channel does not expose a received message's length, and postcard's
/// size count walks the value without writing it anywhere. The messages counted hold plain
/// data only (events, requests, replies, results), never a channel end.
fn encoded_size<M: Serialize>(message: &M) -> usize {
    postcard::serialize_with_flavor(message, postcard::ser_flavors::Size::default()).unwrap_or(0)
}

/// How the workers were started, for the report.
fn describe(method: StartMethod) -> &'static str {
    match method {
        StartMethod::Fork => "fork (a copy of the parent)",
        StartMethod::Spawn => "spawn (fork + exec; the job comes over a one-shot server)",
        StartMethod::Forkserver => {
            "forkserver (forked by a server started with the program; the job comes as data)"
        }
    }
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
pub fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` takes no pointers and never returns; skipping destructors is the
    // point, and the kernel releases everything the child holds.
    unsafe { libc::_exit(code) }
}

/// Refuses to fork from a process that runs more than one thread: the child would inherit
/// locks held by threads that do not exist in it.
pub fn ensure_single_threaded() -> Result<(), DemoError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use contract::demos::DemoId;
    use contract::demos::spawn::Nothing;
    use contract::domain::{BackendKind, WorkerKind};
    use contract::run::RunSettings;

    #[test]
    fn a_parent_that_runs_other_threads_refuses_to_fork() {
        // Beside the test harness's own thread, one more that waits to be told to end.
        let (stop, told) = mpsc::channel::<()>();
        let other = std::thread::spawn(move || told.recv());
        let settings = RunSettings {
            scale: 1.0,
            inject: None,
            start: StartMethod::Fork,
            options: Default::default(),
            download: Default::default(),
            crash_copy: false,
        };
        let kind = BackendKind {
            worker: WorkerKind::Process,
            isolated: true,
            start_method: Some("fork".into()),
            executor: None,
        };
        let run = DemoRun::new(DemoId::Spawn, ("processes", &kind), &settings, Echo::Silent);
        let mut workers: Workers<'_, ()> = Workers::new(&run);
        let started = workers.start("t0", Nothing).map(|id| id.index());
        let also = ensure_single_threaded();
        stop.send(()).unwrap();
        let _ = other.join();
        let refused = started.unwrap_err().to_string();
        assert!(
            refused.starts_with("refusing to fork: the parent must be single-threaded"),
            "{refused}"
        );
        assert!(also.is_err());
    }

    #[test]
    fn a_worker_s_id_is_its_place_in_start_order() {
        assert_eq!(WorkerId(0).index(), 0);
        assert_eq!(WorkerId(3).index(), 3);
    }
}
