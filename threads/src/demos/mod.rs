//! One file per demo, mirroring `processes/src/demos/` line by line.

pub mod custom_init;
pub mod download;
pub mod join;
pub mod run_hooks;
pub mod start;
