//! `channel`'s baseline between processes: one message at a time through a slot in a shared
//! memory file, each way, with a futex to sleep on. The least a message between two processes
//! can cost: one copy in, one copy out, and a `FUTEX_WAKE` only when the other side sleeps;
//! no kernel buffer, no serialisation, no second process in between.
//!
//! A message larger than the slot (64 KiB) crosses in slot-sized pieces, each with the number
//! of bytes still to come, as ipc-channel splits a message larger than a socket takes.
//!
//! A slot's word says whether it is empty, full or closed; each side sleeps on that word
//! (a shared futex) while it is not what it waits for, and counts itself among the sleepers
//! before it looks a last time, so that the other side, which looks at the sleepers after
//! changing the word, never misses it.

use super::ProcessShared;
use crate::sync::{futex_wait, futex_wake_all};
use contract::demos::channel::LARGE_BYTES;
use contract::interrupt;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one sleep lasts before the sleeper looks at Ctrl-C and at the other side.
const TURN: Duration = Duration::from_millis(20);

/// The state word: no bit set is an empty slot.
const EMPTY: u32 = 0;
/// A message is in the slot.
const FULL: u32 = 1;
/// One side's ends were dropped: nothing more is sent; a message still in the slot may be
/// taken.
const CLOSED: u32 = 2;

/// The bytes one piece of a message carries: the slot's size.
const SLOT_BYTES: usize = LARGE_BYTES;

/// One piece of a message at most, from one process to one other.
pub struct Mailbox {
    state: AtomicU32,
    sleepers: AtomicU32,
    /// The bytes of the piece in the slot.
    len: AtomicUsize,
    /// The bytes of the message still to come after this piece: 0 for its last piece.
    still_to_come: AtomicUsize,
    /// Written by the sender only while `state` is EMPTY, read by the receiver only while it
    /// is FULL: never by both at once.
    bytes: UnsafeCell<[u8; SLOT_BYTES]>,
}

impl Default for Mailbox {
    fn default() -> Self {
        Mailbox {
            state: AtomicU32::new(EMPTY),
            sleepers: AtomicU32::new(0),
            len: AtomicUsize::new(0),
            still_to_come: AtomicUsize::new(0),
            bytes: UnsafeCell::new([0; SLOT_BYTES]),
        }
    }
}

/// A mailbox each way between the main flow (the parent) and its peer worker.
#[derive(Default)]
pub struct MailboxPair {
    pub to_peer: Mailbox,
    pub to_main: Mailbox,
    /// The peer's process id, written by the peer when it starts: the main flow, its
    /// parent, looks whether it has ended while it waits for it.
    pub peer_pid: AtomicI32,
}

// SAFETY: the bytes of a mailbox are touched by one side at a time, as its state word says
// (see `Mailbox::bytes`); everything else is atomic.
unsafe impl Sync for MailboxPair {}

// SAFETY: atomics and plain bytes: no pointers, no destructor.
unsafe impl ProcessShared for MailboxPair {}

impl Mailbox {
    /// Waits while the state word is `unwanted`, in turns; returns the word as it is now.
    /// Looks at Ctrl-C before each turn, and asks `other_side_ended` after a whole turn went
    /// by unwoken (not before every sleep: it may be a system call, and the hand-off is timed).
    fn wait_while(
        &self,
        unwanted: u32,
        other_side_ended: &dyn Fn() -> bool,
    ) -> Result<u32, String> {
        loop {
            let state = self.state.load(Ordering::SeqCst);
            if state != unwanted {
                return Ok(state);
            }
            if interrupt::requested() {
                return Err(interrupt::Interrupted.to_string());
            }
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            let turn = Instant::now();
            // Sleeps only if the word is still `unwanted`: a change made after the load
            // above is not slept through.
            futex_wait(&self.state, unwanted, TURN);
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            if turn.elapsed() >= TURN && other_side_ended() {
                return Err("the other side ended".into());
            }
        }
    }

    fn wake_sleepers(&self) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            futex_wake_all(&self.state);
        }
    }

    /// Copies `message` in, one slot-sized piece each time the slot is empty.
    pub fn send(&self, message: &[u8], other_side_ended: &dyn Fn() -> bool) -> Result<(), String> {
        let mut rest = message;
        loop {
            let (piece, after) = rest.split_at(rest.len().min(SLOT_BYTES));
            self.send_piece(piece, after.len(), other_side_ended)?;
            if after.is_empty() {
                return Ok(());
            }
            rest = after;
        }
    }

    fn send_piece(
        &self,
        piece: &[u8],
        still_to_come: usize,
        other_side_ended: &dyn Fn() -> bool,
    ) -> Result<(), String> {
        if self.wait_while(FULL, other_side_ended)? & CLOSED != 0 {
            return Err("the other side is gone".into());
        }
        // SAFETY: the state is EMPTY, so the receiver does not read the bytes until this
        // side sets FULL below (after the copy, with SeqCst, which publishes the bytes).
        let bytes = unsafe { &mut *self.bytes.get() };
        bytes[..piece.len()].copy_from_slice(piece);
        self.len.store(piece.len(), Ordering::Relaxed);
        self.still_to_come.store(still_to_come, Ordering::Relaxed);
        if self.state.fetch_or(FULL, Ordering::SeqCst) & CLOSED != 0 {
            return Err("the other side is gone".into());
        }
        self.wake_sleepers();
        Ok(())
    }

    /// Copies the next message out, piece by piece as the slot fills.
    pub fn receive(&self, other_side_ended: &dyn Fn() -> bool) -> Result<Vec<u8>, String> {
        let mut message = Vec::new();
        loop {
            if self.wait_while(EMPTY, other_side_ended)? & FULL == 0 {
                return Err("the other side is gone".into());
            }
            let len = self.len.load(Ordering::Relaxed).min(SLOT_BYTES);
            let still_to_come = self.still_to_come.load(Ordering::Relaxed);
            // SAFETY: the state is FULL (read with SeqCst after the sender's copy), so the
            // sender does not write the bytes until this side sets EMPTY below.
            let bytes = unsafe { &*self.bytes.get() };
            message.reserve(len + still_to_come);
            message.extend_from_slice(&bytes[..len]);
            // Empty again, and closed if it was.
            self.state.fetch_and(!FULL, Ordering::SeqCst);
            self.wake_sleepers();
            if still_to_come == 0 {
                return Ok(message);
            }
        }
    }

    /// Marks the slot closed and wakes whoever sleeps on it.
    pub fn close(&self) {
        self.state.fetch_or(CLOSED, Ordering::SeqCst);
        futex_wake_all(&self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_memory::SharedMapping;

    #[test]
    fn messages_cross_one_at_a_time_and_a_close_ends_the_wait() {
        let pair = SharedMapping::new(MailboxPair::default()).unwrap();
        let pair: &MailboxPair = &pair;
        let never = || false;
        std::thread::scope(|scope| {
            let echo = scope.spawn(|| {
                while let Ok(message) = pair.to_peer.receive(&never) {
                    pair.to_main.send(&message, &never).unwrap();
                }
            });
            // Up to three slots' worth: the larger ones cross in pieces.
            for n in 0..1000u32 {
                let message: Vec<u8> = (0..1 + n as usize * 200).map(|i| (i % 251) as u8).collect();
                pair.to_peer.send(&message, &never).unwrap();
                assert_eq!(pair.to_main.receive(&never).unwrap(), message);
            }
            pair.to_peer.close();
            echo.join().unwrap();
        });
        // A message sent before the close is still taken, once.
        pair.to_main.send(b"last", &never).unwrap();
        pair.to_main.close();
        assert_eq!(pair.to_main.receive(&never), Ok(b"last".to_vec()));
        assert!(pair.to_main.receive(&never).is_err());
        assert!(pair.to_peer.send(b"late", &never).is_err());
        // A receiver whose other side ended stops waiting, after one turn.
        let fresh = Mailbox::default();
        assert_eq!(fresh.receive(&|| true), Err("the other side ended".into()));
    }
}
