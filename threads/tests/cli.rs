//! The `threads` binary's own command line, run as a user would.

const BACKEND: &str = "threads";

include!("../../tests/backend_cli.rs");
