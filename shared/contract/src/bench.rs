//! Timing loops for the measuring demos (`spawn`, `channel`): time each operation, touch
//! memory so that a fork has pages to copy, and summarise.

use crate::interrupt;
use crate::report::median;
use crate::run::DemoError;
use std::time::Instant;

/// Runs `op` `count` times and returns the microseconds each run took. Ctrl-C is looked at
/// before each run, so that a long series stops at once.
pub fn time_each(
    count: u64,
    mut op: impl FnMut() -> Result<(), DemoError>,
) -> Result<Vec<f64>, DemoError> {
    let mut micros = Vec::with_capacity(count as usize);
    for _ in 0..count {
        if interrupt::requested() {
            return Err(DemoError::Interrupted);
        }
        let started = Instant::now();
        op()?;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Ok(micros)
}

/// Runs `first` and `second` alternately, `count` times each, and returns the microseconds
/// each run took: alternating lets the machine's drift fall on both alike.
pub fn time_alternately(
    count: u64,
    mut first: impl FnMut() -> Result<(), DemoError>,
    mut second: impl FnMut() -> Result<(), DemoError>,
) -> Result<(Vec<f64>, Vec<f64>), DemoError> {
    let (mut first_us, mut second_us) = (
        Vec::with_capacity(count as usize),
        Vec::with_capacity(count as usize),
    );
    for _ in 0..count {
        first_us.extend(time_each(1, &mut first)?);
        second_us.extend(time_each(1, &mut second)?);
    }
    Ok((first_us, second_us))
}

/// The median of `samples`, 0 for none.
pub fn median_or_zero(samples: &[f64]) -> f64 {
    median(samples).unwrap_or(0.0)
}

/// `mib` MiB with every page written, so that the pages are really mapped in this process.
/// Stops early on Ctrl-C (looked at every MiB): the caller's next timing then stops too.
pub fn touch_memory(mib: usize) -> Vec<u8> {
    let mut memory = vec![0u8; mib << 20];
    for chunk in memory.chunks_mut(1 << 20) {
        if interrupt::requested() {
            break;
        }
        for page in chunk.chunks_mut(4096) {
            page[0] = 1;
        }
    }
    memory
}

/// A message of `bytes` bytes whose first eight bytes carry `index` and whose other bytes
/// all equal `index as u8`, so that the receiver can check cheaply that it arrived whole,
/// unmixed, and in order.
pub fn message(index: u64, bytes: usize) -> Vec<u8> {
    let mut message = vec![index as u8; bytes];
    let head = index.to_le_bytes();
    let n = bytes.min(8);
    message[..n].copy_from_slice(&head[..n]);
    message
}

/// True when `received` is exactly `message(index, bytes)`.
pub fn is_message(received: &[u8], index: u64, bytes: usize) -> bool {
    let n = bytes.min(8);
    received.len() == bytes
        && received[..n] == index.to_le_bytes()[..n]
        && received[n..].iter().all(|&b| b == index as u8)
}

/// Sends one message; errors are described in words.
pub type SendFn = Box<dyn FnMut(&[u8]) -> Result<(), String> + Send>;
/// Receives the next message, whose length is known (stream sockets need it).
pub type ReceiveFn = Box<dyn FnMut(usize) -> Result<Vec<u8>, String> + Send>;

/// One side's ends of a two-way path: how it sends, and how it receives.
pub struct Ends {
    pub send: SendFn,
    pub receive: ReceiveFn,
}

/// A raw socketpair (`AF_UNIX`, `SOCK_STREAM`): the peer's ends and the main flow's. Messages
/// have known lengths, so a stream needs no framing.
pub fn socketpair_ends() -> Result<(Ends, Ends), DemoError> {
    let (peer, main) =
        std::os::unix::net::UnixStream::pair().map_err(|e| DemoError::system("socketpair", e))?;
    Ok((stream_ends(peer)?, stream_ends(main)?))
}

/// One side's ends of a stream socket.
pub fn stream_ends(stream: std::os::unix::net::UnixStream) -> Result<Ends, DemoError> {
    let mut writer = stream
        .try_clone()
        .map_err(|e| DemoError::system("socketpair", e))?;
    let mut reader = stream;
    Ok(Ends {
        send: Box::new(move |message| {
            std::io::Write::write_all(&mut writer, message).map_err(|e| e.to_string())
        }),
        receive: Box::new(move |bytes| {
            let mut message = vec![0; bytes];
            std::io::Read::read_exact(&mut reader, &mut message).map_err(|e| e.to_string())?;
            Ok(message)
        }),
    })
}

/// The kinds of raw socketpair measured: the raw figures of a channel between processes.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub enum Socket {
    /// `SOCK_SEQPACKET`, the kind ipc-channel uses: each send is one whole message.
    SeqPacket,
    /// `SOCK_STREAM`: bytes without boundaries (messages have known lengths here).
    Stream,
}

/// A raw `AF_UNIX` socketpair of `kind`: one socket to hand to a peer process, and the main
/// flow's ends of the other. Only the peer's is not close-on-exec: a spawned peer keeps its
/// socket across its `exec`, as a forked one does across `fork`, and holds nothing of the
/// main flow's, so that when the main flow closes its end, the peer sees the end.
pub fn raw_socketpair(kind: Socket) -> Result<(std::os::fd::OwnedFd, Ends), DemoError> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    let socket_type = match kind {
        Socket::SeqPacket => SockType::SeqPacket,
        Socket::Stream => SockType::Stream,
    };
    let (peer, main) = socketpair(
        AddressFamily::Unix,
        socket_type,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| DemoError::system("socketpair", e))?;
    fcntl(&peer, FcntlArg::F_SETFD(FdFlag::empty()))
        .map_err(|e| DemoError::system("keeping a socket across exec", e))?;
    Ok((peer, socket_ends(kind, main)?))
}

/// The ends of one socket of a raw socketpair of `kind`.
pub fn socket_ends(kind: Socket, socket: std::os::fd::OwnedFd) -> Result<Ends, DemoError> {
    match kind {
        Socket::SeqPacket => Ok(seqpacket_ends(socket)),
        Socket::Stream => stream_ends(std::os::unix::net::UnixStream::from(socket)),
    }
}

/// A `SOCK_SEQPACKET` socket's ends: each send is one message, each receive takes one whole
/// message.
fn seqpacket_ends(socket: std::os::fd::OwnedFd) -> Ends {
    use nix::sys::socket::{MsgFlags, recv, send};
    use std::os::fd::AsRawFd;
    let socket = std::sync::Arc::new(socket);
    let reader = std::sync::Arc::clone(&socket);
    Ends {
        send: Box::new(move |message| {
            send(socket.as_raw_fd(), message, MsgFlags::empty())
                .map(drop)
                .map_err(|e| e.to_string())
        }),
        receive: Box::new(move |bytes| {
            let mut message = vec![0; bytes.max(1)];
            let received = recv(reader.as_raw_fd(), &mut message, MsgFlags::empty())
                .map_err(|e| e.to_string())?;
            if received == 0 {
                return Err("the peer closed the socket".into());
            }
            message.truncate(received);
            Ok(message)
        }),
    }
}

/// The "go" message the main flow sends before it starts its clock.
pub const GO: &[u8] = b"go";

/// Where the two ends of a round trip run while it is timed, beside where the scheduler puts
/// them. A wake-up on the same core is a switch between two threads; across cores it is a
/// signal to the other core, whose cost depends on the machine: on a virtual machine, a
/// sleeping virtual core takes tens of microseconds to wake. Left to the scheduler, a run
/// gets one placement or the other, and its round trip one figure or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Both ends on the first CPU this thread may use.
    OneCore,
    /// The main flow's end on the first, the peer's on the second.
    TwoCores,
}

impl Placement {
    /// The figure's name part: `one_core`, `two_cores`.
    pub fn label(self) -> &'static str {
        match self {
            Placement::OneCore => "one_core",
            Placement::TwoCores => "two_cores",
        }
    }

    /// The placements this thread's CPUs allow (two cores only with two), each with the CPU
    /// of the main flow's end and the peer's. Both ends work it out alike: the peer inherits
    /// the CPUs of the main flow, which is not pinned when it starts a peer.
    pub fn allowed() -> Vec<(Placement, usize, usize)> {
        match allowed_cpus().as_slice() {
            [] => Vec::new(),
            [only] => vec![(Placement::OneCore, *only, *only)],
            [first, second, ..] => vec![
                (Placement::OneCore, *first, *first),
                (Placement::TwoCores, *first, *second),
            ],
        }
    }
}

/// The CPUs the calling thread may run on, lowest first.
fn allowed_cpus() -> Vec<usize> {
    use nix::sched::{CpuSet, sched_getaffinity};
    let Ok(set) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) else {
        return Vec::new();
    };
    (0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect()
}

/// Runs `work` with the calling thread pinned to `cpu`, then gives it back the CPUs it had.
/// Where the kernel refuses the pin, `work` runs where it is, and the error is returned
/// instead of a figure that would not be what its name says.
pub fn on_cpu<T>(cpu: usize, work: impl FnOnce() -> T) -> Result<T, String> {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    let this_thread = nix::unistd::Pid::from_raw(0);
    let before = sched_getaffinity(this_thread).map_err(|e| format!("its CPUs: {e}"))?;
    let mut only = CpuSet::new();
    only.set(cpu).map_err(|e| format!("CPU {cpu}: {e}"))?;
    sched_setaffinity(this_thread, &only).map_err(|e| format!("pinning to CPU {cpu}: {e}"))?;
    let result = work();
    sched_setaffinity(this_thread, &before).map_err(|e| format!("unpinning: {e}"))?;
    Ok(result)
}

/// The peer's side of a channel measurement: wait for "go", stream `messages` messages of
/// `bytes` bytes, then echo `round_trips` messages back; first where the scheduler puts it,
/// then once more in each of [`Placement::allowed`].
pub fn peer(ends: &mut Ends, messages: u64, bytes: usize, round_trips: u64) -> Result<(), String> {
    peer_placed(ends, messages, bytes, round_trips, &Placement::allowed())
}

/// [`peer`] with the placements given: none where the two ends may not share a machine
/// (MPI ranks), whose CPUs are not each other's.
pub fn peer_placed(
    ends: &mut Ends,
    messages: u64,
    bytes: usize,
    round_trips: u64,
    placements: &[(Placement, usize, usize)],
) -> Result<(), String> {
    // One phase: wait for "go", stream, echo.
    let mut phase = || -> Result<(), String> {
        (ends.receive)(GO.len())?;
        for index in 0..messages {
            (ends.send)(&message(index, bytes))?;
        }
        for _ in 0..round_trips {
            let echoed = (ends.receive)(bytes)?;
            (ends.send)(&echoed)?;
        }
        Ok(())
    };
    phase()?;
    for &(_, _, peer_cpu) in placements {
        on_cpu(peer_cpu, &mut phase)??;
    }
    Ok(())
}

/// What the main flow measured of one path and size.
#[derive(Debug, Clone, Copy)]
pub struct PathFigures {
    pub messages: u64,
    pub intact: u64,
    pub seconds: f64,
    pub round_trips: u64,
    pub round_trips_intact: u64,
    pub round_trip_us_median: f64,
    /// The same stream and round trips with the ends placed on purpose: on one core, on two
    /// (indexed by [`Placement`]); `None` where not measured.
    pub placed: [Option<PlacedFigures>; 2],
}

/// A stream's time and the round trips' median with the ends placed on purpose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedFigures {
    pub seconds: f64,
    pub round_trip_us_median: f64,
}

/// The main flow's side: say "go", receive and check the stream (timed), then time each
/// round trip and check the echo.
///
/// Ctrl-C and SIGTERM are looked at before every receive (one atomic load), and no receive
/// waits for long: each waits for a message the peer is sending already (it streams without
/// waiting for us, and echoes at once), or for the close of the peer's end when the peer
/// dies, and a worker holds only its own ends. The receives themselves stay the plain
/// blocking calls of each channel, so that what is timed is the channel alone (ipc-channel's
/// bytes receiver has no timed receive to wait in turns with).
pub fn main_side(
    ends: &mut Ends,
    messages: u64,
    bytes: usize,
    round_trips: u64,
) -> Result<PathFigures, String> {
    main_side_placed(ends, messages, bytes, round_trips, &Placement::allowed())
}

/// [`main_side`] with the placements given, the peer's own.
pub fn main_side_placed(
    ends: &mut Ends,
    messages: u64,
    bytes: usize,
    round_trips: u64,
    placements: &[(Placement, usize, usize)],
) -> Result<PathFigures, String> {
    let not_interrupted = || match interrupt::requested() {
        true => Err(interrupt::Interrupted.to_string()),
        false => Ok(()),
    };
    // One phase: say "go", time the stream, then each round trip; count what came intact.
    let mut phase = || -> Result<(f64, u64, Vec<f64>, u64), String> {
        let started = Instant::now();
        (ends.send)(GO)?;
        let mut intact = 0;
        for index in 0..messages {
            not_interrupted()?;
            intact += u64::from(is_message(&(ends.receive)(bytes)?, index, bytes));
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut round_trips_intact = 0;
        let mut micros = Vec::with_capacity(round_trips as usize);
        for index in 0..round_trips {
            not_interrupted()?;
            let sent = message(index, bytes);
            let started = Instant::now();
            (ends.send)(&sent)?;
            let echoed = (ends.receive)(bytes)?;
            micros.push(started.elapsed().as_secs_f64() * 1e6);
            round_trips_intact += u64::from(echoed == sent);
        }
        Ok((seconds, intact, micros, round_trips_intact))
    };
    let (seconds, intact, micros, round_trips_intact) = phase()?;
    let mut placed = [None, None];
    for &(placement, main_cpu, _) in placements {
        let (seconds, intact, micros, round_trips_intact) = on_cpu(main_cpu, &mut phase)??;
        // What the outcome counts is the first phase's; a placed phase must be whole.
        if intact != messages || round_trips_intact != round_trips {
            return Err(format!(
                "with the ends on {}: {intact} of {messages} messages and {round_trips_intact} \
                 of {round_trips} echoes came intact",
                placement.label().replace('_', " ")
            ));
        }
        placed[placement as usize] = Some(PlacedFigures {
            seconds,
            round_trip_us_median: median_or_zero(&micros),
        });
    }
    Ok(PathFigures {
        messages,
        intact,
        seconds,
        round_trips,
        round_trips_intact,
        round_trip_us_median: median_or_zero(&micros),
        placed,
    })
}

/// How many messages and round trips a size gets: large messages are fewer.
pub fn message_counts(count: u64, bytes: usize) -> (u64, u64) {
    use crate::demos::channel::{FEWEST_MESSAGES, LARGE_BYTES, LARGE_DIVISOR, ROUND_TRIP_DIVISOR};
    let same_bytes_as_large = (u128::from(count) * LARGE_BYTES as u128
        / (u128::from(LARGE_DIVISOR) * bytes.max(1) as u128)) as u64;
    let messages = same_bytes_as_large.clamp(FEWEST_MESSAGES.min(count), count);
    (messages, (messages / ROUND_TRIP_DIVISOR).max(1))
}

/// `8b`, `64kib`, `1mib`, `1500b`: the size as it appears in figure names, exact.
pub fn size_label(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    match bytes {
        0 => "0b".into(),
        _ if bytes.is_multiple_of(MIB) => format!("{}mib", bytes / MIB),
        _ if bytes.is_multiple_of(KIB) => format!("{}kib", bytes / KIB),
        _ => format!("{bytes}b"),
    }
}

/// Records one path's figures under `<path>_<size>_…` and its messages in the outcome.
pub fn record_path(
    run: &crate::run::DemoRun,
    outcome: &mut crate::demos::channel::ChannelOutcome,
    path: &str,
    bytes: usize,
    figures: PathFigures,
) {
    record_figures(run, path, bytes, figures);
    let size = size_label(bytes);
    outcome
        .paths
        .push((format!("{path} {size}"), figures.messages, figures.intact));
    outcome.paths.push((
        format!("{path} {size} round trips"),
        figures.round_trips,
        figures.round_trips_intact,
    ));
}

/// Records one path's figures under `<path>_<size>_…`, without entering the outcome.
pub fn record_figures(run: &crate::run::DemoRun, path: &str, bytes: usize, figures: PathFigures) {
    if run.options().message_size == Some(bytes) {
        // `--message-size`: the same figures under names without the size too, the ones a
        // sweep over the size draws.
        record_figures_named(run, path, bytes, figures);
    }
    let size = size_label(bytes);
    record_figures_named(run, &format!("{path}_{size}"), bytes, figures);
    run.main_says(
        "measured",
        Some(format!(
            "{path} {size}: {} messages, {} round trips",
            figures.messages, figures.round_trips
        )),
    );
}

fn record_figures_named(run: &crate::run::DemoRun, name: &str, bytes: usize, figures: PathFigures) {
    let record = |name: &str, seconds: f64, round_trip_us: f64| {
        let per_second = figures.messages as f64 / seconds;
        run.measured(&format!("{name}_msgs_per_s"), per_second);
        run.measured(&format!("{name}_mb_per_s"), per_second * bytes as f64 / 1e6);
        run.measured(&format!("{name}_round_trip_us"), round_trip_us);
    };
    record(name, figures.seconds, figures.round_trip_us_median);
    for (placement, placed) in [Placement::OneCore, Placement::TwoCores]
        .into_iter()
        .zip(figures.placed)
    {
        if let Some(placed) = placed {
            let name = format!("{name}_{}", placement.label());
            record(&name, placed.seconds, placed.round_trip_us_median);
        }
    }
}

/// Records a baseline's figures under `<baseline>_<size>_…`, and fails unless every message
/// and every echo arrived intact. A baseline is not in the outcome (each backend measures its
/// own, named for what it is), so its messages are checked here.
pub fn record_baseline(
    run: &crate::run::DemoRun,
    baseline: &str,
    bytes: usize,
    figures: PathFigures,
) -> Result<(), DemoError> {
    record_figures(run, baseline, bytes, figures);
    if figures.intact != figures.messages || figures.round_trips_intact != figures.round_trips {
        return Err(DemoError::System(format!(
            "{baseline} {}: {} of {} messages and {} of {} round trips arrived intact",
            size_label(bytes),
            figures.intact,
            figures.messages,
            figures.round_trips_intact,
            figures.round_trips
        )));
    }
    Ok(())
}

/// Records how the backend's channel compares with a baseline measured in the same run:
/// throughput ratio (baseline over channel) and round-trip ratio (channel over baseline);
/// 1.25 or less meets the goal.
pub fn record_channel_over(run: &crate::run::DemoRun, baseline: &str, bytes: usize) {
    let size = size_label(bytes);
    let get = |name: String| run.measured_value(&name).unwrap_or(f64::NAN);
    run.measured(
        &format!("throughput_{baseline}_over_channel_{size}"),
        get(format!("{baseline}_{size}_msgs_per_s")) / get(format!("channel_{size}_msgs_per_s")),
    );
    run.measured(
        &format!("round_trip_channel_over_{baseline}_{size}"),
        get(format!("channel_{size}_round_trip_us"))
            / get(format!("{baseline}_{size}_round_trip_us")),
    );
}

/// Records the spawn demo's costs: through the backend's `Workers`, and the bare OS call.
pub fn record_spawn_costs(run: &crate::run::DemoRun, through_workers_us: &[f64], raw_us: &[f64]) {
    let (workers, raw) = (median_or_zero(through_workers_us), median_or_zero(raw_us));
    run.measured("worker_start_join_us", workers);
    run.measured("raw_os_us", raw);
    run.measured("worker_over_raw", workers / raw);
}

/// The CPU a measurement "on one core" runs on: the first this thread may use (`None` when
/// the kernel does not say).
pub fn one_core() -> Option<usize> {
    Placement::allowed().first().map(|&(_, cpu, _)| cpu)
}

/// Records the spawn demo's costs measured with the main flow pinned to one core, where its
/// workers start too: no wake-up waits for another core (see [`Placement`]).
pub fn record_spawn_costs_on_one_core(
    run: &crate::run::DemoRun,
    through_workers_us: &[f64],
    raw_us: &[f64],
) {
    let (workers, raw) = (median_or_zero(through_workers_us), median_or_zero(raw_us));
    run.measured("worker_start_join_one_core_us", workers);
    run.measured("raw_os_one_core_us", raw);
}

/// Records the all-at-once pass of `spawn`: `workers` started before any is joined, each
/// pass's wall time over `workers`.
pub fn record_all_at_once(run: &crate::run::DemoRun, workers: usize, pass_us: &[f64]) {
    run.measured(
        "all_at_once_us_per_worker",
        median_or_zero(pass_us) / workers as f64,
    );
    run.main_says(
        "started and joined",
        Some(format!(
            "{workers} workers at once, {} times",
            pass_us.len()
        )),
    );
}

/// Records the figures of one start method (`fork`, `spawn`, `forkserver`): through the
/// backend's workers and bare, in microseconds, and their ratio; once fork's are in too, what
/// each other method costs over fork.
pub fn record_method_costs(
    run: &crate::run::DemoRun,
    method: &str,
    workers_us: &[f64],
    raw_us: &[f64],
) {
    let (workers, raw) = (median_or_zero(workers_us), median_or_zero(raw_us));
    run.measured(&format!("{method}_worker_start_join_us"), workers);
    run.measured(&format!("{method}_raw_os_us"), raw);
    run.measured(&format!("{method}_worker_over_raw"), workers / raw);
    use crate::domain::StartMethod;
    let Some(fork) = run.measured_value("fork_worker_start_join_us") else {
        return;
    };
    for other in StartMethod::ALL.map(StartMethod::id) {
        if other == StartMethod::Fork.id() {
            continue;
        }
        if let Some(cost) = run.measured_value(&format!("{other}_worker_start_join_us")) {
            run.measured(&format!("{other}_over_fork"), cost / fork);
        }
    }
}

/// Records the bare OS cost after the parent touched `mib` MiB, and the cost per MiB.
pub fn record_touched_cost(run: &crate::run::DemoRun, mib: usize, raw_us: &[f64]) {
    let cost = median_or_zero(raw_us);
    run.measured(&format!("raw_os_us_touched_{mib}_mib"), cost);
    if run.options().touched_mib == Some(mib) {
        run.measured("raw_os_us_touched", cost);
    }
    if mib > 0
        && let Some(untouched) = run.measured_value("raw_os_us_touched_0_mib")
    {
        run.measured("raw_os_us_per_touched_mib", (cost - untouched) / mib as f64);
    }
    // The cost itself goes in the figures: events hold no timings, so that both backends'
    // events can be compared.
    run.main_says(
        "measured",
        Some(format!("start and join after touching {mib} MiB")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_their_index() {
        assert!(is_message(&message(7, 8), 7, 8));
        assert!(!is_message(&message(7, 8), 8, 8));
        assert!(is_message(&message(3, 65536), 3, 65536));
        assert!(!is_message(&message(3, 65536)[..100], 3, 65536));
        let mut torn = message(3, 65536);
        torn[40_000] = 4;
        assert!(!is_message(&torn, 3, 65536));
    }

    #[test]
    fn sizes_are_named_exactly() {
        assert_eq!(size_label(8), "8b");
        assert_eq!(size_label(1500), "1500b");
        assert_eq!(size_label(65536), "64kib");
        assert_eq!(size_label(1 << 20), "1mib");
        assert_eq!(size_label(3 << 19), "1536kib");
    }

    #[test]
    fn touched_memory_has_every_page_written() {
        let memory = touch_memory(1);
        assert_eq!(memory.len(), 1 << 20);
        assert!(memory.chunks(4096).all(|page| page[0] == 1));
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;
    use crate::demos::DemoId;
    use crate::demos::channel::ChannelOutcome;
    use crate::outcome::testing::demo_run;

    #[test]
    fn spawn_costs_are_medians_and_their_ratios() {
        let run = demo_run(DemoId::Spawn, Default::default());
        record_spawn_costs(&run, &[30.0, 10.0, 20.0], &[4.0, 6.0, 5.0]);
        assert_eq!(run.measured_value("worker_start_join_us"), Some(20.0));
        assert_eq!(run.measured_value("raw_os_us"), Some(5.0));
        assert_eq!(run.measured_value("worker_over_raw"), Some(4.0));

        record_method_costs(&run, "fork", &[8.0, 10.0, 12.0], &[2.0, 3.0, 4.0]);
        assert_eq!(run.measured_value("fork_worker_start_join_us"), Some(10.0));
        assert_eq!(run.measured_value("fork_raw_os_us"), Some(3.0));
        assert_eq!(
            run.measured_value("spawn_over_fork"),
            None,
            "spawn not measured yet"
        );
        assert_eq!(run.measured_value("fork_worker_over_raw"), Some(10.0 / 3.0));
        record_method_costs(&run, "spawn", &[30.0, 40.0, 50.0], &[8.0]);
        assert_eq!(run.measured_value("spawn_over_fork"), Some(4.0));
        assert_eq!(run.measured_value("spawn_worker_over_raw"), Some(5.0));
        assert_eq!(run.measured_value("forkserver_over_fork"), None);
        record_method_costs(&run, "forkserver", &[15.0, 25.0], &[10.0]);
        assert_eq!(run.measured_value("forkserver_over_fork"), Some(2.0));
        assert_eq!(run.measured_value("forkserver_worker_over_raw"), Some(2.0));
        assert_eq!(run.measured_value("spawn_over_fork"), Some(4.0));

        record_touched_cost(&run, 0, &[100.0]);
        assert_eq!(run.measured_value("raw_os_us_per_touched_mib"), None);
        record_touched_cost(&run, 64, &[228.0, 228.0]);
        assert_eq!(run.measured_value("raw_os_us_touched_64_mib"), Some(228.0));
        assert_eq!(run.measured_value("raw_os_us_per_touched_mib"), Some(2.0));
    }

    #[test]
    fn a_path_s_rates_come_from_its_messages_and_its_time() {
        let run = demo_run(DemoId::Channel, Default::default());
        let mut outcome = ChannelOutcome { paths: vec![] };
        let figures = |messages, seconds, round_trip_us_median| PathFigures {
            messages,
            intact: messages,
            seconds,
            round_trips: messages / 10,
            round_trips_intact: messages / 10,
            round_trip_us_median,
            placed: [
                Some(PlacedFigures {
                    seconds: seconds / 2.0,
                    round_trip_us_median: round_trip_us_median / 2.0,
                }),
                None,
            ],
        };
        record_path(&run, &mut outcome, "channel", 8, figures(1000, 1.0, 10.0));
        record_baseline(&run, "slot", 8, figures(1000, 0.5, 5.0)).unwrap();
        record_figures(&run, "slot", 65536, figures(100, 0.5, 40.0));
        assert_eq!(run.measured_value("slot_8b_msgs_per_s"), Some(2000.0));
        // 2000 messages of 8 bytes a second.
        assert_eq!(run.measured_value("slot_8b_mb_per_s"), Some(0.016));
        assert_eq!(run.measured_value("slot_8b_round_trip_us"), Some(5.0));
        // Placed on purpose: on one core here (twice as fast), not on two.
        assert_eq!(
            run.measured_value("slot_8b_one_core_msgs_per_s"),
            Some(4000.0)
        );
        assert_eq!(
            run.measured_value("slot_8b_one_core_round_trip_us"),
            Some(2.5)
        );
        assert_eq!(run.measured_value("slot_8b_two_cores_round_trip_us"), None);
        // 200 messages of 64 KiB a second.
        assert_eq!(run.measured_value("slot_64kib_mb_per_s"), Some(13.1072));
        record_channel_over(&run, "slot", 8);
        assert_eq!(
            run.measured_value("throughput_slot_over_channel_8b"),
            Some(2.0)
        );
        assert_eq!(
            run.measured_value("round_trip_channel_over_slot_8b"),
            Some(2.0)
        );
        let paths: Vec<(&str, u64, u64)> = (outcome.paths.iter())
            .map(|(path, sent, intact)| (path.as_str(), *sent, *intact))
            .collect();
        // A baseline is not in the outcome: each backend has its own.
        assert_eq!(
            paths,
            [
                ("channel 8b", 1000, 1000),
                ("channel 8b round trips", 100, 100)
            ]
        );
        let torn = PathFigures {
            intact: 999,
            ..figures(1000, 0.5, 5.0)
        };
        assert_eq!(
            record_baseline(&run, "slot", 8, torn)
                .unwrap_err()
                .to_string(),
            "slot 8b: 999 of 1000 messages and 100 of 100 round trips arrived intact"
        );
    }

    #[test]
    fn on_cpu_pins_this_thread_for_the_work_and_gives_its_cpus_back() {
        use nix::sched::sched_getaffinity;
        let this_thread = nix::unistd::Pid::from_raw(0);
        let before = sched_getaffinity(this_thread).unwrap();
        let cpus = allowed_cpus();
        let last = *cpus.last().unwrap();
        let inside = on_cpu(last, allowed_cpus).unwrap();
        assert_eq!(inside, [last]);
        assert_eq!(allowed_cpus(), cpus);
        assert_eq!(sched_getaffinity(this_thread).unwrap(), before);
        // A CPU the set cannot hold is refused, and nothing is pinned.
        assert!(on_cpu(usize::MAX, || ()).is_err());
        assert_eq!(allowed_cpus(), cpus);
        // Two cores are offered only with two CPUs, each end on its own.
        let placements = Placement::allowed();
        assert_eq!(placements.len(), cpus.len().min(2));
        assert_eq!(placements[0], (Placement::OneCore, cpus[0], cpus[0]));
        if let [_, two] = placements[..] {
            assert_eq!(two, (Placement::TwoCores, cpus[0], cpus[1]));
        }
    }

    #[test]
    fn large_messages_and_round_trips_are_fewer() {
        assert_eq!(message_counts(2000, 8), (2000, 200));
        assert_eq!(message_counts(2000, 65536), (100, 10));
        // Never fewer than 20 (or --count, if less): a size's figure needs its spread.
        assert_eq!(message_counts(10, 65536), (10, 1));
        assert_eq!(message_counts(10_000, 1 << 20), (31, 3));
        assert_eq!(message_counts(100, 1 << 20), (20, 2));
    }
}
