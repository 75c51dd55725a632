//! `channel` (beyond the notebook) on MPI ranks: messages per second and round trips through
//! MPI point-to-point messages between rank 0 and a worker rank, in the same run:
//!
//! - `channel`: in this job, where Open MPI sends between ranks of one machine through shared
//!   memory (its `vader` transport);
//! - `mpi_tcp_loopback`: in a job of two ranks started beside this one with
//!   `--mca btl tcp,self`, where the same messages go through TCP on the loopback interface, as
//!   they would between machines;
//! - `stream_socketpair`: a raw `AF_UNIX` stream socketpair between rank 0 and a process it
//!   starts (this program again, which inherits the socket), the bare kernel path.
//!
//! Only here does a rank block in MPI (`MPI_Send`, `MPI_Recv`): what is timed is MPI's own
//! latency, and Open MPI's blocking receive spins until the message comes.

use crate::launch;
use crate::ranks;
use crate::workers::Workers;
use contract::bench::{
    Ends, PathFigures, Socket, main_side, main_side_placed, message_counts, peer, peer_placed,
    raw_socketpair, record_baseline,
    record_channel_over, record_path, socket_ends,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{BASELINE_PEER, PEER, message_sizes};
use contract::{DemoError, DemoRun, EventSink, Job};
use mpi::point_to_point::MatchedReceiveVec;
use mpi::topology::Rank;
use mpi::traits::*;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, Stdio};

crate::ranks::jobs!(MpiPeer);

/// The messages of a measurement, apart from the jobs' and events'.
const TAG_CHANNEL: i32 = ranks::TAG_DEMO + 10;

/// Set in a job of two ranks started to measure over TCP: its rank 0 measures and prints.
pub const OVER_TCP: &str = "CLUSTER_CHANNEL_OVER_TCP";
/// Set for this program started as the peer of a raw socketpair: `FD MESSAGES BYTES TRIPS`.
pub const SOCKET_PEER: &str = "CLUSTER_SOCKET_PEER";

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in message_sizes(run) {
        let figures = measure_mpi(run, PEER, count, bytes)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let figures = measure_in_a_tcp_job(count, bytes)?;
        record_baseline(run, "mpi_tcp_loopback", bytes, figures)?;
        record_channel_over(run, "mpi_tcp_loopback", bytes);

        let figures = measure_socketpair(count, bytes)?;
        record_baseline(run, "stream_socketpair", bytes, figures)?;
        record_channel_over(run, "stream_socketpair", bytes);
    }
    run.figures(|f| {
        f.notes.insert(
            "paths".into(),
            "channel: MPI_Send/MPI_Recv between ranks of this job (Open MPI: shared memory); \
             mpi_tcp_loopback: the same in a job of two ranks with --mca btl tcp,self; \
             stream_socketpair: a raw AF_UNIX socketpair to a process rank 0 starts"
                .into(),
        );
    });
    Ok(outcome)
}

/// A peer rank streams and echoes through MPI; rank 0 receives, checks and times.
fn measure_mpi(
    run: &DemoRun,
    peer_name: &str,
    count: u64,
    bytes: usize,
) -> Result<PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut workers = Workers::new(run);
    let job = MpiPeer {
        messages,
        bytes,
        round_trips,
    };
    let id = workers.start(peer_name, job)?;
    let mut main_ends = mpi_ends(workers.rank_of(id));
    // Ranks are not placed on cores: they may be on two machines, and a rank waiting in MPI
    // spins, which on one core would time the scheduler's time slice.
    let figures = main_side_placed(&mut main_ends, messages, bytes, round_trips, &[]);
    workers
        .join(id)?
        .map_err(|e| DemoError::System(format!("the peer: {e}")))?;
    figures.map_err(DemoError::System)
}

/// Blocking MPI sends and receives to and from `rank`.
fn mpi_ends(rank: Rank) -> Ends {
    Ends {
        send: Box::new(move |message| {
            ranks::world()
                .process_at_rank(rank)
                .send_with_tag(message, TAG_CHANNEL);
            Ok(())
        }),
        receive: Box::new(move |_| {
            let world = ranks::world();
            let probed = world
                .process_at_rank(rank)
                .matched_probe_with_tag(TAG_CHANNEL);
            Ok(probed.matched_receive_vec::<u8>().0)
        }),
    }
}

/// The peer rank: says it is ready, waits for "go", streams its messages, then echoes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct MpiPeer {
    messages: u64,
    bytes: usize,
    round_trips: u64,
}

impl Job for MpiPeer {
    type Output = Result<(), String>;

    fn run(self, out: &dyn EventSink) -> Result<(), String> {
        let mut ends = mpi_ends(0);
        out.emit("ready", None);
        peer_placed(&mut ends, self.messages, self.bytes, self.round_trips, &[])
    }
}

/// Runs the MPI measurement in a job of two ranks over TCP on the loopback interface, and
/// reads its figures from its rank 0.
fn measure_in_a_tcp_job(count: u64, bytes: usize) -> Result<PathFigures, DemoError> {
    let mut command = launch::mpirun_of_another_job(2);
    command
        .args(["--mca", "btl", "tcp,self"])
        .args(["--mca", "btl_tcp_if_include", "lo"])
        .arg(launch::current_exe_or_name())
        .args(["channel", "--count", &count.to_string()])
        .env(OVER_TCP, bytes.to_string())
        .stdout(Stdio::piped());
    let job = launch::start_dying_with_us(&mut command)
        .map_err(|e| DemoError::system("starting mpirun", e))?;
    let output = launch::output_of(job)?;
    let figures: FiguresAsData = serde_json::from_str(output.trim())
        .map_err(|e| DemoError::System(format!("the TCP job's figures: {e}: {output}")))?;
    Ok(figures.into())
}

/// Rank 0 of the TCP job: measures one size with its one peer rank and prints the figures.
pub fn over_tcp_main(bytes: &str) -> ExitCode {
    use clap::Parser;
    let (Ok(cli), Ok(bytes)) = (runner::cli::Cli::try_parse(), bytes.parse::<usize>()) else {
        eprintln!("cluster: the TCP job of channel was started with a bad command line");
        return ExitCode::FAILURE;
    };
    let kind = contract::domain::BackendKind {
        worker: contract::domain::WorkerKind::Rank,
        isolated: false,
        start_method: None,
        executor: None,
    };
    let run = DemoRun::new(
        contract::DemoId::Channel,
        ("cluster", &kind),
        &cli.settings(),
        contract::trace::Echo::Silent,
    );
    match measure_mpi(&run, PEER, run.count(), bytes) {
        Ok(figures) => {
            let data = FiguresAsData::from(figures);
            println!("{}", serde_json::to_string(&data).expect("plain data"));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cluster: the TCP job of channel: {error}");
            ExitCode::FAILURE
        }
    }
}

/// [`PathFigures`] as they travel from the TCP job.
#[derive(Serialize, Deserialize)]
struct FiguresAsData {
    messages: u64,
    intact: u64,
    seconds: f64,
    round_trips: u64,
    round_trips_intact: u64,
    round_trip_us_median: f64,
}

impl From<PathFigures> for FiguresAsData {
    fn from(f: PathFigures) -> Self {
        FiguresAsData {
            messages: f.messages,
            intact: f.intact,
            seconds: f.seconds,
            round_trips: f.round_trips,
            round_trips_intact: f.round_trips_intact,
            round_trip_us_median: f.round_trip_us_median,
        }
    }
}

impl From<FiguresAsData> for PathFigures {
    fn from(f: FiguresAsData) -> Self {
        PathFigures {
            messages: f.messages,
            intact: f.intact,
            seconds: f.seconds,
            round_trips: f.round_trips,
            round_trips_intact: f.round_trips_intact,
            round_trip_us_median: f.round_trip_us_median,
            placed: [None, None],
        }
    }
}

/// Rank 0 and a process it starts (this program as a socket peer) over a raw stream
/// socketpair, which the peer inherits.
fn measure_socketpair(count: u64, bytes: usize) -> Result<PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let (peer_socket, mut main_ends) = raw_socketpair(Socket::Stream)?;
    let mut command = Command::new(launch::current_exe_or_name());
    command.env(
        SOCKET_PEER,
        format!(
            "{} {messages} {bytes} {round_trips}",
            peer_socket.as_raw_fd()
        ),
    );
    let mut peer_process = launch::start_dying_with_us(&mut command)
        .map_err(|e| DemoError::system("starting the socket's peer", e))?;
    // The peer holds its own copy now: a peer that dies must close the socket's last copy.
    drop(peer_socket);
    let figures = main_side(&mut main_ends, messages, bytes, round_trips);
    // Closing our ends ends a peer that still waits for us.
    drop(main_ends);
    let status = contract::interrupt::wait_for_exit(&mut peer_process)?
        .map_err(|e| DemoError::system("waiting for the socket's peer", e))?;
    if !status.success() {
        return Err(DemoError::WorkerDied {
            worker: BASELINE_PEER.into(),
            how: match status.signal() {
                Some(signal) => format!("was killed by signal {signal}"),
                None => format!("exited with {status}"),
            },
        });
    }
    figures.map_err(DemoError::System)
}

/// This program as the peer of a raw socketpair: `FD MESSAGES BYTES TRIPS` from the
/// environment.
pub fn socket_peer_main(spec: &str) -> ExitCode {
    let numbers: Vec<u64> = spec
        .split(' ')
        .filter_map(|n| n.parse().ok())
        .collect();
    let [fd, messages, bytes, round_trips] = numbers[..] else {
        eprintln!("cluster: {SOCKET_PEER} is for the peer channel starts: FD MESSAGES BYTES TRIPS");
        return ExitCode::from(contract::settings::EXIT_BAD_INPUT);
    };
    let Ok(fd) = i32::try_from(fd) else {
        return ExitCode::from(contract::settings::EXIT_BAD_INPUT);
    };
    if !is_a_socket(fd) {
        eprintln!("cluster: {SOCKET_PEER}: descriptor {fd} is not a socket");
        return ExitCode::from(contract::settings::EXIT_BAD_INPUT);
    }
    // SAFETY: the descriptor is open (checked above: a socket), was made for this process by
    // `measure_socketpair`, which inherited it to no one else, and is taken once, here.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let outcome = socket_ends(Socket::Stream, socket)
        .map_err(|e| e.to_string())
        .and_then(|mut ends| peer(&mut ends, messages, bytes as usize, round_trips));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cluster: socket peer: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `fd` is an open socket of this process.
fn is_a_socket(fd: i32) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
}
