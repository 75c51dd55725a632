//! The MPI job as one copy of this program sees it: which rank it is, the messages between
//! rank 0 (the main flow) and the worker ranks, the worker ranks' loop, and how both wait.
//!
//! Every wait for a message polls (`MPI_Iprobe`): during its first 200 µs it yields the core
//! between polls (an answer that is on its way comes without a sleep's delay), then it sleeps
//! between polls, 100 µs during the first 10 ms, 1 ms after. Open MPI's blocking receive spins
//! on a core until the message comes, and with more ranks than cores the spinning ranks would
//! take the cores from the ones that work. A rank that waits therefore uses almost no core,
//! and pays for it in latency (up to a pause). Only MPI's own operations block in MPI (what
//! `channel` measures, `lock`'s window lock and start line).
//!
//! A worker rank finds the code of a job by the job's type name, as a spawned worker process
//! does: each demo file declares its job types in one [`jobs!`] line.

use contract::domain::Fault;
use contract::trace::monotonic_ns;
use contract::{EventSink, Job};
use mpi::Threading;
use mpi::point_to_point::MatchedReceiveVec;
use mpi::topology::{Rank, SimpleCommunicator};
use mpi::traits::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// This copy of the program was started by `mpirun`, as one rank of a job.
pub fn started_by_mpirun() -> bool {
    std::env::var_os("OMPI_COMM_WORLD_RANK").is_some()
}

/// Rank 0 to a worker rank: a job, a reply to one of its requests, or the end.
pub const TAG_TO_RANK: i32 = 1;
/// A worker rank to rank 0: its events, requests and result.
pub const TAG_FROM_RANK: i32 = 2;
/// The clock handshake at the start of the job.
const TAG_CLOCK: i32 = 3;
/// Tags from here up are a demo's own traffic.
pub const TAG_DEMO: i32 = 100;

/// What rank 0 sends a worker rank.
#[derive(Serialize, Deserialize)]
pub enum ToRank {
    Job(JobMessage),
    /// The answer to a request of job `job`.
    Reply {
        job: u64,
        payload: Vec<u8>,
    },
    /// The job is over: finalize and exit.
    Quit,
}

/// A job for a worker rank, as data: its type's name and its value, postcard-encoded.
#[derive(Serialize, Deserialize)]
pub struct JobMessage {
    /// Names this job among every job of the run.
    pub id: u64,
    pub job: String,
    pub worker: String,
    pub fault: Option<Fault>,
    pub payload: Vec<u8>,
}

/// What a worker rank sends rank 0 about job `job`.
#[derive(Serialize, Deserialize)]
pub struct FromRank {
    pub job: u64,
    pub report: Report,
}

/// One message of a worker rank about its job.
#[derive(Serialize, Deserialize)]
pub enum Report {
    /// An event, stamped with the worker rank's monotonic clock.
    Event {
        at_ns: u64,
        what: String,
        detail: Option<String>,
    },
    /// A request to rank 0's service (a queue's put or get).
    Request(Vec<u8>),
    /// The job's output, postcard-encoded: the last message of the job.
    Result(Vec<u8>),
    /// The job panicked, with its message: the last message of the job.
    Panicked(String),
}

/// The world communicator of the job (`MPI_COMM_WORLD`).
pub fn world() -> SimpleCommunicator {
    SimpleCommunicator::world()
}

/// Encodes a message's value.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("messages are plain data")
}

/// Decodes a message's value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("a message that does not decode: {e}"))
}

/// Sends `value` to `rank` with `tag`.
pub fn send<T: Serialize>(rank: Rank, tag: i32, value: &T) {
    world()
        .process_at_rank(rank)
        .send_with_tag(&encode(value)[..], tag);
}

/// Pauses between polls: none (a yield) while an answer may be on its way, short while a
/// message is due soon, long once the wait is long.
const YIELDS_FOR: Duration = Duration::from_micros(200);
const SHORT_PAUSE: Duration = Duration::from_micros(100);
const LONG_PAUSE: Duration = Duration::from_millis(1);
const SHORT_PAUSES_FOR: Duration = Duration::from_millis(10);

/// How a wait for a message is made, as a figure's note says it.
pub const HOW_RANKS_WAIT: &str = "MPI_Iprobe, yielding the core for 200 µs, then sleeping \
                                  100 µs (1 ms after 10 ms) between polls: Open MPI's \
                                  blocking receive would spin on a core";

/// Receives the next message with `tag` from `source` (any rank when `None`), waiting at most
/// `within`; the sender's rank and the message's bytes.
pub fn receive_within(source: Option<Rank>, tag: i32, within: Duration) -> Option<(Rank, Vec<u8>)> {
    let comm = world();
    let started = Instant::now();
    loop {
        let probed = match source {
            Some(rank) => comm
                .process_at_rank(rank)
                .immediate_matched_probe_with_tag(tag),
            None => comm.any_process().immediate_matched_probe_with_tag(tag),
        };
        if let Some(probed) = probed {
            let source = probed.1.source_rank();
            let (bytes, _) = probed.matched_receive_vec::<u8>();
            return Some((source, bytes));
        }
        let waited = started.elapsed();
        if waited >= within {
            return None;
        }
        pause_after(waited, within - waited);
    }
}

/// Pauses before the next poll of a wait that has lasted `waited`, at most `left`.
fn pause_after(waited: Duration, left: Duration) {
    if waited < YIELDS_FOR {
        std::thread::yield_now();
    } else if waited < SHORT_PAUSES_FOR {
        std::thread::sleep(SHORT_PAUSE.min(left));
    } else {
        std::thread::sleep(LONG_PAUSE.min(left));
    }
}

/// Waits for a non-blocking MPI operation to complete, testing it between pauses. It does
/// not end on Ctrl-C: a collective cannot be left half done, and the launcher stops the job.
pub fn complete<'a, D: ?Sized, S: mpi::request::Scope<'a>>(
    mut request: mpi::request::Request<'a, D, S>,
) {
    let started = Instant::now();
    loop {
        match request.test() {
            Ok(_) => return,
            Err(pending) => request = pending,
        }
        pause_after(started.elapsed(), Duration::MAX);
    }
}

/// What rank 0 knows of the job's ranks.
struct Ranks {
    /// Per rank: its monotonic clock minus rank 0's, in ns, measured when the job started.
    clock_offsets_ns: Vec<i64>,
    /// Per rank: the job it runs, if any (rank 0 runs the main flow).
    busy: Vec<Option<u64>>,
    next_job: u64,
}

thread_local! {
    /// Rank 0's view of the ranks; set once MPI is initialised.
    static RANKS: RefCell<Option<Ranks>> = const { RefCell::new(None) };
}

fn with_ranks<R>(f: impl FnOnce(&mut Ranks) -> R) -> R {
    RANKS.with_borrow_mut(|ranks| f(ranks.as_mut().expect("MPI is initialised")))
}

/// Claims the lowest free worker rank for a new job: its rank and the job's id.
pub fn claim() -> Result<(Rank, u64), String> {
    with_ranks(|ranks| {
        let size = ranks.busy.len();
        let free = (1..size)
            .find(|&rank| ranks.busy[rank].is_none())
            .ok_or_else(|| {
                format!("every worker rank is busy: the job was started with {size} ranks")
            })?;
        ranks.next_job += 1;
        let id = ranks.next_job;
        ranks.busy[free] = Some(id);
        Ok((free as Rank, id))
    })
}

/// Marks `rank` free once the last message of job `job` has come from it.
pub fn release(rank: Rank, job: u64) {
    with_ranks(|ranks| {
        if ranks.busy[rank as usize] == Some(job) {
            ranks.busy[rank as usize] = None;
        }
    })
}

/// The time of an event of `rank`, stamped `at_ns` on its clock, on rank 0's trace of origin
/// `origin_ns`, in seconds. The offset moves it onto rank 0's clock; causality then bounds it:
/// the event came after the last message rank 0 sent the rank and the rank waited for (its
/// job, a reply: `sent_s`), and before rank 0 received the event (`received_s`), so an offset
/// that is wrong cannot order it before or after rank 0's own events across those messages. A rank's events stay in their order: both bounds grow with it.
pub fn event_time_s(rank: Rank, at_ns: u64, origin_ns: u64, sent_s: f64, received_s: f64) -> f64 {
    let offset = with_ranks(|ranks| ranks.clock_offsets_ns[rank as usize]);
    let moved_s = (at_ns as i128 - offset as i128 - origin_ns as i128) as f64 / 1e9;
    within_causal_bounds(moved_s, sent_s, received_s)
}

/// `moved_s` kept between the time rank 0 sent what the rank waited for and the time it
/// received the event.
fn within_causal_bounds(moved_s: f64, sent_s: f64, received_s: f64) -> f64 {
    moved_s.min(received_s).max(sent_s)
}

/// The program of one rank: rank 0 runs `main_flow`, the others serve jobs until rank 0 says
/// the job is over. MPI is finalized before it returns.
pub fn main_of_rank(main_flow: impl FnOnce() -> ExitCode) -> ExitCode {
    if let Err(problem) = die_with_parent() {
        eprintln!("cluster: rank: {problem}");
        return ExitCode::FAILURE;
    }
    // Only the main thread of a rank calls MPI.
    let Some((universe, _)) = mpi::initialize_with_threading(Threading::Funneled) else {
        eprintln!("cluster: error: MPI could not be initialised");
        return ExitCode::FAILURE;
    };
    let comm = universe.world();
    // A rank made by rank 0's MPI_Comm_spawn: it meets rank 0 at a barrier, and ends.
    if let Some(parent) = comm.parent() {
        parent.barrier();
        // Freed before MPI is finalized: no MPI call may come after.
        drop(parent);
        drop(universe);
        return ExitCode::SUCCESS;
    }
    let size = comm.size() as usize;
    let clock_offsets_ns = synchronise_clocks(&comm);
    let code = if comm.rank() == 0 {
        RANKS.set(Some(Ranks {
            clock_offsets_ns,
            busy: vec![None; size],
            next_job: 0,
        }));
        let code = main_flow();
        for rank in 1..size {
            send(rank as Rank, TAG_TO_RANK, &ToRank::Quit);
        }
        code
    } else {
        serve()
    };
    // MPI_Finalize: every rank waits here for the others.
    drop(universe);
    code
}

/// A rank must not outlive the `mpirun` that started it: it dies with it. If that was gone
/// before the signal was set, the rank has been re-parented and ends now.
fn die_with_parent() -> Result<(), String> {
    let parent = nix::unistd::getppid();
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("cannot set the parent-death signal: {e}"))?;
    if nix::unistd::getppid() != parent {
        return Err("the mpirun that started it is gone".into());
    }
    Ok(())
}

/// Round trips per rank whose clock is not rank 0's; the one with the shortest wins.
const CLOCK_ROUND_TRIPS: u32 = 8;

/// Each rank's monotonic clock against rank 0's: rank 0's offsets per rank. A rank on rank 0's
/// machine reads the same clock (`CLOCK_MONOTONIC` is one per kernel, [`clock_identity`]), so
/// its offset is 0, exactly. Another machine's is measured by round trips: its clock's
/// reading minus the middle of rank 0's send and receive, taken from the round trip with the
/// shortest time, whose error is at most half that time (a round trip that a busy core
/// stretched says little).
fn synchronise_clocks(comm: &SimpleCommunicator) -> Vec<i64> {
    let size = comm.size() as usize;
    if comm.rank() != 0 {
        let root = comm.process_at_rank(0);
        root.send_with_tag(clock_identity().as_bytes(), TAG_CLOCK);
        let (round_trips, _): (u32, _) = root.receive_with_tag(TAG_CLOCK);
        for _ in 0..round_trips {
            let (_, _): (u8, _) = root.receive_with_tag(TAG_CLOCK);
            root.send_with_tag(&monotonic_ns(), TAG_CLOCK);
        }
        return Vec::new();
    }
    let ours = clock_identity();
    let mut offsets = vec![0i64; size];
    for (rank, offset) in offsets.iter_mut().enumerate().skip(1) {
        let process = comm.process_at_rank(rank as Rank);
        let (theirs, _) = process.receive_vec_with_tag::<u8>(TAG_CLOCK);
        let round_trips = if theirs == ours.as_bytes() {
            0
        } else {
            CLOCK_ROUND_TRIPS
        };
        process.send_with_tag(&round_trips, TAG_CLOCK);
        let mut shortest = u64::MAX;
        for _ in 0..round_trips {
            let asked = monotonic_ns();
            process.send_with_tag(&0u8, TAG_CLOCK);
            let (their_time, _): (u64, _) = process.receive_with_tag(TAG_CLOCK);
            let answered = monotonic_ns();
            if answered - asked < shortest {
                shortest = answered - asked;
                *offset = their_time as i64 - (asked + (answered - asked) / 2) as i64;
            }
        }
    }
    offsets
}

/// Names the monotonic clock this process reads: its kernel's boot (`boot_id`) and its time
/// namespace. Two processes with the same identity read the same clock.
fn clock_identity() -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let namespace = std::fs::read_link("/proc/self/ns/time")
        .map(|link| link.to_string_lossy().into_owned())
        .unwrap_or_default();
    if boot.trim().is_empty() {
        // Unknown: measured, as another machine's.
        return format!("unknown clock of process {}", std::process::id());
    }
    format!("{} {namespace}", boot.trim())
}

/// A worker rank's loop: runs each job rank 0 sends, until it says the job is over.
fn serve() -> ExitCode {
    loop {
        let Some((_, bytes)) = receive_within(Some(0), TAG_TO_RANK, Duration::MAX) else {
            continue;
        };
        match decode::<ToRank>(&bytes) {
            Ok(ToRank::Job(job)) => {
                if run_job(job) == JobEnd::QuitWhileAsking {
                    return ExitCode::SUCCESS;
                }
            }
            Ok(ToRank::Quit) => return ExitCode::SUCCESS,
            // A reply to a job that has ended (it panicked while asking): nobody needs it.
            Ok(ToRank::Reply { .. }) => {}
            Err(problem) => {
                eprintln!("cluster: rank: {problem}");
                return ExitCode::FAILURE;
            }
        }
    }
}

/// How a job of a worker rank ended, for its loop.
#[derive(PartialEq)]
enum JobEnd {
    Reported,
    /// Rank 0 ended the whole job while this one waited for a reply: the rank ends too.
    QuitWhileAsking,
}

/// Runs one job and sends its result, or how it panicked, to rank 0.
fn run_job(message: JobMessage) -> JobEnd {
    let sink = RankSink {
        job: message.id,
        worker: message.worker,
        fault: message.fault,
        first_event: Cell::new(true),
        quit_while_asking: Cell::new(false),
    };
    let report = match find(&message.job) {
        None => Report::Panicked(format!("no job named '{}' in this program", message.job)),
        Some(entry) => {
            match catch_unwind(AssertUnwindSafe(|| (entry.run)(&message.payload, &sink))) {
                Ok(Ok(output)) => Report::Result(output),
                Ok(Err(problem)) => Report::Panicked(problem),
                Err(payload) => Report::Panicked(format!("panicked: {}", panic_message(&*payload))),
            }
        }
    };
    sink.report(report);
    match sink.quit_while_asking.get() {
        true => JobEnd::QuitWhileAsking,
        false => JobEnd::Reported,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".to_string())
}

/// A worker rank's end of its job's events: each is a message to rank 0.
pub struct RankSink {
    job: u64,
    worker: String,
    fault: Option<Fault>,
    first_event: Cell<bool>,
    /// Rank 0 said the whole job is over while this one waited for a reply.
    quit_while_asking: Cell<bool>,
}

impl RankSink {
    fn report(&self, report: Report) {
        send(
            0,
            TAG_FROM_RANK,
            &FromRank {
                job: self.job,
                report,
            },
        );
    }

    /// Sends a request to rank 0's service and waits for its reply.
    pub fn ask<Q: Serialize, R: DeserializeOwned>(&self, request: &Q) -> R {
        self.report(Report::Request(encode(request)));
        loop {
            let Some((_, bytes)) = receive_within(Some(0), TAG_TO_RANK, Duration::MAX) else {
                continue;
            };
            match decode::<ToRank>(&bytes) {
                Ok(ToRank::Reply { job, payload }) if job == self.job => {
                    return decode(&payload).expect("rank 0 replies with the service's reply");
                }
                // A reply to an earlier job of this rank, which ended while it asked.
                Ok(ToRank::Reply { .. }) => {}
                Ok(ToRank::Quit) => {
                    // Rank 0 gave up on this job and ended the run: this rank must end too,
                    // or MPI_Finalize would wait for it for ever.
                    self.quit_while_asking.set(true);
                    panic!("rank 0 ended the run while this rank waited for a reply");
                }
                _ => panic!("rank 0 sent something else than a reply while this rank asked"),
            }
        }
    }
}

impl EventSink for RankSink {
    fn worker(&self) -> &str {
        &self.worker
    }

    fn emit(&self, what: &str, detail: Option<String>) {
        self.report(Report::Event {
            at_ns: monotonic_ns(),
            what: what.to_string(),
            detail,
        });
        if self.first_event.replace(false)
            && let Some(fault) = self.fault
        {
            inject(fault);
        }
    }
}

/// Makes this worker die as `--inject` asks. A rank killed alone ends the whole MPI job (MPI's
/// default fault model, which `crash` shows), so both faults end the job with a panic, which
/// its rank catches and reports, as a thread's is.
fn inject(fault: Fault) -> ! {
    match fault {
        Fault::KillWorker => panic!(
            "injected fault kill-worker (a rank killed alone ends the whole MPI job, so it panics)"
        ),
        Fault::PanicWorker => panic!("injected fault panic-worker"),
    }
}

/// One job a worker rank can run: its name and how it runs from its message.
pub struct Entry {
    pub name: fn() -> &'static str,
    pub run: fn(&[u8], &RankSink) -> Result<Vec<u8>, String>,
}

/// The name of job type `J` in a job's message.
pub fn job_name<J>() -> &'static str {
    std::any::type_name::<J>()
}

/// A job type a worker rank can find: implemented by [`jobs!`] alone.
pub trait Registered {}

/// The entry of a job that asks rank 0 nothing.
pub const fn job<J: Job>() -> Entry {
    Entry {
        name: job_name::<J>,
        run: run_plain_job::<J>,
    }
}

fn run_plain_job<J: Job>(payload: &[u8], sink: &RankSink) -> Result<Vec<u8>, String> {
    let job: J = decode(payload)?;
    Ok(encode(&job.run(sink)))
}

/// The entry of a job that asks rank 0's service while it works.
pub const fn asking_job<J: crate::workers::AskingJob>() -> Entry {
    Entry {
        name: job_name::<J>,
        run: run_asking_job::<J>,
    }
}

fn run_asking_job<J: crate::workers::AskingJob>(
    payload: &[u8],
    sink: &RankSink,
) -> Result<Vec<u8>, String> {
    let job: J = decode(payload)?;
    let parent = crate::workers::Parent::<J::Service>::new(sink);
    Ok(encode(&job.run(sink, &parent)))
}

/// Declares a demo file's job types, `jobs!(A, B; asking C)`: each becomes [`Registered`],
/// and the file's `JOBS` lists their entries for a worker rank.
macro_rules! jobs {
    ($($job:ty),* $(; asking $($asking:ty),+)?) => {
        $(impl $crate::ranks::Registered for $job {})*
        $($(impl $crate::ranks::Registered for $asking {})+)?

        /// This demo's jobs, as a worker rank finds them.
        pub const JOBS: &[$crate::ranks::Entry] = &[
            $($crate::ranks::job::<$job>(),)*
            $($($crate::ranks::asking_job::<$asking>(),)+)?
        ];
    };
}
pub(crate) use jobs;

/// The job type named `name`.
fn find(name: &str) -> Option<&'static Entry> {
    crate::demos::JOBS
        .iter()
        .flat_map(|jobs| jobs.iter())
        .find(|entry| (entry.name)() == name)
}

#[cfg(test)]
mod tests {
    use super::within_causal_bounds;

    #[test]
    fn a_wrong_clock_offset_cannot_move_an_event_across_the_messages_that_bound_it() {
        // Job sent at 1.0 s, event received at 1.2 s, on rank 0's clock.
        assert_eq!(within_causal_bounds(1.1, 1.0, 1.2), 1.1);
        // An offset 50 ms too small would put it after rank 0 received it; too large, before
        // rank 0 sent the job.
        assert_eq!(within_causal_bounds(1.25, 1.0, 1.2), 1.2);
        assert_eq!(within_causal_bounds(0.95, 1.0, 1.2), 1.0);
        // A rank's later event, received later, stays after its earlier one.
        let first = within_causal_bounds(1.25, 1.0, 1.2);
        let second = within_causal_bounds(1.3, 1.0, 1.21);
        assert!(first <= second);
    }

    #[test]
    fn this_process_names_the_same_clock_each_time_it_asks() {
        assert_eq!(super::clock_identity(), super::clock_identity());
        assert!(!super::clock_identity().starts_with("unknown"));
    }
}
