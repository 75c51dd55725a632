//! The command line both binaries share: same flags, same errors, same exit codes.

use crate::catalogue::DemoId;
use clap::{Parser, ValueEnum};
use std::fmt;

/// Exit code for bad input (unknown demo, bad number, unknown flag).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the run was interrupted (Ctrl-C), as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The largest `--scale` accepted: beyond it a default run would take days.
pub const MAX_SCALE: f64 = 100.0;

/// Run the tutorial's demos on this backend, narrate them and check each outcome.
#[derive(Parser, Debug, Clone)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// Demos to run, in the order given (default: every demo, in catalogue order)
    #[arg(value_name = "DEMO", value_parser = parse_demo)]
    pub demos: Vec<DemoId>,

    /// Print the demo ids with their descriptions and parameters, then exit
    #[arg(long)]
    pub list: bool,

    /// Multiply every sleep by F (tests use 0.01)
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = parse_scale, allow_hyphen_values = true)]
    pub scale: f64,

    /// Print one JSON document (DEMOS.md "Machine-readable output") instead of the narration
    #[arg(long)]
    pub json: bool,

    /// Print only the verdict lines, no narration
    #[arg(long, short)]
    pub quiet: bool,

    /// Make the first worker of each demo die right after its first event, to see what
    /// the backend reports (a killed child; a thread, which cannot be killed alone, panics)
    #[arg(long, value_name = "FAULT", value_enum)]
    pub inject: Option<Fault>,
}

/// A fault `--inject`ed into the first worker of each demo, right after its first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Fault {
    /// processes: the child sends itself SIGKILL. threads: a thread cannot be killed on
    /// its own (a signal would take the whole process), so it panics instead.
    KillWorker,
    /// Both backends: the worker panics.
    PanicWorker,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::KillWorker => "kill-worker",
            Fault::PanicWorker => "panic-worker",
        })
    }
}

impl Cli {
    /// The demos to run: the ones named, or every demo in catalogue order.
    pub fn selected_demos(&self) -> Vec<DemoId> {
        if self.demos.is_empty() {
            DemoId::ALL.to_vec()
        } else {
            self.demos.clone()
        }
    }

    /// Checks that need the whole command line: a demo named twice.
    pub fn validate(&self) -> Result<(), String> {
        for (i, demo) in self.demos.iter().enumerate() {
            if self.demos[..i].contains(demo) {
                return Err(format!("demo '{demo}' is named twice"));
            }
        }
        Ok(())
    }
}

/// Parses a demo id, refusing empty and unknown names.
pub fn parse_demo(name: &str) -> Result<DemoId, String> {
    name.parse()
}

/// Parses `--scale`: a finite number greater than 0, at most [`MAX_SCALE`].
pub fn parse_scale(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "--scale takes a number, e.g. 0.01".to_string())?;
    if !value.is_finite() || value <= 0.0 {
        return Err("--scale must be a finite number greater than 0".to_string());
    }
    if value > MAX_SCALE {
        return Err(format!("--scale must be at most {MAX_SCALE}"));
    }
    Ok(value)
}

/// Reduces a clap error to the one line that names the problem, e.g.
/// `error: invalid value 'x' for '--scale <F>': --scale takes a number, e.g. 0.01`.
pub fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    rendered
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("error: bad command line")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_must_be_finite_and_positive() {
        assert_eq!(parse_scale("0.01"), Ok(0.01));
        for bad in ["0", "-1", "nan", "inf", "x", "", "1000"] {
            assert!(parse_scale(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn demo_names_are_checked() {
        assert_eq!(parse_demo("run-hooks"), Ok(DemoId::RunHooks));
        assert_eq!(parse_demo(""), Err("empty demo name".to_string()));
        assert!(
            parse_demo("joins")
                .unwrap_err()
                .contains("unknown demo 'joins'")
        );
    }

    #[test]
    fn a_demo_named_twice_is_refused() {
        let cli = Cli::try_parse_from(["threads", "start", "join", "start"]).unwrap();
        assert_eq!(
            cli.validate(),
            Err("demo 'start' is named twice".to_string())
        );
    }

    #[test]
    fn clap_errors_become_one_line() {
        let error = Cli::try_parse_from(["threads", "--bogus"]).unwrap_err();
        let line = one_line(&error);
        assert!(
            line.starts_with("error:") && line.contains("--bogus"),
            "{line}"
        );
    }
}
