//! Workers as MPI ranks, with the same interface as `processes/src/workers.rs`.
//!
//! The ranks exist before any worker starts: `mpirun` started them with the job. To start a
//! worker, rank 0 (the main flow) claims a free rank and sends it the job as data in one
//! message (its type's name and its value, postcard-encoded); the rank finds the job's code
//! by the name, runs it, and sends each event and finally its result to rank 0 in messages.
//! Rank 0 receives every worker's messages in one loop, polling between pauses
//! ([`ranks::receive_within`]); a message of a job that is not this `Workers`' (a job of an
//! earlier demo, still running when it gave up) only frees its rank when it ends.
//!
//! A rank that panics catches the panic and reports it: its join sees it, as a thread's does.
//! A rank that aborts or is killed ends the whole job, rank 0 with it: that is MPI's default
//! fault model, and there is nothing left here to report it (`crash` runs such rounds in a
//! job of their own and watches it from outside).
//!
//! A worker can also ask rank 0 for something and wait for the answer ([`AskingJob`]): its
//! requests come with its events, and rank 0 hands each to its [`Service`] while it pumps.
//! That is how `queue` keeps its queue on rank 0, as the processes manager does.

use crate::ranks::{self, FromRank, JobMessage, RankSink, Registered, Report, ToRank};
use contract::{DemoError, DemoRun, Event, EventSink, Job, interrupt};
use mpi::topology::Rank;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// Names one started worker; give it back to [`Workers::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(usize);

impl WorkerId {
    /// The worker's place in start order: its result's index in `join_all`'s results.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A job whose worker asks rank 0's [`Service`] for things while it works.
pub trait AskingJob: Serialize + DeserializeOwned + Send + 'static {
    type Service: Service;
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// The worker's work; `parent.ask` sends a request and waits for the reply.
    fn run(self, out: &dyn EventSink, parent: &Parent<'_, Self::Service>) -> Self::Output;
}

/// What rank 0 does with the requests its workers send while it pumps.
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

    /// Called at every turn of the pump: pushes the replies whose time has come.
    fn expire(&mut self, _now: Instant, _replies: &mut Vec<(WorkerId, Self::Reply)>) {}
}

/// The service of workers that ask rank 0 nothing.
pub struct NoService;

impl Service for NoService {
    type Request = ();
    type Reply = ();

    fn handle(&mut self, _: WorkerId, _: (), _: &mut Vec<(WorkerId, ())>) {}
}

/// A worker rank's way to ask rank 0's service.
pub struct Parent<'sink, S> {
    sink: &'sink RankSink,
    service: PhantomData<S>,
}

impl<'sink, S: Service> Parent<'sink, S> {
    pub fn new(sink: &'sink RankSink) -> Self {
        Parent {
            sink,
            service: PhantomData,
        }
    }

    /// Sends `request` to rank 0 and waits for its reply.
    pub fn ask(&self, request: S::Request) -> S::Reply {
        self.sink.ask(&request)
    }
}

/// Rank 0's view of one worker.
struct Worker<T> {
    name: String,
    rank: Rank,
    job: u64,
    /// When rank 0 sent it its job, on rank 0's trace.
    asked_at: f64,
    /// When rank 0 last sent it something it waited for (its job, a reply), on rank 0's
    /// trace: every event it sends from now on happened after.
    events_after_s: f64,
    first_event_seen: bool,
    /// Its result, or how it died; set by its last message.
    end: Option<Result<T, String>>,
    /// Its result (or death) has been handed out by `join` or `join_all`.
    joined: bool,
}

impl<T> Worker<T> {
    fn death(&self, how: String) -> DemoError {
        DemoError::WorkerDied {
            worker: self.name.clone(),
            how,
        }
    }
}

/// The worker ranks of one demo, each returning a `T` in a message, and the service rank 0
/// runs for their requests.
pub struct Workers<'run, T, S: Service = NoService> {
    run: &'run DemoRun,
    workers: Vec<Worker<T>>,
    service: S,
}

impl<'run, T: Serialize + DeserializeOwned + Send + 'static> Workers<'run, T> {
    pub fn new(run: &'run DemoRun) -> Self {
        Workers::serving(run, NoService)
    }

    /// Sends `job` to a free rank as worker `name`, and returns once the worker has sent its
    /// first event, or has ended without one (Python's `start()` likewise returns once the
    /// worker runs).
    pub fn start<J>(&mut self, name: &str, job: J) -> Result<WorkerId, DemoError>
    where
        J: Job<Output = T> + Registered,
    {
        let id = self.send_job(name, ranks::job_name::<J>(), &job)?;
        self.wait_for_first_event(id)
    }

    /// Sends `job` to a free rank as worker `name`, and returns at once: for a worker whose
    /// first event comes only after a collective operation with rank 0 (`cpu`'s scatter).
    pub fn start_in_collective<J>(&mut self, name: &str, job: J) -> Result<WorkerId, DemoError>
    where
        J: Job<Output = T> + Registered,
    {
        self.send_job(name, ranks::job_name::<J>(), &job)
    }
}

impl<'run, T: Serialize + DeserializeOwned + Send + 'static, S: Service> Workers<'run, T, S> {
    /// Workers whose requests rank 0 answers with `service`, while it pumps.
    pub fn serving(run: &'run DemoRun, service: S) -> Self {
        Workers {
            run,
            workers: Vec::new(),
            service,
        }
    }

    /// Like [`Workers::start`], for a worker that asks this rank's service while it works.
    pub fn start_with<J>(&mut self, name: &str, job: J) -> Result<WorkerId, DemoError>
    where
        J: AskingJob<Service = S, Output = T> + Registered,
    {
        let id = self.send_job(name, ranks::job_name::<J>(), &job)?;
        self.wait_for_first_event(id)
    }

    /// Rank 0's service, as it stands.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// Acts on rank 0's service from rank 0 itself (its own set of an event), and sends the
    /// replies that frees to the workers.
    pub fn serve_here(&mut self, act: impl FnOnce(&mut S, &mut Vec<(WorkerId, S::Reply)>)) {
        let mut replies = Vec::new();
        act(&mut self.service, &mut replies);
        self.send_replies(replies);
    }

    /// Receives and delivers the workers' messages for at most `within`; returns after the
    /// first one, so that the caller can look at the service again.
    pub fn pump_for(&mut self, within: Duration) -> Result<(), DemoError> {
        self.pump_once(within)
    }

    /// The rank worker `id` runs on.
    pub fn rank_of(&self, id: WorkerId) -> Rank {
        self.workers[id.0].rank
    }

    /// Claims a free rank and sends it the job.
    fn send_job<J: Serialize>(
        &mut self,
        name: &str,
        job_name: &str,
        job: &J,
    ) -> Result<WorkerId, DemoError> {
        let id = WorkerId(self.workers.len());
        let (rank, job_id) = ranks::claim().map_err(DemoError::System)?;
        let asked_at = self.run.trace().now_s();
        let message = ToRank::Job(JobMessage {
            id: job_id,
            job: job_name.to_string(),
            worker: name.to_string(),
            fault: self.run.fault_for(id.0),
            payload: ranks::encode(job),
        });
        let bytes = ranks::encode(&message).len();
        ranks::send(rank, ranks::TAG_TO_RANK, &message);
        self.workers.push(Worker {
            name: name.to_string(),
            rank,
            job: job_id,
            asked_at,
            events_after_s: asked_at,
            first_event_seen: false,
            end: None,
            joined: false,
        });
        self.run.figures(|f| {
            f.workers_created += 1;
            f.count_ipc_message(bytes);
            f.results_via = Some("one MPI message per worker to rank 0 (postcard-encoded)".into());
            f.notes
                .entry("waits".into())
                .or_insert_with(|| ranks::HOW_RANKS_WAIT.into());
        });
        Ok(id)
    }

    fn wait_for_first_event(&mut self, id: WorkerId) -> Result<WorkerId, DemoError> {
        self.pump_until(|w| w.workers[id.0].first_event_seen || w.workers[id.0].end.is_some())?;
        let worker = &self.workers[id.0];
        match &worker.end {
            Some(Err(how)) if !worker.first_event_seen => Err(worker.death(how.clone())),
            _ => Ok(id),
        }
    }

    /// Waits for the worker to end and returns its result, or how it died.
    pub fn join(&mut self, id: WorkerId) -> Result<T, DemoError> {
        self.pump_until(|w| w.workers[id.0].end.is_some())?;
        self.take_result(id)
    }

    /// Joins every worker not yet joined, and returns their results in start order; returns
    /// as soon as one has died, without waiting for the others.
    pub fn join_all(&mut self) -> Result<Vec<T>, DemoError> {
        self.pump_until(|w| {
            w.first_death().is_some() || w.workers.iter().all(|c| c.joined || c.end.is_some())
        })?;
        if let Some(index) = self.first_death() {
            return Err(self
                .take_result(WorkerId(index))
                .err()
                .expect("a dead worker has no result"));
        }
        let waiting: Vec<usize> = (0..self.workers.len())
            .filter(|&i| !self.workers[i].joined)
            .collect();
        waiting
            .into_iter()
            .map(|i| self.take_result(WorkerId(i)))
            .collect()
    }

    /// The first worker, in start order, that died and was not joined yet.
    fn first_death(&self) -> Option<usize> {
        self.workers
            .iter()
            .position(|w| !w.joined && matches!(w.end, Some(Err(_))))
    }

    fn take_result(&mut self, id: WorkerId) -> Result<T, DemoError> {
        let worker = &mut self.workers[id.0];
        if worker.joined {
            return Err(worker.death("was already joined".into()));
        }
        worker.joined = true;
        match worker.end.take() {
            Some(Ok(result)) => Ok(result),
            Some(Err(how)) => Err(worker.death(how)),
            None => Err(worker.death("has not ended".into())),
        }
    }

    /// Receives the workers' messages until `done`; Ctrl-C or SIGTERM end the wait.
    fn pump_until(&mut self, done: impl Fn(&Self) -> bool) -> Result<(), DemoError> {
        interrupt::wait_until(|turn| {
            if done(self) {
                return Some(Ok(()));
            }
            self.pump_once(turn).err().map(Err)
        })?
    }

    /// One turn of the pump: receives the messages that come within `turn`, delivers them,
    /// and sends the replies whose time has come.
    fn pump_once(&mut self, turn: Duration) -> Result<(), DemoError> {
        if let Some((rank, bytes)) = ranks::receive_within(None, ranks::TAG_FROM_RANK, turn) {
            self.run.figures(|f| f.count_ipc_message(bytes.len()));
            let message: FromRank = ranks::decode(&bytes).map_err(DemoError::System)?;
            self.deliver(rank, message)?;
        }
        let mut replies = Vec::new();
        self.service.expire(Instant::now(), &mut replies);
        self.send_replies(replies);
        Ok(())
    }

    fn deliver(&mut self, rank: Rank, message: FromRank) -> Result<(), DemoError> {
        let FromRank { job, report } = message;
        if matches!(report, Report::Result(_) | Report::Panicked(_)) {
            ranks::release(rank, job);
        }
        let Some(index) = self.workers.iter().position(|w| w.job == job) else {
            // A job of an earlier demo that gave up on it: only its end mattered.
            return Ok(());
        };
        match report {
            Report::Event {
                at_ns,
                what,
                detail,
            } => {
                let origin_ns = self.run.trace().origin_ns();
                let worker = &mut self.workers[index];
                let received_s = self.run.trace().now_s();
                let t_s = ranks::event_time_s(rank, at_ns, origin_ns, worker.asked_at, received_s);
                if !worker.first_event_seen {
                    worker.first_event_seen = true;
                    let micros = (t_s - worker.asked_at) * 1e6;
                    self.run.figures(|f| f.spawn_to_first_event_us.push(micros));
                }
                self.run.trace().record(Event {
                    t_s,
                    worker: worker.name.clone(),
                    what,
                    detail,
                });
            }
            Report::Request(payload) => {
                let request: S::Request = ranks::decode(&payload).map_err(DemoError::System)?;
                let mut replies = Vec::new();
                self.service.handle(WorkerId(index), request, &mut replies);
                self.send_replies(replies);
            }
            Report::Result(payload) => {
                self.workers[index].end = Some(ranks::decode(&payload));
            }
            Report::Panicked(how) => self.workers[index].end = Some(Err(how)),
        }
        Ok(())
    }

    /// Sends the service's replies, each to its worker's rank.
    fn send_replies(&mut self, replies: Vec<(WorkerId, S::Reply)>) {
        for (to, reply) in replies {
            let worker = &self.workers[to.0];
            // A worker that has ended cannot read it.
            if worker.end.is_some() {
                continue;
            }
            let message = ToRank::Reply {
                job: worker.job,
                payload: ranks::encode(&reply),
            };
            let bytes = ranks::encode(&message).len();
            // The worker waits for it: what it does next comes after this send.
            let sent_s = self.run.trace().now_s();
            ranks::send(worker.rank, ranks::TAG_TO_RANK, &message);
            self.workers[to.0].events_after_s = sent_s;
            self.run.figures(|f| f.count_ipc_message(bytes));
        }
    }
}
