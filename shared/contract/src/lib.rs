//! The contract every backend implements, written once: the bottom layer of the workspace.
//!
//! It knows nothing of how workers are made, and nothing of a command line. Read it top-down:
//!
//! - **What a run is.** [`run`]: the run context a demo gets ([`DemoRun`]: its settings, its
//!   trace, its figures) and why a demo may end without an outcome ([`DemoError`]);
//!   [`trace`]: the events, narrated as they come; [`timeline`]: the events as a row per
//!   worker with its sleeps, waits and work (the HTML report's timelines and `--timeline`);
//!   [`domain`]: the small domain types (faults, start methods, what a backend's workers
//!   are); [`settings`]: the demo options as the command line parses them; [`report`]: the
//!   JSON document a backend prints.
//! - **The demos.** [`demos`]: one module per demo (its parameters and defaults, its outcome
//!   and the outcome's check, its headline figures, its workers' jobs as data) and the
//!   catalogue generated from one list of them ([`for_each_demo!`]); [`outcome`]: what every
//!   outcome is; [`job`]: a worker's job as data, run by a thread from a closure and sent to
//!   a worker process.
//! - **The work that is not the mechanism**, called from every backend: [`workloads`] (the
//!   tutorial's sleeper), [`counter`], [`queues`] and [`event_flag`] (the shared-state demos'
//!   loops, orders and draws, over a lock, queue or event each backend supplies),
//!   [`baseline`] and [`bench`](mod@bench) (raw round trips and timing loops), [`images`],
//!   [`local_server`] and [`files`] (the image files, the image server's protocol, and files
//!   written whole or not at all).
//!
//! Above it, `runner` adds the command line and the runner every backend binary calls; the
//! backends (`threads`, `processes`) implement each demo in one file, `demos/<id>.rs`, which
//! mirror each other so that only the mechanism differs; `harness` runs any list of backends
//! and checks their outcomes with this crate's checks. Errors: [`DemoError`] (thiserror) in
//! the parent; a check's or a worker's failure is one line of text, which crosses processes.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod bench;
pub mod counter;
pub mod demos;
pub mod domain;
pub mod event_flag;
pub mod files;
pub mod images;
pub mod interrupt;
pub mod job;
pub mod local_server;
pub mod outcome;
pub mod queue_owner;
pub mod queues;
pub mod report;
pub mod run;
pub mod settings;
pub mod timeline;
pub mod trace;
pub mod units;
pub mod verdict;
pub mod workloads;

pub use demos::DemoId;
pub use job::Job;
pub use run::{DemoError, DemoRun, RunSettings};
pub use trace::{Event, EventSink, Trace};
