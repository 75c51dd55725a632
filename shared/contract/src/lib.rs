//! The contract both backends implement, written once.
//!
//! Everything here is independent of *how* workers are made: the demo catalogue
//! ([`catalogue`]), the command line both binaries share ([`cli`]), the event trace
//! ([`trace`]), each demo's typed outcome and its check ([`outcome`]), the work the
//! workers do ([`workloads`]; for the shared-state demos [`counter`], [`queues`] and
//! [`event_flag`], with [`baseline`] round trips to compare against; for `download`
//! [`download`], [`images`] and the local [`image_server`]) and the runner both `main.rs`
//! files call ([`runner`]). The comparison harness, the `compare` binary, lives in
//! [`compare`].
//!
//! A backend is a type implementing [`runner::Backend`], which has one method per demo:
//! a backend that lacks a demo does not compile. The `threads` and `processes` crates
//! each implement it; their `demos/<id>.rs` files mirror each other line by line, so
//! that only the concurrency mechanism differs between them.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod bench;
pub mod counter;
pub mod demos;
pub mod domain;
pub mod download;
pub mod event_flag;
pub mod files;
pub mod images;
pub mod interrupt;
pub mod job;
pub mod local_server;
pub mod outcome;
pub mod queues;
pub mod report;
pub mod run;
pub mod settings;
pub mod trace;
pub mod workloads;

pub use demos::DemoId;
pub use job::Job;
pub use run::{DemoError, DemoRun, RunSettings};
pub use trace::{Event, EventSink, Trace};
