//! `channel` (beyond the notebook) on processes: messages per second and round trips through
//! ipc-channel between the parent and a worker process, next to a bare `SOCK_SEQPACKET`
//! socketpair (what ipc-channel sends over: the same kernel path without ipc-channel), a
//! stream socketpair, and a slot in shared memory with a futex wake (the least a message
//! between two processes can cost: no kernel buffer at all, see `shared_memory/hand_off.rs`).

use crate::shared_memory::hand_off::{Mailbox, MailboxPair};
use crate::shared_memory::{Shared, SharedMapping};
use crate::workers::{Job, Workers, take_inherited};
use contract::bench::{
    Ends, PathFigures, Socket, main_side, message_counts, peer, raw_socketpair,
    record_baseline, record_channel_over, record_path, size_label, socket_ends,
};
use contract::demos::channel::ChannelOutcome;
use contract::demos::channel::{BASELINE_PEER, PEER, message_sizes};
use contract::{DemoError, DemoRun, EventSink};
use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;

crate::spawned::jobs!(Peer);

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in message_sizes(run) {
        let (peer_end, main_ends) = ipc_ends()?;
        let figures = measure(run, PEER, count, bytes, peer_end, main_ends)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let (peer_end, main_ends) = socket_pair(Socket::SeqPacket)?;
        match seqpacket_refuses(bytes, &peer_end)? {
            None => {
                let figures = measure(run, BASELINE_PEER, count, bytes, peer_end, main_ends)?;
                record_baseline(run, "seqpacket_socketpair", bytes, figures)?;
                record_channel_over(run, "seqpacket_socketpair", bytes);
            }
            Some(why) => run.figures(|f| {
                f.notes.insert(format!("seqpacket_socketpair_{}", size_label(bytes)), why);
            }),
        }

        let (peer_end, main_ends) = socket_pair(Socket::Stream)?;
        let figures = measure(run, BASELINE_PEER, count, bytes, peer_end, main_ends)?;
        record_baseline(run, "stream_socketpair", bytes, figures)?;

        let (peer_end, main_ends) = shared_memory_slots()?;
        let figures = measure(run, BASELINE_PEER, count, bytes, peer_end, main_ends)?;
        record_baseline(run, "shared_memory_slot", bytes, figures)?;
        record_channel_over(run, "shared_memory_slot", bytes);
    }
    Ok(outcome)
}

/// A peer worker streams and echoes; the main flow (the parent) receives, checks and times.
fn measure(
    run: &DemoRun,
    peer_name: &str,
    count: u64,
    bytes: usize,
    (link, socket_kept_until_started): (PeerLink, Option<OwnedFd>),
    mut main_ends: Ends,
) -> Result<PathFigures, DemoError> {
    let (messages, round_trips) = message_counts(count, bytes);
    let mut workers = Workers::new(run);
    let job = Peer {
        link,
        messages,
        bytes,
        round_trips,
    };
    let id = workers.start(peer_name, job)?;
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

/// The peer's end of a path, as its job carries it: ipc-channel ends and shared memory
/// travel in the job's message; a raw socket is a descriptor the worker inherits (by `fork`,
/// or across `exec`).
#[derive(Serialize, Deserialize)]
pub enum PeerLink {
    Ipc {
        to_main: IpcBytesSender,
        inbox: IpcBytesReceiver,
    },
    Socket(Socket, RawFd),
    SharedMemory(Shared<MailboxPair>),
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
            PeerLink::SharedMemory(mailboxes) => {
                // SAFETY: the handle comes from the parent's `SharedMapping<MailboxPair>` in
                // `shared_memory_slots`, sent in this job.
                let mailboxes = unsafe { mailboxes.map() }?;
                let pid = nix::unistd::getpid().as_raw();
                mailboxes.peer_pid.store(pid, Ordering::SeqCst);
                // The peer's parent is the main flow: if it dies, so does the peer
                // (`PR_SET_PDEATHSIG`), so the peer need not look.
                mailbox_ends(Arc::new(mailboxes), Side::Peer, || false)
            }
        };
        out.emit("ready", None);
        peer(&mut ends, self.messages, self.bytes, self.round_trips)
    }

    /// A raw socket is the one thing a worker keeps by number from what it inherits.
    fn inherited_descriptors(&self) -> Vec<RawFd> {
        match self.link {
            PeerLink::Socket(_, fd) => vec![fd],
            PeerLink::Ipc { .. } | PeerLink::SharedMemory(_) => Vec::new(),
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

/// Why a `SOCK_SEQPACKET` socket cannot carry a message of `bytes` in one packet, if it
/// cannot: the kernel refuses a packet larger than the socket's send buffer (less 32 bytes)
/// with `EMSGSIZE`. ipc-channel sends such a message in fragments; the bare socket is not
/// measured at that size.
fn seqpacket_refuses(
    bytes: usize,
    (_, peer_socket): &(PeerLink, Option<OwnedFd>),
) -> Result<Option<String>, DemoError> {
    use nix::sys::socket::{getsockopt, sockopt::SndBuf};
    let Some(socket) = peer_socket else {
        return Ok(None);
    };
    let send_buffer = getsockopt(socket, SndBuf).map_err(|e| DemoError::system("getsockopt", e))?;
    let largest = send_buffer.saturating_sub(32);
    Ok((bytes > largest).then(|| {
        format!(
            "not measured: one SOCK_SEQPACKET packet holds at most {largest} B here (the \
             socket's send buffer less 32 B), and the kernel refuses a {bytes} B one with \
             EMSGSIZE; ipc-channel sends such a message in fragments"
        )
    }))
}

/// A slot each way in a shared memory file: the peer's link, and the main flow's ends, which
/// stop waiting when the peer has ended.
fn shared_memory_slots() -> Result<((PeerLink, Option<OwnedFd>), Ends), DemoError> {
    let mailboxes = Arc::new(SharedMapping::new(MailboxPair::default())?);
    let link = PeerLink::SharedMemory(mailboxes.handle());
    let watched = Arc::clone(&mailboxes);
    let ends = mailbox_ends(mailboxes, Side::Main, move || peer_has_ended(&watched));
    Ok(((link, None), ends))
}

/// Whether the peer has ended. A child of this process is looked at without reaping it (its
/// `Workers` reaps it); a worker another process started is gone once no signal reaches it.
fn peer_has_ended(mailboxes: &MailboxPair) -> bool {
    let pid = match mailboxes.peer_pid.load(Ordering::SeqCst) {
        0 => return false,
        pid => Pid::from_raw(pid),
    };
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::StillAlive) => false,
        Ok(_) => true,
        Err(_) => nix::sys::signal::kill(pid, None) == Err(nix::errno::Errno::ESRCH),
    }
}

/// Which side of the mailbox pair an `Ends` is.
#[derive(Clone, Copy)]
enum Side {
    Main,
    Peer,
}

impl Side {
    fn outbox(self, pair: &MailboxPair) -> &Mailbox {
        match self {
            Side::Main => &pair.to_peer,
            Side::Peer => &pair.to_main,
        }
    }

    fn inbox(self, pair: &MailboxPair) -> &Mailbox {
        match self {
            Side::Main => &pair.to_main,
            Side::Peer => &pair.to_peer,
        }
    }
}

/// One side's ends of the mailbox pair; dropping them closes both mailboxes, as dropping a
/// channel's ends closes it.
fn mailbox_ends(
    mailboxes: Arc<SharedMapping<MailboxPair>>,
    side: Side,
    other_side_ended: impl Fn() -> bool + Send + Sync + 'static,
) -> Ends {
    let ended = Arc::new(other_side_ended);
    let closer = Arc::new(ClosesOnDrop(Arc::clone(&mailboxes)));
    let (sending, sender_ended) = (Arc::clone(&mailboxes), Arc::clone(&ended));
    Ends {
        send: Box::new(move |message| side.outbox(&sending).send(message, &*sender_ended)),
        receive: Box::new(move |_| {
            let _closes_with_these_ends = &closer;
            side.inbox(&mailboxes).receive(&*ended)
        }),
    }
}

/// Closes both mailboxes when one side's ends are dropped.
struct ClosesOnDrop(Arc<SharedMapping<MailboxPair>>);

impl Drop for ClosesOnDrop {
    fn drop(&mut self) {
        self.0.to_peer.close();
        self.0.to_main.close();
    }
}
