//! Raw channel round trips, the yardstick for `queue`'s put+get: the same measurement in
//! both binaries, between two threads of one process (in `processes` it runs inside a
//! worker, so that the parent that forks stays single-threaded).

use crate::job::Job;
use crate::trace::EventSink;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Nanoseconds per round trip over a pair of crossbeam channels to an echo thread.
pub fn crossbeam_round_trip_ns(count: u64) -> Result<f64, String> {
    let (ping_tx, ping_rx) = crossbeam_channel::bounded::<u64>(1);
    let (pong_tx, pong_rx) = crossbeam_channel::bounded::<u64>(1);
    round_trip_ns(
        count,
        move || {
            for n in ping_rx {
                if pong_tx.send(n).is_err() {
                    break;
                }
            }
        },
        move |n| {
            ping_tx
                .send(n)
                .map_err(|_| "the echo thread ended".to_string())
        },
        move || {
            pong_rx
                .recv()
                .map_err(|_| "the echo thread ended".to_string())
        },
    )
}

/// Nanoseconds per round trip over a pair of ipc-channels to an echo thread.
pub fn ipc_round_trip_ns(count: u64) -> Result<f64, String> {
    let channel = || ipc_channel::ipc::channel::<u64>().map_err(|e| format!("ipc channel: {e}"));
    let (ping_tx, ping_rx) = channel()?;
    let (pong_tx, pong_rx) = channel()?;
    round_trip_ns(
        count,
        move || {
            while let Ok(n) = ping_rx.recv() {
                if pong_tx.send(n).is_err() {
                    break;
                }
            }
        },
        move |n| {
            ping_tx
                .send(n)
                .map_err(|e| format!("ipc send to the echo thread: {e}"))
        },
        move || {
            pong_rx
                .recv()
                .map_err(|e| format!("ipc receive from the echo thread: {e}"))
        },
    )
}

/// Starts `echo` on a thread of its own, then times `count` round trips: `send` a number,
/// `receive` it back. Dropping `send` at the end closes the echo thread's inbox.
fn round_trip_ns(
    count: u64,
    echo: impl FnOnce() + Send + 'static,
    mut send: impl FnMut(u64) -> Result<(), String>,
    mut receive: impl FnMut() -> Result<u64, String>,
) -> Result<f64, String> {
    let echo = std::thread::Builder::new()
        .name("echo".into())
        .spawn(echo)
        .map_err(|e| format!("spawning the echo thread: {e}"))?;
    let started = Instant::now();
    for n in 0..count {
        send(n)?;
        let answer = receive()?;
        if answer != n {
            return Err(format!("the echo thread answered {answer} to {n}"));
        }
    }
    let per_trip = started.elapsed().as_nanos() as f64 / count as f64;
    drop(send);
    echo.join()
        .map_err(|_| "the echo thread panicked".to_string())?;
    Ok(per_trip)
}

/// The raw round trips through a crossbeam channel and an ipc-channel, as one worker's job.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct RawRoundTrips {
    pub count: u64,
}

impl Job for RawRoundTrips {
    type Output = Result<(f64, f64), String>;

    fn run(self, out: &dyn EventSink) -> Result<(f64, f64), String> {
        let count = self.count;
        out.emit(
            "timing",
            Some(format!("{count} round trips per channel, as baselines")),
        );
        Ok((crossbeam_round_trip_ns(count)?, ipc_round_trip_ns(count)?))
    }
}
