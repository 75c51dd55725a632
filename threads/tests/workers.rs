//! The `threads` binary's worker bookkeeping, run as a user would.

const BACKEND: &str = "threads";

include!("../../tests/backend_workers.rs");
