//! The `tasks` binary's own command line, run as a user would.

const BACKEND: &str = "tasks";

include!("../../tests/backend_cli.rs");
