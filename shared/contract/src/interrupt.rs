//! Ctrl-C and SIGTERM, and the one way a backend's main flow waits.
//!
//! The two signals only set a flag: no code of ours runs in signal context, and no thread is
//! started (the processes backend must stay single-threaded to fork). The handler is
//! installed with `SA_RESTART`, so a blocking call the signal lands in (a sleep, a `read`, a
//! `waitpid`, a futex wait) is restarted by the kernel or by std, and would go on waiting as
//! if nothing had happened. Hence the rule: every wait of the main flow, for a worker, a
//! message, a line, an event or the end of a pause, goes through [`wait`], which waits in
//! turns of at most [`TURN`] and looks at the flag before each. An interrupt is then honoured
//! within a turn, whatever the main flow was waiting for.
//!
//! Workers do not look at the flag: a worker process gets the signal's default action back
//! (Ctrl-C to the group ends it; a signal to its parent alone makes the parent kill it), and a
//! worker thread ends with its process.

use crate::run::DemoError;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::{Child, ExitStatus};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest a wait blocks before it looks at the flag again.
pub const TURN: Duration = Duration::from_millis(20);

static REQUESTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// A wait ended because SIGINT or SIGTERM arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

impl From<Interrupted> for DemoError {
    fn from(_: Interrupted) -> Self {
        DemoError::Interrupted
    }
}

/// Makes SIGINT and SIGTERM set the flag instead of ending the process. Registration stores
/// to an atomic in the handler and starts no thread.
pub fn install() {
    let flag = REQUESTED.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(error) = signal_hook::flag::register(signal, Arc::clone(flag)) {
            // Without the handler the signal keeps its default action and ends the process
            // at once; helper processes then die of their parent-death signal.
            eprintln!("cannot catch signal {signal}: {error}");
        }
    }
}

/// True once SIGINT or SIGTERM has arrived (never, before [`install`]).
pub fn requested() -> bool {
    REQUESTED
        .get()
        .is_some_and(|flag| flag.load(Ordering::Relaxed))
}

/// Waits until `attempt` gives a value, at most `limit` (`None`: as long as it takes).
///
/// `attempt` is called once per turn with the longest it may block (at most [`TURN`], less
/// near the limit); it returns `Some` when the wait is over. The flag is looked at before
/// every turn, so an interrupt ends the wait within a turn. Returns `Ok(None)` once the limit
/// has passed, after at least one attempt.
pub fn wait<T>(
    limit: Option<Duration>,
    mut attempt: impl FnMut(Duration) -> Option<T>,
) -> Result<Option<T>, Interrupted> {
    // No limit, no clock: a wait that is over at its first attempt costs one atomic load.
    let deadline = limit.map(|limit| Instant::now().checked_add(limit));
    loop {
        if requested() {
            return Err(Interrupted);
        }
        let turn = match deadline {
            Some(Some(deadline)) => deadline.saturating_duration_since(Instant::now()).min(TURN),
            _ => TURN,
        };
        if let Some(value) = attempt(turn) {
            return Ok(Some(value));
        }
        if let Some(Some(deadline)) = deadline
            && Instant::now() >= deadline
        {
            return Ok(None);
        }
    }
}

/// [`wait`] without a limit.
pub fn wait_until<T>(attempt: impl FnMut(Duration) -> Option<T>) -> Result<T, Interrupted> {
    wait(None, attempt).map(|value| value.expect("a wait without a limit ends only with a value"))
}

/// Sleeps for `duration`, in turns.
pub fn sleep(duration: Duration) -> Result<(), Interrupted> {
    wait(Some(duration), |turn| {
        std::thread::sleep(turn);
        None::<()>
    })
    .map(drop)
}

/// Waits at most `turn` for `fd` to be readable (or closed at the other end); a signal that
/// lands in the wait ends it early. True when a read would not block.
pub fn readable_within(fd: BorrowedFd<'_>, turn: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    let millis = u16::try_from(turn.as_millis()).unwrap_or(u16::MAX);
    // EINTR (a signal) counts as "not yet": the caller's next turn looks at the flag.
    matches!(poll(&mut fds, PollTimeout::from(millis)), Ok(n) if n > 0)
}

/// Reads one line into `line` (its `\n` included) as [`BufRead::read_line`] does, waiting
/// for the bytes in turns. The outer `Err` is an interrupt; the inner result is the read's.
/// Returns `Ok(Ok(0))` at the end of the stream.
pub fn read_line<R: Read + AsFd>(
    reader: &mut BufReader<R>,
    line: &mut String,
) -> Result<io::Result<usize>, Interrupted> {
    let mut bytes = Vec::new();
    loop {
        // What is buffered already needs no wait.
        let buffered = reader.buffer();
        if let Some(end) = buffered.iter().position(|&b| b == b'\n') {
            bytes.extend_from_slice(&buffered[..=end]);
            reader.consume(end + 1);
            break;
        }
        bytes.extend_from_slice(buffered);
        let taken = buffered.len();
        reader.consume(taken);
        wait_until(|turn| readable_within(reader.get_ref().as_fd(), turn).then_some(()))?;
        // Readable: this read returns at once, with what has come (nothing at the end).
        match reader.fill_buf() {
            Ok([]) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    let count = bytes.len();
    match String::from_utf8(bytes) {
        Ok(text) => {
            line.push_str(&text);
            Ok(Ok(count))
        }
        Err(e) => Ok(Err(io::Error::new(io::ErrorKind::InvalidData, e))),
    }
}

/// Waits for `child` to end and reaps it. The wait is on the child's pidfd, which wakes the
/// moment it ends and names that process alone, even once its pid is reused.
pub fn wait_for_exit(child: &mut Child) -> Result<io::Result<ExitStatus>, Interrupted> {
    // A child reaped already has no process any more for a pidfd to name.
    match child.try_wait() {
        Ok(Some(status)) => return Ok(Ok(status)),
        Ok(None) => {}
        Err(e) => return Ok(Err(e)),
    }
    let pid = rustix::process::Pid::from_child(child);
    let pidfd = match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        Ok(pidfd) => pidfd,
        Err(e) => return Ok(Err(e.into())),
    };
    wait_until(|turn| readable_within(pidfd.as_fd(), turn).then_some(()))?;
    Ok(child.wait())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_ends_with_its_value_or_at_its_limit() {
        let mut turns = 0;
        assert_eq!(
            wait(Some(Duration::from_secs(5)), |_| {
                turns += 1;
                (turns == 3).then_some("third")
            }),
            Ok(Some("third"))
        );
        let started = Instant::now();
        let mut longest = Duration::ZERO;
        assert_eq!(
            wait(Some(Duration::from_millis(50)), |turn| {
                longest = longest.max(turn);
                std::thread::sleep(turn);
                None::<()>
            }),
            Ok(None)
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(longest <= TURN, "{longest:?}");
        // A limit of zero still makes one attempt.
        assert_eq!(wait(Some(Duration::ZERO), |_| Some(1)), Ok(Some(1)));
    }

    #[test]
    fn a_line_is_read_across_several_writes_and_the_end_is_seen() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let writing = std::thread::spawn(move || {
            use std::io::Write;
            writer.write_all(b"listen").unwrap();
            writer.write_all(b"ing on x\nsecond").unwrap();
        });
        let mut reader = BufReader::new(reader);
        let mut line = String::new();
        assert_eq!(read_line(&mut reader, &mut line).unwrap().unwrap(), 15);
        assert_eq!(line, "listening on x\n");
        writing.join().unwrap();
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).unwrap().unwrap(), 6);
        assert_eq!(line, "second");
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).unwrap().unwrap(), 0);
    }
}
