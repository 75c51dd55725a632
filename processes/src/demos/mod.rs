//! One file per demo, mirroring `processes/src/demos/` line by line.

pub mod custom_init;
pub mod event;
pub mod join;
pub mod lock;
pub mod queue;
pub mod run_hooks;
pub mod start;
