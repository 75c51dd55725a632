//! `--start forkserver`: a server process, forked at the start of `main` while the program is
//! still single-threaded, forks every worker on request and hands it its job as data, as
//! Python's forkserver does (its default start method on Linux since 3.14).
//!
//! Why a server: a parent that runs threads must not fork (a child inherits locks held by
//! threads it does not have); `spawn` avoids that with an `exec`, which costs a whole
//! program's start. The server is a copy of the program taken before any thread existed and
//! runs no thread itself, so it may fork at any time, and a fork of it is a small process's.
//!
//! The protocol, over ipc-channel: the parent puts the worker's job ([`crate::workers`]'s
//! `ToChild`, with its channel ends and shared memory) in a new job inbox, and sends the server
//! a [`Request`] naming the job's type, with the inbox's receiving end; the server forks and
//! replies with the worker's pid; the worker, a copy of the server, closes the server's
//! descriptors, finds the job's code by its name (as a spawned worker does) and reads its job.
//! A descriptor the job names by number travels beside the request over a raw socket
//! (`SCM_RIGHTS`), and the worker puts it back at that number.
//!
//! Waiting for a worker: it is the server's child, so only the server can reap it (`waitid`
//! takes only one's own children; a pidfd of another's child can be polled but not waited on).
//! The server polls each worker's pidfd, reaps it as it ends and reports how it ended; the
//! parent notices the end as for a forked worker, by the close of the worker's events
//! channel, and takes the status from the server's report. To stop a worker (Ctrl-C, an
//! error) the parent asks the server to kill it: the server kills only a child it has not
//! reaped, so the signal cannot reach another process that got the pid since.
//!
//! Nothing is left behind: the server dies with the program (`PR_SET_PDEATHSIG`), each worker
//! dies with the server, and when the program ends it closes the request channel, on which
//! the server kills and reaps the workers left, and exits; the program then reaps the server.

use crate::workers::{exit_child, two_lowest_free_descriptors};
use contract::DemoError;
use contract::domain::StartMethod;
use ipc_channel::TryRecvError;
use ipc_channel::ipc::{self, IpcReceiver, IpcSender, OpaqueIpcReceiver};
use nix::fcntl::{FcntlArg, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{self, SigHandler, Signal};
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What the parent asks of the server.
#[derive(Serialize, Deserialize)]
enum Request {
    /// Fork a worker that runs the job type named `job`, whose job waits in `inbox`;
    /// `inherited` are the numbers of the descriptors sent just before, beside the request.
    Fork {
        job: String,
        inbox: OpaqueIpcReceiver,
        inherited: Vec<RawFd>,
    },
    /// Kill this worker, if it has not been reaped yet.
    Kill(i32),
    /// The bare cost of a worker through the server: fork a child that exits at once, reap
    /// it, reply.
    Bare,
}

/// What the server tells the parent.
#[derive(Serialize, Deserialize, Debug)]
enum Report {
    /// The worker asked for last runs, with this pid.
    Started(i32),
    /// The fork failed, or the request could not be read.
    Refused(String),
    /// A worker ended and was reaped.
    Exited { pid: i32, end: End },
    /// A bare child was forked, exited and was reaped.
    BareDone,
}

/// How a worker ended: its exit code, or the signal that killed it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
enum End {
    Code(i32),
    Signal(i32),
}

impl End {
    fn of(status: WaitStatus) -> Option<End> {
        match status {
            WaitStatus::Exited(_, code) => Some(End::Code(code)),
            WaitStatus::Signaled(_, signal, _) => Some(End::Signal(signal as i32)),
            _ => None,
        }
    }

    fn status(self, pid: Pid) -> WaitStatus {
        match self {
            End::Code(code) => WaitStatus::Exited(pid, code),
            End::Signal(number) => match Signal::try_from(number) {
                Ok(signal) => WaitStatus::Signaled(pid, signal, false),
                Err(_) => WaitStatus::Exited(pid, 128 + number),
            },
        }
    }
}

/// The parent's side: its channel ends to the server, and the ends it was told of.
struct Client {
    requests: IpcSender<Request>,
    reports: IpcReceiver<Report>,
    /// The raw socket on which descriptors travel beside a request.
    descriptors: OwnedFd,
    /// Workers whose end the server reported, not yet asked for.
    ended: HashMap<i32, End>,
}

/// The one client of this program's server, when it runs one.
static CLIENT: Mutex<Option<Client>> = Mutex::new(None);

/// How long the parent waits for the server's answer before it calls the server lost.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

fn client() -> MutexGuard<'static, Option<Client>> {
    CLIENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lost(what: impl std::fmt::Display) -> DemoError {
    DemoError::System(format!("the forkserver: {what}"))
}

/// The running server; dropping it stops the server and reaps it.
pub struct Server {
    pid: Pid,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing the request channel tells the server to kill and reap what is left and
        // to exit.
        drop(client().take());
        let _ = waitpid(self.pid, None);
    }
}

/// Starts the server if this run's `--start` is `forkserver`. Call it first in `main`, while
/// the program runs one thread.
pub fn start_if_asked() -> Result<Option<Server>, DemoError> {
    if runner::cli::start_method_asked() != Some(StartMethod::Forkserver) {
        return Ok(None);
    }
    crate::workers::ensure_single_threaded()?;
    start().map(Some)
}

fn start() -> Result<Server, DemoError> {
    let program = getpid();
    // The request channel takes the two lowest free descriptors (this process runs one
    // thread): the server finds its receiving end by number, to poll it.
    let request_descriptors = two_lowest_free_descriptors()?;
    let (requests, request_inbox) =
        ipc::channel::<Request>().map_err(|e| DemoError::system("creating a channel", e))?;
    let (report_sender, reports) =
        ipc::channel::<Report>().map_err(|e| DemoError::system("creating a channel", e))?;
    let (descriptors, descriptor_inbox) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| DemoError::system("socketpair", e))?;
    // SAFETY: this process runs one thread (checked by the caller), so the child is a
    // complete copy of a single-threaded process and may run ordinary Rust code.
    match unsafe { fork() }.map_err(|e| DemoError::system("fork", e))? {
        ForkResult::Child => {
            drop(requests);
            let [a, b] = [request_descriptors.0, request_descriptors.1];
            let request_fd = if is_open(a) { a } else { b };
            drop((reports, descriptors));
            let server = ServerState {
                program,
                request_fd,
                requests: request_inbox,
                reports: report_sender,
                descriptor_inbox,
                own: Vec::new(),
                workers: Vec::new(),
            };
            server.serve()
        }
        ForkResult::Parent { child } => {
            drop((request_inbox, report_sender, descriptor_inbox));
            *client() = Some(Client {
                requests,
                reports,
                descriptors,
                ended: HashMap::new(),
            });
            Ok(Server { pid: child })
        }
    }
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags; a closed number fails with EBADF.
    fcntl(unsafe { BorrowedFd::borrow_raw(fd) }, FcntlArg::F_GETFD).is_ok()
}

/// Asks the server for a worker running the job type `job`, whose job waits in `inbox`, with
/// the descriptors `inherited` at the same numbers; returns the worker's pid.
pub fn fork_worker(
    job: &str,
    inbox: OpaqueIpcReceiver,
    inherited: &[RawFd],
) -> Result<Pid, DemoError> {
    if inherited.len() > MAX_INHERITED {
        return Err(lost(format!(
            "a job names {} descriptors; at most {MAX_INHERITED} travel beside a request",
            inherited.len()
        )));
    }
    let mut guard = client();
    let client = guard.as_mut().ok_or_else(|| lost("not running"))?;
    if !inherited.is_empty() {
        let rights = [ControlMessage::ScmRights(inherited)];
        let numbers: Vec<u8> = inherited.iter().flat_map(|fd| fd.to_le_bytes()).collect();
        sendmsg::<()>(
            client.descriptors.as_raw_fd(),
            &[IoSlice::new(&numbers)],
            &rights,
            MsgFlags::empty(),
            None,
        )
        .map_err(|e| lost(format!("sending descriptors: {e}")))?;
    }
    let request = Request::Fork {
        job: job.to_string(),
        inbox,
        inherited: inherited.to_vec(),
    };
    client
        .requests
        .send(request)
        .map_err(|e| lost(format!("sending a request: {e}")))?;
    match client.answer()? {
        Report::Started(pid) => Ok(Pid::from_raw(pid)),
        Report::Refused(why) => Err(lost(why)),
        other => Err(lost(format!("unexpected answer {other:?}"))),
    }
}

/// How the worker `pid` ended, if the server has reported it; with `block`, waits for the
/// report (the worker has ended or been killed: it comes at once).
pub fn end_of(pid: Pid, block: bool) -> Option<WaitStatus> {
    let mut guard = client();
    let client = guard.as_mut()?;
    loop {
        if let Some(end) = client.ended.remove(&pid.as_raw()) {
            return Some(end.status(pid));
        }
        let report = match block {
            true => client.reports.try_recv_timeout(ANSWER_WITHIN),
            false => client.reports.try_recv(),
        };
        match report {
            Ok(Report::Exited { pid, end }) => {
                client.ended.insert(pid, end);
            }
            Ok(_) => {}
            // Nothing yet; or the server is gone, and its workers with it.
            Err(TryRecvError::Empty) if !block => return None,
            Err(_) => return Some(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
        }
    }
}

/// Asks the server to kill the worker `pid` if it has not reaped it yet.
pub fn kill(pid: Pid) {
    if let Some(client) = client().as_mut() {
        let _ = client.requests.send(Request::Kill(pid.as_raw()));
    }
}

/// The bare cost of a worker through the server: one request, a fork of a child that exits at
/// once and its reaping in the server, one reply.
pub fn bare_start_and_reap() -> Result<(), DemoError> {
    let mut guard = client();
    let client = guard.as_mut().ok_or_else(|| lost("not running"))?;
    client
        .requests
        .send(Request::Bare)
        .map_err(|e| lost(format!("sending a request: {e}")))?;
    match client.answer()? {
        Report::BareDone => Ok(()),
        other => Err(lost(format!("unexpected answer {other:?}"))),
    }
}

/// A server for a while (`spawn` measures every start method in one run): `None` when this
/// program runs one already; otherwise one started now, stopped when dropped. The caller
/// must run one thread.
pub fn start_for_a_while() -> Result<Option<Server>, DemoError> {
    if client().is_some() {
        return Ok(None);
    }
    crate::workers::ensure_single_threaded()?;
    start().map(Some)
}

impl Client {
    /// The server's answer to the request just sent; the ends it reports meanwhile are kept.
    fn answer(&mut self) -> Result<Report, DemoError> {
        let deadline = Instant::now() + ANSWER_WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.try_recv_timeout(left) {
                Ok(Report::Exited { pid, end }) => {
                    self.ended.insert(pid, end);
                }
                Ok(answer) => return Ok(answer),
                Err(TryRecvError::Empty) => return Err(lost("no answer")),
                Err(TryRecvError::IpcError(e)) => return Err(lost(format!("gone ({e:?})"))),
            }
        }
    }
}

/// The server's side.
struct ServerState {
    program: Pid,
    request_fd: RawFd,
    requests: IpcReceiver<Request>,
    reports: IpcSender<Report>,
    descriptor_inbox: OwnedFd,
    /// The server's own descriptors but the standard streams: a worker closes them all.
    own: Vec<RawFd>,
    /// Each worker not yet reaped, with its pidfd.
    workers: Vec<(Pid, OwnedFd)>,
}

impl ServerState {
    fn serve(mut self) -> ! {
        // Die with the program: a program killed outright leaves no server behind.
        if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != self.program {
            exit_child(0);
        }
        // Ctrl-C to the group is the program's to handle: it stops the workers through the
        // server, then closes the request channel.
        // SAFETY: SIG_IGN runs no code; this process runs one thread.
        let _ = unsafe { signal::signal(Signal::SIGINT, SigHandler::SigIgn) };
        // SAFETY: as above, SIG_DFL runs no code of ours.
        let _ = unsafe { signal::signal(Signal::SIGTERM, SigHandler::SigDfl) };
        self.own = open_descriptors();
        loop {
            let ready = self.wait();
            for pid in ready {
                self.reap(pid);
            }
            if !self.serve_request() {
                self.stop();
            }
        }
    }

    /// Waits until a request comes or a worker ends; returns the workers that ended.
    fn wait(&self) -> Vec<Pid> {
        // SAFETY: the request channel's receiving end, open for the server's whole life.
        let request = unsafe { BorrowedFd::borrow_raw(self.request_fd) };
        let mut fds = vec![PollFd::new(request, PollFlags::POLLIN)];
        fds.extend(
            (self.workers.iter()).map(|(_, pidfd)| PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)),
        );
        // EINTR: nothing is ready; the caller looks again.
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            return Vec::new();
        }
        let ended = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        (self.workers.iter().zip(&fds[1..]))
            .filter(|(_, fd)| ended(fd))
            .map(|((pid, _), _)| *pid)
            .collect()
    }

    /// Reaps the worker `pid`, which has ended, and reports how.
    fn reap(&mut self, pid: Pid) {
        self.workers.retain(|(worker, _)| *worker != pid);
        let end = waitpid(pid, None).ok().and_then(End::of);
        let end = end.unwrap_or(End::Signal(Signal::SIGKILL as i32));
        let _ = self.reports.send(Report::Exited {
            pid: pid.as_raw(),
            end,
        });
    }

    /// Serves one request if one is there; false once the program has closed the channel.
    fn serve_request(&mut self) -> bool {
        // Descriptors sent beside a request come before it. While the request is received,
        // each number they must take in the worker is held, so that the job inbox the request
        // carries lands on none of them.
        let received = match self.receive_descriptors() {
            Ok(received) => received,
            Err(why) => {
                let _ = self.reports.send(Report::Refused(why));
                return true;
            }
        };
        let holding: Vec<OwnedFd> = (received.iter())
            .filter(|(_, number)| !is_open(*number))
            .filter_map(|(fd, number)| hold(fd.as_fd(), *number))
            .collect();
        let request = self.requests.try_recv();
        drop(holding);
        let request = match request {
            Ok(request) => request,
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::IpcError(_)) => return false,
        };
        let report = match request {
            Request::Fork {
                job,
                inbox,
                inherited,
            } => self.fork_worker(&job, inbox, received, &inherited),
            Request::Kill(pid) => {
                let pid = Pid::from_raw(pid);
                if self.workers.iter().any(|(worker, _)| *worker == pid) {
                    // Not reaped yet, so the pid is still this worker's.
                    let _ = signal::kill(pid, Signal::SIGKILL);
                }
                return true;
            }
            Request::Bare => bare(),
        };
        let _ = self.reports.send(report);
        true
    }

    fn fork_worker(
        &mut self,
        job: &str,
        inbox: OpaqueIpcReceiver,
        received: Vec<(OwnedFd, RawFd)>,
        inherited: &[RawFd],
    ) -> Report {
        let Some(entry) = crate::spawned::find(job) else {
            return Report::Refused(format!("no job named '{job}'"));
        };
        let numbers: Vec<RawFd> = received.iter().map(|(_, number)| *number).collect();
        if numbers != inherited {
            return Report::Refused(format!(
                "descriptors {numbers:?} came for a job that names {inherited:?}"
            ));
        }
        let server = getpid();
        // SAFETY: the server runs one thread, so its child is a complete copy of a
        // single-threaded process and may run ordinary Rust code until its `_exit`.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let mut close: Vec<RawFd> = self.own.clone();
                close.extend(self.workers.iter().map(|(_, pidfd)| pidfd.as_raw_fd()));
                // SAFETY: this is the worker; the server's descriptors it closes belong to
                // objects (channels, pidfds, the socket) it never uses nor drops: it runs
                // only its job, and ends with `_exit`.
                unsafe { become_worker(&close, received) };
                (entry.forkserved)(inbox, server)
            }
            Ok(ForkResult::Parent { child }) => {
                // The worker has the inbox and the descriptors now; the server keeps none.
                drop((inbox, received));
                match pidfd_open(child) {
                    Ok(pidfd) => {
                        self.workers.push((child, pidfd));
                        Report::Started(child.as_raw())
                    }
                    Err(e) => {
                        let _ = signal::kill(child, Signal::SIGKILL);
                        let _ = waitpid(child, None);
                        Report::Refused(format!("pidfd_open: {e}"))
                    }
                }
            }
            Err(e) => Report::Refused(format!("fork: {e}")),
        }
    }

    /// Receives the descriptors sent beside the next request, with the number each must
    /// take in the worker; none when none were sent.
    fn receive_descriptors(&self) -> Result<Vec<(OwnedFd, RawFd)>, String> {
        let mut numbers = vec![0u8; MAX_INHERITED * 4];
        let mut buffer = nix::cmsg_space!([RawFd; MAX_INHERITED]);
        let mut iov = [IoSliceMut::new(&mut numbers)];
        let message = match recvmsg::<()>(
            self.descriptor_inbox.as_raw_fd(),
            &mut iov,
            Some(&mut buffer),
            MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(message) => message,
            Err(nix::errno::Errno::EAGAIN) => return Ok(Vec::new()),
            Err(e) => return Err(format!("receiving descriptors: {e}")),
        };
        let length = message.bytes;
        let mut fds = Vec::new();
        for message in message.cmsgs().map_err(|e| e.to_string())? {
            if let ControlMessageOwned::ScmRights(received) = message {
                // SAFETY: each descriptor was just installed in this process by the kernel
                // and is owned by nothing else.
                fds.extend(
                    received
                        .into_iter()
                        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
        let numbers: Vec<RawFd> = (numbers[..length].chunks_exact(4))
            .map(|n| RawFd::from_le_bytes([n[0], n[1], n[2], n[3]]))
            .collect();
        match fds.len() == numbers.len() {
            true => Ok(fds.into_iter().zip(numbers).collect()),
            false => Err(format!("{} descriptors came for {numbers:?}", fds.len())),
        }
    }

    /// The program has closed the request channel: kill and reap every worker left, exit.
    fn stop(&mut self) -> ! {
        for (pid, _) in std::mem::take(&mut self.workers) {
            let _ = signal::kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
        exit_child(0)
    }
}

/// The bare cost: fork a child that exits at once, reap it.
fn bare() -> Report {
    // SAFETY: the server runs one thread; the child calls nothing but `_exit`.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => exit_child(0),
        Ok(ForkResult::Parent { child }) => {
            let _ = waitpid(child, None);
            Report::BareDone
        }
        Err(e) => Report::Refused(format!("fork: {e}")),
    }
}

/// Holds the free descriptor number `number` (a copy of `fd` put there), until dropped.
fn hold(fd: BorrowedFd<'_>, number: RawFd) -> Option<OwnedFd> {
    // SAFETY: `number` is free (the caller looked, and this process runs one thread): dup2
    // closes nothing, and the returned `OwnedFd` is its only owner.
    let held = unsafe { libc::dup2(fd.as_raw_fd(), number) };
    // SAFETY: as above.
    (held == number).then(|| unsafe { OwnedFd::from_raw_fd(number) })
}

/// Turns a fresh copy of the server into a worker's process: closes the server's descriptors
/// (`close`), and puts each received descriptor at the number its job names.
///
/// # Safety
/// Call it only in the worker just forked, which never uses nor drops what owns the closed
/// descriptors.
unsafe fn become_worker(close: &[RawFd], received: Vec<(OwnedFd, RawFd)>) {
    for &fd in close {
        // SAFETY: the caller's promise: nothing uses these descriptors again.
        unsafe { libc::close(fd) };
    }
    // First out of the way (a received descriptor may sit at another's number), then each at
    // its number: those were held while the server received the job inbox, or were the
    // server's own, closed above, so no descriptor of the worker is there.
    let away: Vec<(RawFd, RawFd)> = received
        .into_iter()
        .filter_map(|(fd, number)| {
            let moved = fcntl(fd.as_fd(), FcntlArg::F_DUPFD_CLOEXEC(FIRST_AWAY)).ok()?;
            Some((moved, number))
        })
        .collect();
    for (moved, number) in away {
        // SAFETY: `number` is free (see above): dup2 closes nothing of this worker's.
        unsafe { libc::dup2(moved, number) };
        // SAFETY: `moved` is this function's own copy, used no more.
        unsafe { libc::close(moved) };
    }
}

/// Where a received descriptor waits in a new worker before it takes its number.
const FIRST_AWAY: RawFd = 1000;

/// At most this many descriptors travel beside one request.
const MAX_INHERITED: usize = 16;

/// Every descriptor this process holds but the standard streams.
fn open_descriptors() -> Vec<RawFd> {
    let listed: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // The listing's own descriptor was in the list, and is closed now.
    listed
        .into_iter()
        .filter(|&fd| fd > 2 && is_open(fd))
        .collect()
}

/// A pidfd for the child `pid`, not yet reaped.
fn pidfd_open(pid: Pid) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags, no pointer; the result is a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just made for this process, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_reported_by_the_server_reads_as_the_status_waitpid_would_give() {
        let pid = Pid::from_raw(42);
        for status in [
            WaitStatus::Exited(pid, 0),
            WaitStatus::Exited(pid, 101),
            WaitStatus::Signaled(pid, Signal::SIGKILL, false),
            WaitStatus::Signaled(pid, Signal::SIGABRT, false),
        ] {
            let end = End::of(status).unwrap();
            assert_eq!(end.status(pid), status);
        }
        assert!(End::of(WaitStatus::StillAlive).is_none());
    }
}
