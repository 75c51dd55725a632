//! `channel` (beyond the notebook) on tasks: messages per second and round trips through
//! tokio's `mpsc` channel between the main flow and a peer task, next to crossbeam-channel
//! between two threads, measured in the same run (what a thread pays for the same hand-off
//! when it blocks instead of awaiting).
//!
//! A receive on an empty tokio channel parks the task and hands its worker thread to the
//! runtime; the send wakes it through the runtime's scheduler. crossbeam parks and unparks
//! the thread itself, through the kernel.

use crate::workers::{Workers, in_turns, on_runtime};
use contract::bench::{
    Ends, GO, PathFigures, PlacedFigures, Placement, is_message, main_side, median_or_zero,
    message, message_counts, on_cpu, peer, record_baseline, record_channel_over, record_path,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{PEER, message_sizes};
use contract::{DemoError, DemoRun, EventSink, interrupt};
use std::time::Instant;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// The baseline: crossbeam-channel between two threads, as `threads` measures its channel.
const CROSSBEAM: &str = "crossbeam_channel";

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in message_sizes(run) {
        let mut figures =
            on_runtime(run, |run| async move { measure(&run, count, bytes).await })?;
        figures.placed = placed(count, bytes)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let figures = crossbeam_between_threads(count, bytes)?;
        record_baseline(run, CROSSBEAM, bytes, figures)?;
        record_channel_over(run, CROSSBEAM, bytes);
    }
    Ok(outcome)
}

/// Two tokio channels, one each way: a peer task streams and echoes; the main flow receives,
/// checks and times.
async fn measure(run: &DemoRun, count: u64, bytes: usize) -> Result<PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let (to_peer, peer_inbox) = unbounded_channel::<Vec<u8>>();
    let (to_main, mut main_inbox) = unbounded_channel::<Vec<u8>>();
    let mut workers = Workers::new(run);
    let id = workers
        .start(PEER, move |out| async move {
            out.emit("ready", None);
            async_peer(peer_inbox, to_main, messages, bytes, round_trips).await
        })
        .await?;
    let figures = async_main_side(&to_peer, &mut main_inbox, messages, bytes, round_trips).await;
    // Closing our ends ends a peer that still waits for us.
    drop((to_peer, main_inbox));
    workers
        .join(id)
        .await?
        .map_err(|e| DemoError::System(format!("the peer: {e}")))?;
    figures
}

/// The same stream and round trips with the ends placed on purpose (as `contract::bench`
/// places threads): each end's task on a current-thread runtime of a thread pinned to its
/// core. On one core both tasks share one such runtime; on two each end has its own.
fn placed(count: u64, bytes: usize) -> Result<[Option<PlacedFigures>; 2], DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut placed = [None, None];
    for (placement, main_cpu, peer_cpu) in Placement::allowed() {
        let (to_peer, peer_inbox) = unbounded_channel::<Vec<u8>>();
        let (to_main, mut main_inbox) = unbounded_channel::<Vec<u8>>();
        let peer = async_peer(peer_inbox, to_main, messages, bytes, round_trips);
        let main_side = async move {
            let figures =
                async_main_side(&to_peer, &mut main_inbox, messages, bytes, round_trips).await;
            drop((to_peer, main_inbox));
            figures
        };
        let figures = match placement {
            Placement::OneCore => on_cpu(main_cpu, || {
                current_thread()?.block_on(async move {
                    let peer = tokio::spawn(peer);
                    let figures = main_side.await;
                    peer_ended(peer.await.ok())?;
                    figures
                })
            }),
            Placement::TwoCores => {
                let peer = std::thread::Builder::new()
                    .name(PEER.into())
                    .spawn(move || {
                        on_cpu(peer_cpu, || {
                            current_thread()
                                .map_err(|e| e.to_string())?
                                .block_on(peer)
                        })
                        .and_then(|ended| ended)
                    })
                    .map_err(|e| DemoError::system("spawning a thread", e))?;
                let figures = on_cpu(main_cpu, || current_thread()?.block_on(main_side));
                peer_ended(peer.join().ok())?;
                figures
            }
        }
        .map_err(DemoError::System)??;
        if figures.intact != messages || figures.round_trips_intact != round_trips {
            return Err(DemoError::System(format!(
                "with the ends on {}: {} of {messages} messages and {} of {round_trips} echoes \
                 came intact",
                placement.label().replace('_', " "),
                figures.intact,
                figures.round_trips_intact
            )));
        }
        placed[placement as usize] = Some(PlacedFigures {
            seconds: figures.seconds,
            round_trip_us_median: figures.round_trip_us_median,
        });
    }
    Ok(placed)
}

/// A runtime on the calling thread alone, with timers (the main side waits in turns).
fn current_thread() -> Result<tokio::runtime::Runtime, DemoError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| DemoError::system("building a runtime", e))
}

/// A placed peer's end: `None` when it panicked, else what it returned.
fn peer_ended(ended: Option<Result<(), String>>) -> Result<(), DemoError> {
    match ended {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(DemoError::System(format!("the placed peer: {e}"))),
        None => Err(DemoError::System("the placed peer panicked".into())),
    }
}

/// The peer's side (`contract::bench::peer`), awaited: wait for "go", stream `messages`
/// messages, then echo `round_trips` messages back.
async fn async_peer(
    mut inbox: UnboundedReceiver<Vec<u8>>,
    outbox: UnboundedSender<Vec<u8>>,
    messages: u64,
    bytes: usize,
    round_trips: u64,
) -> Result<(), String> {
    let gone = || "the other end is gone".to_string();
    inbox.recv().await.ok_or_else(gone)?;
    for index in 0..messages {
        outbox.send(message(index, bytes)).map_err(|_| gone())?;
    }
    for _ in 0..round_trips {
        let echoed = inbox.recv().await.ok_or_else(gone)?;
        outbox.send(echoed).map_err(|_| gone())?;
    }
    Ok(())
}

/// The main flow's side (`contract::bench::main_side`), awaited: say "go", receive and check
/// the stream (timed), then time each round trip and check the echo. Each receive waits in
/// turns, so Ctrl-C is honoured within one.
async fn async_main_side(
    outbox: &UnboundedSender<Vec<u8>>,
    inbox: &mut UnboundedReceiver<Vec<u8>>,
    messages: u64,
    bytes: usize,
    round_trips: u64,
) -> Result<PathFigures, DemoError> {
    let gone = || DemoError::System("the peer's end is gone".into());
    let started = Instant::now();
    outbox.send(GO.to_vec()).map_err(|_| gone())?;
    let mut intact = 0;
    for index in 0..messages {
        let received = receive(inbox).await?.ok_or_else(gone)?;
        intact += u64::from(is_message(&received, index, bytes));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut round_trips_intact = 0;
    let mut micros = Vec::with_capacity(round_trips as usize);
    for index in 0..round_trips {
        let sent = message(index, bytes);
        let started = Instant::now();
        outbox.send(sent.clone()).map_err(|_| gone())?;
        let echoed = receive(inbox).await?.ok_or_else(gone)?;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        round_trips_intact += u64::from(echoed == sent);
    }
    Ok(PathFigures {
        messages,
        intact,
        seconds,
        round_trips,
        round_trips_intact,
        round_trip_us_median: median_or_zero(&micros),
        // A task runs on whichever runtime thread takes it: it cannot be placed on a core.
        placed: [None, None],
    })
}

/// The next message: at once when one is there (the common case, timed as it is), otherwise
/// awaited in turns.
async fn receive(inbox: &mut UnboundedReceiver<Vec<u8>>) -> Result<Option<Vec<u8>>, DemoError> {
    if interrupt::requested() {
        return Err(DemoError::Interrupted);
    }
    match inbox.try_recv() {
        Ok(message) => Ok(Some(message)),
        Err(_) => Ok(in_turns(&mut std::pin::pin!(inbox.recv())).await?),
    }
}

/// The same measurement through crossbeam-channel, a peer thread against the main thread,
/// outside the runtime: the contract's own peer and main side.
fn crossbeam_between_threads(count: u64, bytes: usize) -> Result<PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let (to_peer, peer_inbox) = crossbeam_channel::unbounded::<Vec<u8>>();
    let (to_main, main_inbox) = crossbeam_channel::unbounded::<Vec<u8>>();
    let ends = |sender: crossbeam_channel::Sender<Vec<u8>>,
                receiver: crossbeam_channel::Receiver<Vec<u8>>| Ends {
        send: Box::new(move |message| sender.send(message.to_vec()).map_err(|e| e.to_string())),
        receive: Box::new(move |_| receiver.recv().map_err(|e| e.to_string())),
    };
    let mut peer_ends = ends(to_main, peer_inbox);
    let mut main_ends = ends(to_peer, main_inbox);
    let peer_thread = std::thread::Builder::new()
        .name("baseline-peer".into())
        .spawn(move || peer(&mut peer_ends, messages, bytes, round_trips))
        .map_err(|e| DemoError::system("spawning a thread", e))?;
    let figures = main_side(&mut main_ends, messages, bytes, round_trips);
    // Closing our ends ends a peer that still waits for us.
    drop(main_ends);
    peer_thread
        .join()
        .map_err(|_| DemoError::System("the crossbeam peer panicked".into()))?
        .map_err(|e| DemoError::System(format!("the crossbeam peer: {e}")))?;
    figures.map_err(DemoError::System)
}
