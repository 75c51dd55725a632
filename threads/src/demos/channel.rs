//! `channel` (beyond the notebook) on threads: messages per second and round trips through
//! crossbeam-channel between two threads, next to std's own channel (the raw figure for
//! the same kind of channel: an in-memory queue) and a raw socketpair (what processes use).

use crate::workers::Workers;
use contract::bench::{
    Ends, main_side, message_counts, peer, record_channel_over_raw, record_figures, record_path,
    socketpair_ends,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{LARGE_BYTES, SMALL_BYTES};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in [SMALL_BYTES, LARGE_BYTES] {
        let (peer_ends, main_ends) = crossbeam_ends();
        let figures = measure(run, count, bytes, peer_ends, main_ends)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let (peer_ends, main_ends) = std_channel_ends();
        let figures = measure(run, count, bytes, peer_ends, main_ends)?;
        record_path(run, &mut outcome, "raw", bytes, figures);
        record_channel_over_raw(run, bytes);

        let (peer_ends, main_ends) = socketpair_ends()?;
        let figures = measure(run, count, bytes, peer_ends, main_ends)?;
        record_figures(run, "socketpair", bytes, figures);
    }
    Ok(outcome)
}

/// A peer thread streams and echoes; the main flow receives, checks and times.
fn measure(
    run: &DemoRun,
    count: u64,
    bytes: usize,
    mut peer_ends: Ends,
    mut main_ends: Ends,
) -> Result<contract::bench::PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut workers = Workers::new(run);
    let id = workers.start("peer", move |out| {
        out.emit("ready", None);
        peer(&mut peer_ends, messages, bytes, round_trips)
    })?;
    let figures = main_side(&mut main_ends, messages, bytes, round_trips);
    // Closing our ends ends a peer that still waits for us.
    drop(main_ends);
    workers
        .join(id)?
        .map_err(|e| DemoError::System(format!("the peer: {e}")))?;
    figures.map_err(DemoError::System)
}

/// Two crossbeam channels, one each way: messages move between threads as owned `Vec`s.
fn crossbeam_ends() -> (Ends, Ends) {
    let (to_peer, peer_inbox) = crossbeam_channel::unbounded::<Vec<u8>>();
    let (to_main, main_inbox) = crossbeam_channel::unbounded::<Vec<u8>>();
    let ends = |sender: crossbeam_channel::Sender<Vec<u8>>,
                receiver: crossbeam_channel::Receiver<Vec<u8>>| Ends {
        send: Box::new(move |message| sender.send(message.to_vec()).map_err(|e| e.to_string())),
        receive: Box::new(move |_| receiver.recv().map_err(|e| e.to_string())),
    };
    (ends(to_main, peer_inbox), ends(to_peer, main_inbox))
}

/// Two `std::sync::mpsc` channels: the standard library's in-memory queue.
fn std_channel_ends() -> (Ends, Ends) {
    let (to_peer, peer_inbox) = std::sync::mpsc::channel::<Vec<u8>>();
    let (to_main, main_inbox) = std::sync::mpsc::channel::<Vec<u8>>();
    let ends = |sender: std::sync::mpsc::Sender<Vec<u8>>,
                receiver: std::sync::mpsc::Receiver<Vec<u8>>| Ends {
        send: Box::new(move |message| sender.send(message.to_vec()).map_err(|e| e.to_string())),
        receive: Box::new(move |_| receiver.recv().map_err(|e| e.to_string())),
    };
    (ends(to_main, peer_inbox), ends(to_peer, main_inbox))
}
