//! A worker's job as data: the same value runs in a thread and in a worker process.

use crate::trace::EventSink;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A worker's job as a value. A thread runs it from a closure; a worker process is sent it:
/// a forked child finds it in its copy of the parent's memory, and a spawned child receives
/// it serialised (as Python's spawn pickles the target and its arguments). A thread's job may
/// be any closure; a process's must be data, since a closure cannot leave its program.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// The worker's work; its events go to `out`, its result back to whoever started it.
    fn run(self, out: &dyn EventSink) -> Self::Output;
}
