//! The contract's worker bodies that wait, with the wait awaited instead of blocking: the same
//! events in the same order as `contract::workloads` and the demos' jobs, but a sleeping task
//! gives its worker thread back to the runtime (`tokio::time::sleep`), where a blocking
//! `std::thread::sleep` would hold it, and every other task queued on it, for the whole sleep.

use crate::workers::TaskSink;
use contract::EventSink;
use contract::domain::CrashFault;
use contract::trace::format_seconds;
use std::time::Duration;

/// The notebook's `sleeper` (`contract::workloads::sleeper`): announce, sleep, announce.
pub async fn sleeper(out: &TaskSink, seconds: f64) {
    out.emit(
        "sleeping",
        Some(format!("for {} s", format_seconds(seconds))),
    );
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    out.emit("finished", None);
}

/// The sleeper between `run-hooks`' hooks (`contract::demos::run_hooks::HookedSleeper`):
/// the hooks are an async wrapper around the target.
pub async fn hooked_sleeper(out: &TaskSink, seconds: f64) {
    out.emit("started", None);
    sleeper(out, seconds).await;
    out.emit("done", None);
}

/// `crash`'s sleeper (`contract::demos::crash::crash_sleeper`): the doomed one dies as
/// `fault` says right after it starts sleeping.
pub async fn crash_sleeper(out: &TaskSink, seconds: f64, doomed: Option<CrashFault>) {
    out.emit(
        "sleeping",
        Some(format!("for {} s", format_seconds(seconds))),
    );
    if let Some(fault) = doomed {
        out.emit("dying", Some(format!("by {}", fault.id())));
        contract::demos::crash::die(fault);
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    out.emit("finished", None);
}
