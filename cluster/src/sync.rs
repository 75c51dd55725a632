//! What the shared-state demos share between ranks, as `processes/src/sync.rs` does between
//! processes: nothing is in shared memory here (ranks may be on different machines), so
//! shared state is owned by rank 0 and reached by request and reply in MPI messages.
//!
//! - [`QueueOwner`]: the queues live on rank 0, and workers reach them by request and reply,
//!   as Python's managers keep them in a server process.
//! - [`EventOwner`]: `event`'s flags live on rank 0 too. A worker's `wait` is a request that
//!   rank 0 parks until a set (or its timeout): the worker waits for the reply, sleeping
//!   between polls, and no rank spins. Rank 0 itself sets, clears and waits through
//!   [`EventsOnRankZero`], which serves the workers' requests while it waits.

use crate::workers::{Parent, Service, WorkerId, Workers};
use contract::DemoError;
use contract::event_flag::EventFlag;
use contract::queue_owner::{AsksTheOwner, QueueReply, QueueRequest};
use contract::trace::monotonic_ns;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The queues, kept by rank 0, which answers each worker's requests while it pumps their
/// messages; a worker waits for its reply meanwhile, polling between pauses.
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

/// A worker rank's view of rank 0's queues: each put and get is one request and one reply.
impl AsksTheOwner for Parent<'_, QueueOwner> {
    fn ask_owner(&self, request: QueueRequest) -> QueueReply {
        self.ask(request)
    }
}

/// The events rank 0 keeps: `event`'s one, and the two of its wake-up trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventName {
    /// The notebook's event, which `flag` sets and clears and `ops` waits for.
    Event,
    /// A trial's start: rank 0 sets it, the waiter wakes.
    Go,
    /// A trial's end: the waiter sets it, rank 0 wakes.
    Done,
}

/// What a worker asks of the events' owner.
#[derive(Debug, Serialize, Deserialize)]
pub enum EventRequest {
    Set(EventName),
    Clear(EventName),
    IsSet(EventName),
    /// Wait at most this long for the event to be set.
    Wait(EventName, Duration),
}

/// The owner's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum EventReply {
    Done,
    IsSet(bool),
    /// The end of a wait: when the set came, on rank 0's monotonic clock (ns), or `None` if
    /// the timeout passed first.
    Woke(Option<u64>),
}

/// `event`'s flags, kept by rank 0. A wait on a clear flag is parked (no reply yet) until a
/// set, which answers every wait parked on it at once, or its timeout; a clear that follows
/// the set does not take the answer back, as with Python's `Event.wait()`.
#[derive(Debug, Default)]
pub struct EventOwner {
    /// The flags that are set, each with when it was set (rank 0's monotonic clock, ns).
    set: BTreeMap<EventName, u64>,
    /// Sets so far, per event: a wait that began before a set returns true.
    sets: BTreeMap<EventName, u64>,
    /// Waits parked on a clear flag, oldest first, each with its deadline.
    waiting: Vec<(WorkerId, EventName, Instant)>,
}

impl EventOwner {
    /// Sets `event` and answers every wait parked on it.
    pub fn set(&mut self, event: EventName, replies: &mut Vec<(WorkerId, EventReply)>) {
        let now = monotonic_ns();
        self.set.insert(event, now);
        *self.sets.entry(event).or_default() += 1;
        self.waiting.retain(|&(worker, name, _)| {
            let woken = name == event;
            if woken {
                replies.push((worker, EventReply::Woke(Some(now))));
            }
            !woken
        });
    }

    pub fn clear(&mut self, event: EventName) {
        self.set.remove(&event);
    }

    pub fn is_set(&self, event: EventName) -> bool {
        self.set.contains_key(&event)
    }

    /// Sets of `event` so far.
    pub fn sets(&self, event: EventName) -> u64 {
        self.sets.get(&event).copied().unwrap_or(0)
    }
}

impl Service for EventOwner {
    type Request = EventRequest;
    type Reply = EventReply;

    fn handle(
        &mut self,
        from: WorkerId,
        request: EventRequest,
        replies: &mut Vec<(WorkerId, EventReply)>,
    ) {
        match request {
            EventRequest::Set(event) => {
                replies.push((from, EventReply::Done));
                self.set(event, replies);
            }
            EventRequest::Clear(event) => {
                self.clear(event);
                replies.push((from, EventReply::Done));
            }
            EventRequest::IsSet(event) => {
                replies.push((from, EventReply::IsSet(self.is_set(event))))
            }
            EventRequest::Wait(event, timeout) => match self.set.get(&event) {
                Some(&at) => replies.push((from, EventReply::Woke(Some(at)))),
                None => self.waiting.push((from, event, Instant::now() + timeout)),
            },
        }
    }

    fn expire(&mut self, now: Instant, replies: &mut Vec<(WorkerId, EventReply)>) {
        self.waiting.retain(|&(worker, _, deadline)| {
            let expired = deadline <= now;
            if expired {
                replies.push((worker, EventReply::Woke(None)));
            }
            !expired
        });
    }
}

/// One of rank 0's events as a worker rank reaches it: each call is a request and a reply.
pub struct EventOfRankZero<'p, 's> {
    owner: &'p Parent<'s, EventOwner>,
    name: EventName,
}

impl<'p, 's> EventOfRankZero<'p, 's> {
    pub fn new(owner: &'p Parent<'s, EventOwner>, name: EventName) -> Self {
        EventOfRankZero { owner, name }
    }

    /// Waits at most `timeout` for the event: when it was set (rank 0's clock, ns), or
    /// `None` if the timeout passed first.
    pub fn wait_for_set(&self, timeout: Duration) -> Result<Option<u64>, String> {
        match self.owner.ask(EventRequest::Wait(self.name, timeout)) {
            EventReply::Woke(set_at) => Ok(set_at),
            other => Err(format!("the events' owner answered a wait with {other:?}")),
        }
    }
}

impl EventFlag for EventOfRankZero<'_, '_> {
    fn set(&self) {
        let _ = self.owner.ask(EventRequest::Set(self.name));
    }

    fn clear(&self) {
        let _ = self.owner.ask(EventRequest::Clear(self.name));
    }

    fn is_set(&self) -> bool {
        matches!(
            self.owner.ask(EventRequest::IsSet(self.name)),
            EventReply::IsSet(true)
        )
    }

    fn wait(&self, timeout: Duration) -> bool {
        matches!(self.wait_for_set(timeout), Ok(Some(_)))
    }
}

/// Rank 0's own hands on the events it keeps: a set answers the workers' waits at once, and
/// a wait receives and serves the workers' messages until the set comes.
pub struct EventsOnRankZero<'w, 'run, T> {
    workers: RefCell<&'w mut Workers<'run, T, EventOwner>>,
    /// The first failure of a wait's pump (a worker's message that does not decode, Ctrl-C).
    failed: RefCell<Option<DemoError>>,
}

impl<'w, 'run, T: Serialize + serde::de::DeserializeOwned + Send + 'static>
    EventsOnRankZero<'w, 'run, T>
{
    pub fn new(workers: &'w mut Workers<'run, T, EventOwner>) -> Self {
        EventsOnRankZero {
            workers: RefCell::new(workers),
            failed: RefCell::new(None),
        }
    }

    /// Event `name`, as rank 0 sets it and waits for it.
    pub fn event(&self, name: EventName) -> EventOnRankZero<'_, 'w, 'run, T> {
        EventOnRankZero { events: self, name }
    }

    /// What went wrong in a wait, if anything did.
    pub fn failure(self) -> Option<DemoError> {
        self.failed.into_inner()
    }
}

/// One event of rank 0's, as rank 0 itself uses it.
pub struct EventOnRankZero<'e, 'w, 'run, T> {
    events: &'e EventsOnRankZero<'w, 'run, T>,
    name: EventName,
}

impl<T: Serialize + serde::de::DeserializeOwned + Send + 'static> EventFlag
    for EventOnRankZero<'_, '_, '_, T>
{
    fn set(&self) {
        let name = self.name;
        let mut workers = self.events.workers.borrow_mut();
        workers.serve_here(|owner, replies| owner.set(name, replies));
    }

    fn clear(&self) {
        let name = self.name;
        let mut workers = self.events.workers.borrow_mut();
        workers.serve_here(|owner, _| owner.clear(name));
    }

    fn is_set(&self) -> bool {
        self.events.workers.borrow().service().is_set(self.name)
    }

    fn wait(&self, timeout: Duration) -> bool {
        let mut workers = self.events.workers.borrow_mut();
        let sets_before = workers.service().sets(self.name);
        let deadline = Instant::now() + timeout;
        loop {
            let owner = workers.service();
            if owner.is_set(self.name) || owner.sets(self.name) > sets_before {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Err(error) = workers.pump_for(left) {
                self.events.failed.borrow_mut().get_or_insert(error);
                return false;
            }
        }
    }
}
