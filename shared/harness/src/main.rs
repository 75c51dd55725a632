//! `compare`: runs the `threads` and `processes` binaries on every demo and reports every
//! difference between them. See `contract::compare`.

fn main() -> std::process::ExitCode {
    harness::main()
}
