//! `channel` (beyond the notebook) on threads: messages per second and round trips through
//! crossbeam-channel between two threads, next to the plainest hand-off between two threads
//! (one slot under a `Mutex`, a `Condvar` to sleep on: the baseline a channel must beat) and
//! a stream socketpair (what processes pay for a kernel in between).
//!
//! std's `mpsc` is not measured: since Rust 1.67 it is a port of crossbeam-channel, so it
//! would compare the channel with itself.

use crate::workers::Workers;
use contract::bench::{
    Ends, PathFigures, main_side, message_counts, peer, record_baseline, record_channel_over,
    record_path, socketpair_ends,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{BASELINE_PEER, PEER, message_sizes};
use contract::{DemoError, DemoRun};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in message_sizes(run) {
        let (peer_ends, main_ends) = crossbeam_ends();
        let figures = measure(run, PEER, count, bytes, peer_ends, main_ends)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let (peer_ends, main_ends) = mutex_condvar_slot_ends();
        let figures = measure(run, BASELINE_PEER, count, bytes, peer_ends, main_ends)?;
        record_baseline(run, "mutex_condvar_slot", bytes, figures)?;
        record_channel_over(run, "mutex_condvar_slot", bytes);

        let (peer_ends, main_ends) = socketpair_ends()?;
        let figures = measure(run, BASELINE_PEER, count, bytes, peer_ends, main_ends)?;
        record_baseline(run, "stream_socketpair", bytes, figures)?;
    }
    Ok(outcome)
}

/// A peer thread streams and echoes; the main flow receives, checks and times.
fn measure(
    run: &DemoRun,
    peer_name: &str,
    count: u64,
    bytes: usize,
    mut peer_ends: Ends,
    mut main_ends: Ends,
) -> Result<PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut workers = Workers::new(run);
    let id = workers.start(peer_name, move |out| {
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

/// One message in flight at most, moved as an owned `Vec` as through the channel: a sender
/// waits while the slot is full, a receiver while it is empty, both on one `Condvar`.
#[derive(Default)]
struct MutexCondvarSlot {
    state: Mutex<SlotState>,
    changed: Condvar,
}

#[derive(Default)]
struct SlotState {
    message: Option<Vec<u8>>,
    /// One end was dropped: nothing more will come or be taken.
    closed: bool,
}

impl MutexCondvarSlot {
    fn state(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn send(&self, message: &[u8]) -> Result<(), String> {
        let state = self.state();
        let mut state = (self.changed)
            .wait_while(state, |s| s.message.is_some() && !s.closed)
            .unwrap_or_else(|poison| poison.into_inner());
        if state.closed {
            return Err("the other end is gone".into());
        }
        state.message = Some(message.to_vec());
        self.changed.notify_all();
        Ok(())
    }

    fn receive(&self) -> Result<Vec<u8>, String> {
        let state = self.state();
        let mut state = (self.changed)
            .wait_while(state, |s| s.message.is_none() && !s.closed)
            .unwrap_or_else(|poison| poison.into_inner());
        let message = state.message.take().ok_or("the other end is gone")?;
        self.changed.notify_all();
        Ok(message)
    }

    fn close(&self) {
        self.state().closed = true;
        self.changed.notify_all();
    }
}

/// Closes both slots when one side's ends are dropped, as dropping a channel's ends does.
struct ClosesOnDrop([Arc<MutexCondvarSlot>; 2]);

impl Drop for ClosesOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(|slot| slot.close());
    }
}

/// Two one-slot hand-offs, one each way.
fn mutex_condvar_slot_ends() -> (Ends, Ends) {
    let to_peer = Arc::new(MutexCondvarSlot::default());
    let to_main = Arc::new(MutexCondvarSlot::default());
    let ends = |outbox: Arc<MutexCondvarSlot>, inbox: Arc<MutexCondvarSlot>| {
        let closer = ClosesOnDrop([Arc::clone(&outbox), Arc::clone(&inbox)]);
        Ends {
            send: Box::new(move |message| outbox.send(message)),
            receive: Box::new(move |_| {
                let _closes_with_these_ends = &closer;
                inbox.receive()
            }),
        }
    };
    let peer_ends = ends(Arc::clone(&to_main), Arc::clone(&to_peer));
    (peer_ends, ends(to_peer, to_main))
}
