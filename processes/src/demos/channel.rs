//! `channel` (beyond the notebook) on processes: messages per second and round trips through
//! ipc-channel between the parent and a forked child, next to a raw `SOCK_SEQPACKET`
//! socketpair (the raw figure for the same kind of channel: it is what ipc-channel sends
//! over) and a raw stream socketpair.

use crate::workers::Workers;
use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender};
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, recv, send, socketpair};
use shared::bench::{
    Ends, main_side, message_counts, peer, record_channel_over_raw, record_figures, record_path,
    socketpair_ends,
};
use shared::catalogue::channel::{LARGE_BYTES, SMALL_BYTES};
use shared::outcome::ChannelOutcome;
use shared::{DemoError, DemoRun};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

pub fn run(run: &DemoRun) -> Result<ChannelOutcome, DemoError> {
    let count = run.count();
    let mut outcome = ChannelOutcome { paths: Vec::new() };
    for bytes in [SMALL_BYTES, LARGE_BYTES] {
        let (peer_ends, main_ends) = ipc_ends()?;
        let figures = measure(run, count, bytes, peer_ends, main_ends)?;
        record_path(run, &mut outcome, "channel", bytes, figures);

        let (peer_ends, main_ends) = seqpacket_ends()?;
        let figures = measure(run, count, bytes, peer_ends, main_ends)?;
        record_path(run, &mut outcome, "raw", bytes, figures);
        record_channel_over_raw(run, bytes);

        let (peer_ends, main_ends) = socketpair_ends()?;
        let figures = measure(run, count, bytes, peer_ends, main_ends)?;
        record_figures(run, "socketpair", bytes, figures);
    }
    Ok(outcome)
}

/// A peer child streams and echoes; the main flow (the parent) receives, checks and times.
fn measure(
    run: &DemoRun,
    count: u64,
    bytes: usize,
    mut peer_ends: Ends,
    mut main_ends: Ends,
) -> Result<shared::bench::PathFigures, DemoError> {
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

/// Two ipc-channel byte channels, one each way, made before the fork so that both
/// processes hold their ends. `bytes_channel` sends raw bytes, without serde.
fn ipc_ends() -> Result<(Ends, Ends), DemoError> {
    let (to_peer, peer_inbox) =
        ipc::bytes_channel().map_err(|e| DemoError::system("creating a channel", e))?;
    let (to_main, main_inbox) =
        ipc::bytes_channel().map_err(|e| DemoError::system("creating a channel", e))?;
    let ends = |sender: IpcBytesSender, receiver: IpcBytesReceiver| Ends {
        send: Box::new(move |message| sender.send(message).map_err(|e| e.to_string())),
        receive: Box::new(move |_| receiver.recv().map_err(|e| e.to_string())),
    };
    Ok((ends(to_main, peer_inbox), ends(to_peer, main_inbox)))
}

/// A raw `AF_UNIX` `SOCK_SEQPACKET` socketpair, the kind ipc-channel uses: each send is one
/// message, each receive takes one whole message.
fn seqpacket_ends() -> Result<(Ends, Ends), DemoError> {
    let (peer, main) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| DemoError::system("socketpair", e))?;
    let ends = |socket: OwnedFd| {
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
    };
    Ok((ends(peer), ends(main)))
}
