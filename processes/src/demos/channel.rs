//! `channel` (beyond the notebook) on processes: messages per second and round trips through
//! ipc-channel between the parent and a worker process, next to a raw `SOCK_SEQPACKET`
//! socketpair (the raw figure for the same kind of channel: it is what ipc-channel sends
//! over) and a raw stream socketpair.

use crate::workers::{Job, Workers, take_inherited};
use contract::bench::{
    Ends, Socket, main_side, message_counts, peer, raw_socketpair, record_channel_over_raw,
    record_figures, record_path, socket_ends,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{LARGE_BYTES, SMALL_BYTES};
use contract::{DemoError, DemoRun, EventSink};
use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender};
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

crate::spawned::jobs!(Peer);

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in [SMALL_BYTES, LARGE_BYTES] {
        let (peer_end, main_ends) = ipc_ends()?;
        let figures = measure(run, count, bytes, peer_end, main_ends)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let (peer_end, main_ends) = socket_pair(Socket::SeqPacket)?;
        let figures = measure(run, count, bytes, peer_end, main_ends)?;
        record_path(run, &mut outcome, "raw", bytes, figures);
        record_channel_over_raw(run, bytes);

        let (peer_end, main_ends) = socket_pair(Socket::Stream)?;
        let figures = measure(run, count, bytes, peer_end, main_ends)?;
        record_figures(run, "socketpair", bytes, figures);
    }
    Ok(outcome)
}

/// A peer worker streams and echoes; the main flow (the parent) receives, checks and times.
fn measure(
    run: &DemoRun,
    count: u64,
    bytes: usize,
    (link, socket_kept_until_started): (PeerLink, Option<OwnedFd>),
    mut main_ends: Ends,
) -> Result<contract::bench::PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut workers = Workers::new(run);
    let job = Peer {
        link,
        messages,
        bytes,
        round_trips,
    };
    let id = workers.start("peer", job)?;
    // The worker holds its own copy now: a peer that dies must close the socket's last copy.
    drop(socket_kept_until_started);
    let figures = main_side(&mut main_ends, messages, bytes, round_trips);
    // Closing our ends ends a peer that still waits for us.
    drop(main_ends);
    workers
        .join(id)?
        .map_err(|e| DemoError::System(format!("the peer: {e}")))?;
    figures.map_err(DemoError::System)
}

/// The peer's end of a path, as its job carries it: ipc-channel ends travel in the job's
/// message; a raw socket is a descriptor the worker inherits (by `fork`, or across `exec`).
#[derive(Serialize, Deserialize)]
pub enum PeerLink {
    Ipc {
        to_main: IpcBytesSender,
        inbox: IpcBytesReceiver,
    },
    Socket(Socket, RawFd),
}

/// The peer worker: waits for "go", streams its messages, then echoes.
#[derive(Serialize, Deserialize)]
pub struct Peer {
    link: PeerLink,
    messages: u64,
    bytes: usize,
    round_trips: u64,
}

impl Job for Peer {
    type Output = Result<(), String>;

    fn run(self, out: &dyn EventSink) -> Result<(), String> {
        let mut ends = match self.link {
            PeerLink::Ipc { to_main, inbox } => ipc_channel_ends(to_main, inbox),
            PeerLink::Socket(kind, fd) => {
                // SAFETY: the parent made this link in `socket_pair` for this job alone, and
                // lists its descriptor in `inherited_descriptors`; it is taken once, here.
                socket_ends(kind, unsafe { take_inherited(fd) }).map_err(|e| e.to_string())?
            }
        };
        out.emit("ready", None);
        peer(&mut ends, self.messages, self.bytes, self.round_trips)
    }

    /// A raw socket is the one thing a worker keeps by number from what it inherits.
    fn inherited_descriptors(&self) -> Vec<RawFd> {
        match self.link {
            PeerLink::Socket(_, fd) => vec![fd],
            PeerLink::Ipc { .. } => Vec::new(),
        }
    }
}

/// Two ipc-channel byte channels, one each way. `bytes_channel` sends raw bytes, without
/// serde.
fn ipc_ends() -> Result<((PeerLink, Option<OwnedFd>), Ends), DemoError> {
    let (to_peer, inbox) =
        ipc::bytes_channel().map_err(|e| DemoError::system("creating a channel", e))?;
    let (to_main, main_inbox) =
        ipc::bytes_channel().map_err(|e| DemoError::system("creating a channel", e))?;
    let link = PeerLink::Ipc { to_main, inbox };
    Ok(((link, None), ipc_channel_ends(to_peer, main_inbox)))
}

fn ipc_channel_ends(sender: IpcBytesSender, receiver: IpcBytesReceiver) -> Ends {
    Ends {
        send: Box::new(move |message| sender.send(message).map_err(|e| e.to_string())),
        receive: Box::new(move |_| receiver.recv().map_err(|e| e.to_string())),
    }
}

/// A raw socketpair of `kind`: the peer's link, with the socket the parent keeps open until
/// the peer has started, and the main flow's ends.
fn socket_pair(kind: Socket) -> Result<((PeerLink, Option<OwnedFd>), Ends), DemoError> {
    let (peer_socket, main_ends) = raw_socketpair(kind)?;
    let link = PeerLink::Socket(kind, peer_socket.as_raw_fd());
    Ok(((link, Some(peer_socket)), main_ends))
}
