//! `compare`: runs backends (by default the `threads` and `processes` programs beside it) on
//! every demo, checks every outcome against the contract, and reports every difference
//! between them.

use anyhow::Context;
use clap::Parser;
use harness::error::EXIT_STDOUT_CLOSED;
use harness::{CompareCli, Error, Verdict};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn main() -> ExitCode {
    let cli = match CompareCli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("compare: {}", runner::cli::one_line(&error));
            return ExitCode::from(contract::settings::EXIT_BAD_INPUT);
        }
    };
    match run(&cli) {
        Ok(verdict) => ExitCode::from(verdict.exit_code()),
        Err(error) => {
            let code = error.downcast_ref::<Error>().map_or(1, Error::exit_code);
            // A reader that closed stdout (`| head`) wants nothing more, not even a message.
            if code != EXIT_STDOUT_CLOSED {
                eprintln!("compare: error: {error:#}");
            }
            ExitCode::from(code)
        }
    }
}

fn run(cli: &CompareCli) -> anyhow::Result<Verdict> {
    // Ctrl-C reaches the backend under way too, and SIGTERM is passed on to it; it ends with
    // 130, and compare then keeps what it measured, writes its exports and ends with 130 too.
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&interrupted))
            .context("cannot watch for Ctrl-C and SIGTERM")?;
    }
    Ok(harness::compare(cli, &interrupted)?)
}
