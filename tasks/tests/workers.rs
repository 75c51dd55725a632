//! The `tasks` binary's worker bookkeeping, run as a user would.

const BACKEND: &str = "tasks";

include!("../../tests/backend_workers.rs");
