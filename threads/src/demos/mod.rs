//! One file per demo, mirroring `processes/src/demos/` line by line.

pub mod channel;
pub mod cpu;
pub mod crash;
pub mod custom_init;
pub mod download;
pub mod event;
pub mod join;
pub mod lock;
pub mod queue;
pub mod run_hooks;
pub mod spawn;
pub mod start;
