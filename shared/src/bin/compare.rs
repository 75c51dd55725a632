//! `compare`: runs the `threads` and `processes` binaries on every demo and reports every
//! difference between them. See `shared::compare`.

fn main() -> std::process::ExitCode {
    shared::compare::main()
}
