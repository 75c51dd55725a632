//! What can stop `compare` before or while it runs the backends, as typed errors: each says
//! what went wrong in one line, and which exit code it ends the program with.

use contract::settings::EXIT_BAD_INPUT;
use std::path::PathBuf;

/// The exit code of a program whose stdout was closed by its reader (`| head`), as a
/// command killed by SIGPIPE ends.
pub const EXIT_STDOUT_CLOSED: u8 = 141;

/// Why `compare` stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the backend name '{0}' is given twice: every --backend needs a name of its own")]
    DuplicateName(String),

    #[error(
        "the {name} binary {} does not exist (build it with `cargo build --release -p {name}`, as scripts/compare does)",
        path.display()
    )]
    DefaultBackendMissing { name: String, path: PathBuf },

    #[error("cannot run the backend {name} ({})", program.display())]
    CannotRun {
        name: String,
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the backend options are refused by {name}: {line}")]
    Refused { name: String, line: String },

    #[error("the backend {name} does not speak the protocol: its `--list --json` is not a listing")]
    NotAListing {
        name: String,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "--start {method} reaches no backend: none declares a start method in its `--list --json` kind"
    )]
    StartReachesNone { method: &'static str },

    #[error("{} is not a file name", path.display())]
    ExportNotAFile { path: PathBuf },

    #[error("the folder {} for {} does not exist", folder.display(), path.display())]
    ExportFolderMissing { folder: PathBuf, path: PathBuf },

    #[error("cannot read the baseline {}: {source}", path.display())]
    BaselineUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "the baseline {} is not an export of compare (--export-json): {source}",
        path.display()
    )]
    BaselineNotAnExport {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error("--fail-on-regression needs --baseline FILE to compare with")]
    FailOnRegressionWithoutBaseline,

    #[error("{demo} cannot be swept over {param} (it sweeps: {sweeps})")]
    NotSwept {
        demo: &'static str,
        param: &'static str,
        sweeps: String,
    },

    #[error("{0}")]
    Options(String),

    #[error("stdout was closed")]
    StdoutClosed(#[source] std::io::Error),
}

impl Error {
    /// The exit code this error ends `compare` with: bad input (2) for everything found before
    /// the first run, 141 for a closed stdout.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::StdoutClosed(_) => EXIT_STDOUT_CLOSED,
            _ => EXIT_BAD_INPUT,
        }
    }
}

/// Why a `--backend NAME=COMMAND` value is refused (clap shows it after the value).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendSpecError {
    #[error("takes NAME=COMMAND, e.g. threads=target/release/threads")]
    NoEquals,
    #[error("the name before '=' is empty")]
    EmptyName,
    #[error("the name before '=' may not hold spaces")]
    SpaceInName,
    #[error("no program after '='")]
    NoProgram,
}

/// Why a `--timeout` value is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("--timeout takes a number of seconds greater than 0 (at most 86400)")]
pub struct TimeoutError;

/// Why a backend's stdout is not a report of the demo it was asked for.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("stdout is not the JSON document: {0}")]
    NotJson(serde_json::Error),
    #[error(
        "the JSON document does not declare its kind (\"kind\": {{\"worker\", \"isolated\"}}), which compare keys on"
    )]
    NoKind,
    #[error("stdout is not the JSON document: {0}")]
    NotADocument(serde_json::Error),
    #[error(
        "the JSON document declares the kind {found}, but the backend's listing declared {listed}"
    )]
    KindChanged { found: String, listed: String },
    #[error("the JSON document does not hold exactly the demo {0}")]
    WrongDemo(String),
}
