//! The `processes` binary's own command line, run as a user would.

const BACKEND: &str = "processes";

include!("../../tests/backend_cli.rs");
