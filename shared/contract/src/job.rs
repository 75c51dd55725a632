//! A worker's job as data: the same value runs in a thread and in a worker process.

use crate::trace::EventSink;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::os::fd::RawFd;

/// A worker's job as a value. A thread runs it from a closure; a worker process is sent it
/// serialised, forked or spawned (as Python's spawn pickles the target and its arguments),
/// with the channel ends and shared memory it carries. A thread's job may be any closure; a
/// process's must be data, since a closure cannot leave its program.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// The worker's work; its events go to `out`, its result back to whoever started it.
    fn run(self, out: &dyn EventSink) -> Self::Output;

    /// The descriptors this job names by number (a raw socket), which its worker process
    /// must keep from those it inherits: a worker closes every other inherited descriptor.
    /// Channel ends and shared memory travel inside the job's value and are not listed.
    fn inherited_descriptors(&self) -> Vec<RawFd> {
        Vec::new()
    }
}
