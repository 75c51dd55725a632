//! `channel` (beyond the notebook) on processes: messages per second and round trips through
//! ipc-channel between the parent and a worker process, next to a raw `SOCK_SEQPACKET`
//! socketpair (the raw figure for the same kind of channel: it is what ipc-channel sends
//! over) and a raw stream socketpair.

use crate::workers::{Job, Workers};
use contract::bench::{
    Ends, main_side, message_counts, peer, record_channel_over_raw, record_figures, record_path,
    stream_ends,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{LARGE_BYTES, SMALL_BYTES};
use contract::{DemoError, DemoRun, EventSink};
use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender};
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, recv, send, socketpair};
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

crate::spawned::jobs!(Peer);

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in [SMALL_BYTES, LARGE_BYTES] {
        let (peer_end, main_ends) = ipc_ends()?;
        let figures = measure(run, count, bytes, peer_end, main_ends)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let (peer_end, main_ends) = socket_ends(Socket::SeqPacket)?;
        let figures = measure(run, count, bytes, peer_end, main_ends)?;
        record_path(run, &mut outcome, "raw", bytes, figures);
        record_channel_over_raw(run, bytes);

        let (peer_end, main_ends) = socket_ends(Socket::Stream)?;
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
    peer_end: PeerEnd,
    mut main_ends: Ends,
) -> Result<contract::bench::PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut workers = Workers::new(run);
    let PeerEnd {
        link,
        socket_kept_until_started,
    } = peer_end;
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

/// The kinds of raw socketpair measured.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub enum Socket {
    /// `SOCK_SEQPACKET`, the kind ipc-channel uses: each send is one whole message.
    SeqPacket,
    /// `SOCK_STREAM`: bytes without boundaries (messages have known lengths here).
    Stream,
}

/// The peer's end of a path, in the parent until the peer starts: what its job carries,
/// and the socket the parent keeps open until the peer has inherited it.
struct PeerEnd {
    link: PeerLink,
    socket_kept_until_started: Option<OwnedFd>,
}

/// The peer's end of a path, as its job carries it: ipc-channel ends travel in the job's
/// message; a raw socket is a descriptor the worker inherits.
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
                // SAFETY: the parent made this link in `socket_ends` for this job alone.
                let socket = unsafe { inherited_socket(fd) };
                match kind {
                    Socket::SeqPacket => seqpacket_socket_ends(socket),
                    Socket::Stream => {
                        stream_ends(UnixStream::from(socket)).map_err(|e| e.to_string())?
                    }
                }
            }
        };
        out.emit("ready", None);
        peer(&mut ends, self.messages, self.bytes, self.round_trips)
    }

}

/// Two ipc-channel byte channels, one each way. `bytes_channel` sends raw bytes, without
/// serde.
fn ipc_ends() -> Result<(PeerEnd, Ends), DemoError> {
    let (to_peer, peer_inbox) =
        ipc::bytes_channel().map_err(|e| DemoError::system("creating a channel", e))?;
    let (to_main, main_inbox) =
        ipc::bytes_channel().map_err(|e| DemoError::system("creating a channel", e))?;
    let peer_end = PeerEnd {
        link: PeerLink::Ipc {
            to_main,
            inbox: peer_inbox,
        },
        socket_kept_until_started: None,
    };
    Ok((peer_end, ipc_channel_ends(to_peer, main_inbox)))
}

fn ipc_channel_ends(sender: IpcBytesSender, receiver: IpcBytesReceiver) -> Ends {
    Ends {
        send: Box::new(move |message| sender.send(message).map_err(|e| e.to_string())),
        receive: Box::new(move |_| receiver.recv().map_err(|e| e.to_string())),
    }
}

/// A raw `AF_UNIX` socketpair of `kind`: the peer's socket, and the main flow's ends.
fn socket_ends(kind: Socket) -> Result<(PeerEnd, Ends), DemoError> {
    let socket_type = match kind {
        Socket::SeqPacket => SockType::SeqPacket,
        Socket::Stream => SockType::Stream,
    };
    // Without close-on-exec: a spawned peer keeps the socket across its `exec`, as a forked
    // one does across `fork`. The parent closes its copy of the peer's end as soon as the peer
    // has started, before any other worker starts.
    let (peer, main) = socketpair(AddressFamily::Unix, socket_type, None, SockFlag::empty())
        .map_err(|e| DemoError::system("socketpair", e))?;
    let main_ends = match kind {
        Socket::SeqPacket => seqpacket_socket_ends(main),
        Socket::Stream => stream_ends(UnixStream::from(main))?,
    };
    let peer_end = PeerEnd {
        link: PeerLink::Socket(kind, peer.as_raw_fd()),
        socket_kept_until_started: Some(peer),
    };
    Ok((peer_end, main_ends))
}

/// The peer's socket, from the descriptor number its job names.
///
/// # Safety
/// `fd` must be the peer's end of a socketpair made by `socket_ends` for this job, inherited
/// by this worker (by `fork`, or kept open across `exec`), and taken only once: the returned
/// `OwnedFd` closes it.
unsafe fn inherited_socket(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller's promise: the descriptor is open and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A `SOCK_SEQPACKET` socket's ends: each send is one message, each receive takes one whole
/// message.
fn seqpacket_socket_ends(socket: OwnedFd) -> Ends {
    let socket = Arc::new(socket);
    let reader = Arc::clone(&socket);
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
