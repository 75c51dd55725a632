//! The backends as data: `--backend NAME=COMMAND` parsed, the default pair found beside
//! `compare`, and each backend's `--list --json` read before anything runs. Its kind says
//! whether it takes `--start` and which backends must agree on `crash`; its demos say what it
//! can be asked. Nothing here keys on a backend's name.

use crate::error::{BackendSpecError, Error};
use contract::demos::DemoId;
use contract::domain::{BackendKind, StartMethod, WorkerKind};
use contract::report::Listing;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;

/// The backends compared when no `--backend` is given, found beside the `compare` program.
pub const DEFAULT_BACKENDS: [&str; 3] = ["threads", "processes", "tasks"];

/// A backend as the command line names it: `NAME=PROGRAM [ARGUMENT…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendSpec {
    /// The name the report shows; unique among the backends compared.
    pub name: String,
    pub program: PathBuf,
    /// Arguments COMMAND gives the program before compare's own.
    pub args: Vec<String>,
}

impl FromStr for BackendSpec {
    type Err = BackendSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, command) = text.split_once('=').ok_or(BackendSpecError::NoEquals)?;
        if name.is_empty() {
            return Err(BackendSpecError::EmptyName);
        }
        if name.chars().any(char::is_whitespace) {
            return Err(BackendSpecError::SpaceInName);
        }
        let mut words = command.split_whitespace().map(str::to_string);
        let program = words.next().ok_or(BackendSpecError::NoProgram)?;
        Ok(BackendSpec {
            name: name.to_string(),
            program: PathBuf::from(program),
            args: words.collect(),
        })
    }
}

/// The value parser of `--backend`.
pub fn parse_backend(text: &str) -> Result<BackendSpec, BackendSpecError> {
    text.parse()
}

impl BackendSpec {
    /// The command line as given: the program and its arguments.
    pub fn command_line(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect()
    }
}

/// The default backends: [`DEFAULT_BACKENDS`], each beside this program.
pub fn default_specs() -> Result<Vec<BackendSpec>, Error> {
    let here = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    DEFAULT_BACKENDS
        .iter()
        .map(|name| {
            let path = here.join(name);
            if path.is_file() {
                Ok(BackendSpec {
                    name: name.to_string(),
                    program: path,
                    args: Vec::new(),
                })
            } else {
                Err(Error::DefaultBackendMissing {
                    name: name.to_string(),
                    path,
                })
            }
        })
        .collect()
}

/// The Python backends, in the workspace's `scripts/python/`: (name suffix, script).
pub const PYTHON_BACKENDS: [(&str, &str); 2] = [
    ("threads", "python_threads.py"),
    ("processes", "python_processes.py"),
];

/// `--python [PATH]…`: both Python backends on each interpreter given. One interpreter names
/// them `python-threads` and `python-processes`; several name them after each interpreter's
/// file name (`python3.13t-threads`). An interpreter that is not there is bad input: one
/// line, before anything runs. Each is given the `image-server` beside this program, if
/// there is one, for `download`.
pub fn python_specs(interpreters: &[String]) -> Result<Vec<BackendSpec>, Error> {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/python");
    let image_server = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(contract::local_server::PROGRAM)))
        .filter(|path| path.is_file());
    let mut specs = Vec::new();
    for (index, interpreter) in interpreters.iter().enumerate() {
        let prefix = match interpreters.len() {
            1 => "python".to_string(),
            _ => python_name(interpreters, index),
        };
        let program = find_program(interpreter).ok_or_else(|| Error::CannotRun {
            name: format!("{prefix}-threads"),
            program: PathBuf::from(interpreter),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no Python interpreter there: give --python PATH to one, Python 3.9 or newer",
            ),
        })?;
        for (suffix, script) in PYTHON_BACKENDS {
            let mut args = vec![scripts.join(script).display().to_string()];
            args.extend(
                image_server
                    .iter()
                    .map(|p| format!("--image-server={}", p.display())),
            );
            specs.push(BackendSpec {
                name: format!("{prefix}-{suffix}"),
                program: program.clone(),
                args,
            });
        }
    }
    Ok(specs)
}

/// `python3.13t` for `/usr/bin/python3.13t`; an interpreter of the same file name as an
/// earlier one gets its position too (`python3-2`).
fn python_name(interpreters: &[String], index: usize) -> String {
    let file_name = |text: &str| {
        Path::new(text).file_name().map_or_else(
            || "python".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let name = file_name(&interpreters[index]);
    match interpreters[..index]
        .iter()
        .any(|earlier| file_name(earlier) == name)
    {
        true => format!("{name}-{}", index + 1),
        false => name,
    }
}

/// The program a name or path means: a path with a slash as it is, a bare name looked up
/// on `PATH`, as a shell does; `None` when it is not an executable file.
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let path = PathBuf::from(name);
        return executable(&path).then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|folder| folder.join(name))
        .find(|path| executable(path))
}

/// Refuses a name given twice.
pub fn check_unique(specs: &[BackendSpec]) -> Result<(), Error> {
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|earlier| earlier.name == spec.name) {
            return Err(Error::DuplicateName(spec.name.clone()));
        }
    }
    Ok(())
}

/// A backend ready to run: what it declared in its listing, and the arguments it gets.
#[derive(Clone, Debug)]
pub struct Backend {
    pub spec: BackendSpec,
    /// Its `--list --json`, run with [`Backend::args`].
    pub listing: Listing,
    /// Everything it is given after `--json DEMO`: the scale, the demo options, `--start`
    /// when its kind has a start method, and whatever came after `--`.
    pub args: Vec<String>,
}

impl Backend {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn kind(&self) -> &BackendKind {
        &self.listing.kind
    }

    /// The backend's listing names the demo.
    pub fn supports(&self, demo: DemoId) -> bool {
        self.listing.demos.iter().any(|id| id == demo.id())
    }

    /// The command that runs one demo: `PROGRAM [ARGUMENT…] --json DEMO [ARGS…]`.
    pub fn command(&self, demo: DemoId) -> Command {
        let mut command = Command::new(&self.spec.program);
        command
            .args(&self.spec.args)
            .arg("--json")
            .arg(demo.id())
            .args(&self.args);
        command
    }
}

/// Reads every backend's listing with the arguments it will be given and the demos that will
/// run (an option one demo limits, such as cpu's `--workers`, is checked against those), so
/// that a backend refuses bad options here, before anything runs. `--start` goes to the
/// backends whose kind has a start method, and to no other; given to none, it is bad input.
pub fn prepare(
    specs: Vec<BackendSpec>,
    common_args: &[String],
    start: Option<StartMethod>,
    demos: &[DemoId],
) -> Result<Vec<Backend>, Error> {
    let demo_ids = demos.iter().map(|d| d.id().to_string());
    let listed_with =
        |args: &[String]| -> Vec<String> { args.iter().cloned().chain(demo_ids.clone()).collect() };
    let mut backends = Vec::new();
    for spec in specs {
        let mut args = common_args.to_vec();
        let mut listing = list(&spec, &listed_with(&args))?;
        if let Some(method) = start
            && listing.kind.start_method.is_some()
        {
            args.extend(["--start".to_string(), method.id().to_string()]);
            listing = list(&spec, &listed_with(&args))?;
        }
        backends.push(Backend {
            spec,
            listing,
            args,
        });
    }
    if let Some(method) = start
        && backends.iter().all(|b| b.kind().start_method.is_none())
    {
        return Err(Error::StartReachesNone {
            method: method.id(),
        });
    }
    Ok(backends)
}

/// Runs `PROGRAM [ARGUMENT…] --list --json ARGS…` and reads the listing it prints.
fn list(spec: &BackendSpec, args: &[String]) -> Result<Listing, Error> {
    let output = Command::new(&spec.program)
        .args(&spec.args)
        .args(["--list", "--json"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::CannotRun {
            name: spec.name.clone(),
            program: spec.program.clone(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr
            .lines()
            .find(|line| !line.trim().is_empty())
            .map_or_else(
                || format!("it ended with {}", output.status),
                |line| line.trim().to_string(),
            );
        return Err(Error::Refused {
            name: spec.name.clone(),
            line,
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|source| Error::NotAListing {
        name: spec.name.clone(),
        source,
    })
}

/// Backends of the same kind of worker and isolation must agree even where the outcome
/// depends on the kind (`crash`); this is what they share.
pub fn agreement_group(kind: &BackendKind) -> (WorkerKind, bool) {
    (kind.worker, kind.isolated)
}

/// `thread workers, not isolated`, `process workers, isolated, started by fork`, `task
/// workers, not isolated, on a multi-thread executor of 2 threads`.
pub fn describe_kind(kind: &BackendKind) -> String {
    let worker = match kind.worker {
        WorkerKind::Rank => "MPI rank",
        other => other.id(),
    };
    let isolation = if kind.isolated {
        "isolated"
    } else {
        "not isolated"
    };
    let described = match &kind.start_method {
        Some(method) => format!("{worker} workers, {isolation}, started by {method}"),
        None => format!("{worker} workers, {isolation}"),
    };
    match &kind.executor {
        Some(executor) => format!(
            "{described}, on a {} executor of {} thread{}",
            executor.flavour,
            executor.worker_threads,
            if executor.worker_threads == 1 {
                ""
            } else {
                "s"
            }
        ),
        None => described,
    }
}

/// `threads, processes: Rust · python-threads, python-processes: CPython 3.11.7, GIL
/// enabled`: what each backend runs on, from its listing, grouped, in the order given.
pub fn runtimes_line<'a>(
    backends: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, String>)>,
) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, runtime) in backends {
        let field = |key: &str| runtime.get(key).map(String::as_str);
        let mut said = field("implementation")
            .or(field("language"))
            .unwrap_or("unknown")
            .to_string();
        if let Some(version) = field("version") {
            said.push_str(&format!(" {version}"));
        }
        if let Some(gil) = field("gil") {
            // `enabled (this Python has no free-threaded build)`: the first word says it.
            let state = gil.split_whitespace().next().unwrap_or(gil);
            said.push_str(&format!(", GIL {state}"));
        }
        match groups.iter_mut().find(|(seen, _)| *seen == said) {
            Some((_, names)) => names.push(name),
            None => groups.push((said, vec![name])),
        }
    }
    groups
        .iter()
        .map(|(said, names)| format!("{}: {said}", names.join(", ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtimes_line_groups_backends_by_what_they_run_on() {
        let rust = BTreeMap::from([("language".to_string(), "Rust".to_string())]);
        let python = BTreeMap::from([
            ("language".to_string(), "Python".to_string()),
            ("implementation".to_string(), "CPython".to_string()),
            ("version".to_string(), "3.11.7".to_string()),
            (
                "gil".to_string(),
                "enabled (no free-threaded build)".to_string(),
            ),
        ]);
        let line = runtimes_line([
            ("threads", &rust),
            ("python-threads", &python),
            ("processes", &rust),
            ("python-processes", &python),
        ]);
        assert_eq!(
            line,
            "threads, processes: Rust · python-threads, python-processes: CPython 3.11.7, GIL \
             enabled"
        );
    }

    #[test]
    fn a_backend_is_a_name_and_a_command() {
        assert_eq!(
            "spare=target/debug/threads --seed 7".parse(),
            Ok(BackendSpec {
                name: "spare".into(),
                program: "target/debug/threads".into(),
                args: vec!["--seed".into(), "7".into()],
            })
        );
        assert_eq!(
            "noequals".parse::<BackendSpec>(),
            Err(BackendSpecError::NoEquals)
        );
        assert_eq!(
            "=x".parse::<BackendSpec>(),
            Err(BackendSpecError::EmptyName)
        );
        assert_eq!(
            "a b=x".parse::<BackendSpec>(),
            Err(BackendSpecError::SpaceInName)
        );
        assert_eq!(
            "x=  ".parse::<BackendSpec>(),
            Err(BackendSpecError::NoProgram)
        );
    }

    #[test]
    fn a_name_given_twice_is_refused() {
        let spec = |name: &str| BackendSpec {
            name: name.into(),
            program: "p".into(),
            args: vec![],
        };
        assert!(check_unique(&[spec("a"), spec("b")]).is_ok());
        assert!(matches!(
            check_unique(&[spec("a"), spec("b"), spec("a")]),
            Err(Error::DuplicateName(name)) if name == "a"
        ));
    }
}
