//! The run context every demo gets: its settings, its trace and its figures, and why a demo
//! may end without an outcome.

use crate::demos::DemoId;
use crate::domain::{BackendKind, Fault, StartMethod};
use crate::report::{DemoReport, Figures};
use crate::settings::{self, DemoOptions, DownloadArgs};
use crate::trace::{Echo, MAIN, Trace};
use std::sync::{Arc, Mutex};

/// Why a demo did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A worker ended without doing its job; `how` says how (exit code, signal, panic).
    #[error("{worker} {how}")]
    WorkerDied { worker: String, how: String },
    /// Ctrl-C: the run stops, every worker is ended and reaped.
    #[error("interrupted")]
    Interrupted,
    /// The operating system refused something (fork, a channel, a thread).
    #[error("{0}")]
    System(String),
}

impl DemoError {
    /// Wraps an OS error with what was being attempted; when the error is a limit the OS
    /// enforces (open files, processes and threads, memory), says which and how to raise it.
    pub fn system(doing: &str, error: impl std::fmt::Display) -> Self {
        let said = error.to_string();
        match limit_reached(&said) {
            Some(limit) => DemoError::System(format!("{doing}: {said}: {limit}")),
            None => DemoError::System(format!("{doing}: {said}")),
        }
    }
}

/// The limit an OS error stands for, named with its current value and how to raise it, from
/// the error as nix (`EMFILE: Too many open files`) or std (`… (os error 24)`) says it.
pub fn limit_reached(error: &str) -> Option<String> {
    use nix::sys::resource::{Resource, getrlimit};
    let soft = |resource| match getrlimit(resource) {
        Ok((soft, _)) if soft == nix::sys::resource::RLIM_INFINITY => "unlimited".to_string(),
        Ok((soft, _)) => soft.to_string(),
        Err(_) => "unknown".to_string(),
    };
    let is = |names: &[&str]| names.iter().any(|name| error.contains(name));
    if is(&["EMFILE", "(os error 24)"]) {
        Some(format!(
            "the open-file limit of this process is reached (RLIMIT_NOFILE, now {}): raise it \
             with `ulimit -n`",
            soft(Resource::RLIMIT_NOFILE)
        ))
    } else if is(&["ENFILE", "(os error 23)"]) {
        Some("the system's open-file table is full: raise fs.file-max with sysctl".to_string())
    } else if is(&["EAGAIN", "(os error 11)"]) {
        // fork and pthread_create both say EAGAIN for a process limit, and pthread_create
        // also for a stack it cannot map: every limit that can be behind it, with its value.
        Some(format!(
            "the OS refused another process or thread, a limit is reached (RLIMIT_NPROC now {}, \
             RLIMIT_AS now {} for the stacks, or kernel.threads-max, kernel.pid_max, a cgroup's \
             pids.max): raise the low one (`ulimit -u`, `ulimit -v`, sysctl)",
            soft(Resource::RLIMIT_NPROC),
            soft(Resource::RLIMIT_AS)
        ))
    } else if is(&["ENOMEM", "(os error 12)"]) {
        Some(format!(
            "memory is exhausted (RLIMIT_AS, now {} bytes; or the machine's memory): raise it \
             with `ulimit -v`",
            soft(Resource::RLIMIT_AS)
        ))
    } else {
        None
    }
}

/// The settings of a run that every demo of it shares, from the command line.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub scale: f64,
    pub inject: Option<Fault>,
    pub start: StartMethod,
    pub options: DemoOptions,
    pub download: DownloadArgs,
    pub crash_copy: bool,
}

/// Everything a demo needs while it runs: its settings, its trace and its figures. A clone
/// shares the trace and the figures (a main flow that must own its run, such as a task's,
/// records into the same ones).
#[derive(Clone)]
pub struct DemoRun {
    demo: DemoId,
    backend: &'static str,
    kind: BackendKind,
    scale: f64,
    fault: Option<Fault>,
    start_method: StartMethod,
    options: DemoOptions,
    download: DownloadArgs,
    ideal_wall_s: Arc<Mutex<Option<f64>>>,
    crash_copy: bool,
    trace: Arc<Trace>,
    figures: Arc<Mutex<Figures>>,
}

impl DemoRun {
    /// A run of `demo` on `backend` with the command line's settings, echoing as `echo` says.
    pub fn new(
        demo: DemoId,
        (backend, kind): (&'static str, &BackendKind),
        cli: &RunSettings,
        echo: Echo,
    ) -> Self {
        DemoRun {
            demo,
            backend,
            kind: kind.clone(),
            scale: cli.scale,
            fault: cli.inject,
            start_method: cli.start,
            options: cli.options.clone(),
            download: cli.download.clone(),
            ideal_wall_s: Arc::new(Mutex::new(None)),
            crash_copy: cli.crash_copy,
            trace: Arc::new(Trace::new(echo)),
            figures: Arc::new(Mutex::new(Figures::default())),
        }
    }

    pub fn demo(&self) -> DemoId {
        self.demo
    }

    /// `threads` or `processes`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// What this backend's workers are, as its JSON declares it.
    pub fn kind(&self) -> &BackendKind {
        &self.kind
    }

    /// `--start`: how the processes backend starts its workers.
    pub fn start_method(&self) -> StartMethod {
        self.start_method
    }

    /// `--count`, or the demo's own default (see [`DemoId::default_count`]).
    pub fn count(&self) -> u64 {
        self.options
            .count
            .or(self.demo.default_count())
            .expect("only a demo with a default --count asks for it")
    }

    /// `--seed`: the seed of `event`'s draws.
    pub fn seed(&self) -> u64 {
        self.options.seed.unwrap_or(settings::DEFAULT_SEED)
    }

    /// `--trials`: timed repetitions of `event`'s set→wake-up.
    pub fn trials(&self) -> u32 {
        self.options.trials.unwrap_or(settings::DEFAULT_TRIALS)
    }

    /// The options of `download`.
    pub fn download(&self) -> &DownloadArgs {
        &self.download
    }

    /// Replaces the catalogue's ideal wall time when the demo's options change it
    /// (e.g. a server's latency), in seconds at this scale.
    pub fn set_ideal_wall_s(&self, seconds: f64) {
        *self.ideal_wall_s.lock().unwrap_or_else(|p| p.into_inner()) = Some(seconds);
    }

    /// The per-demo options as given; each demo applies its own defaults.
    pub fn options(&self) -> &DemoOptions {
        &self.options
    }

    /// True in the copy of the program that the threads backend starts to survive a
    /// `crash` round that ends a whole process.
    pub fn is_crash_copy(&self) -> bool {
        self.crash_copy
    }

    /// A measurement recorded earlier in this run.
    pub fn measured_value(&self, name: &str) -> Option<f64> {
        self.figures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .measured
            .get(name)
            .copied()
    }

    /// `--scale`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Records one named measurement (unit in the name).
    pub fn measured(&self, name: &str, value: f64) {
        self.figures(|f| {
            f.measured.insert(name.to_string(), value);
        });
    }

    /// Notebook seconds times `--scale`.
    pub fn seconds(&self, notebook_seconds: f64) -> f64 {
        notebook_seconds * self.scale
    }

    pub fn trace(&self) -> &Arc<Trace> {
        &self.trace
    }

    /// The main flow emits an event (the notebook's `print` in the main program).
    pub fn main_says(&self, what: &str, detail: Option<String>) {
        self.trace.emit(MAIN, what, detail);
    }

    /// The fault to inject into the worker started `index`-th in this demo, if any:
    /// only the first worker is made to die.
    pub fn fault_for(&self, index: usize) -> Option<Fault> {
        self.fault.filter(|_| index == 0)
    }

    /// Updates the backend's figures for this demo.
    pub fn figures(&self, update: impl FnOnce(&mut Figures)) {
        let mut figures = self.figures.lock().unwrap_or_else(|p| p.into_inner());
        update(&mut figures);
    }

    /// The demo's report, from what it returned (its outcome as JSON with its check) and
    /// how long it took.
    pub fn into_report(
        self,
        result: Result<(serde_json::Value, Result<(), String>), DemoError>,
        wall_s: f64,
    ) -> DemoReport {
        let (outcome, problem) = match result {
            Ok((outcome, check)) => (outcome, check.err()),
            Err(error) => (serde_json::Value::Null, Some(error.to_string())),
        };
        DemoReport {
            id: self.demo.id().to_string(),
            ok: problem.is_none(),
            outcome,
            problem,
            wall_s,
            ideal_wall_s: self
                .ideal_wall_s
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| self.scale * self.demo.ideal_wall_s()),
            events: self.trace.events(),
            // Taken, not copied: a clone still held elsewhere (a task cancelled late) keeps
            // an empty record.
            figures: std::mem::take(&mut *self.figures.lock().unwrap_or_else(|p| p.into_inner())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_limit_is_named_with_how_to_raise_it() {
        let emfile = DemoError::system("socketpair", nix::errno::Errno::EMFILE).to_string();
        assert!(
            emfile.starts_with("socketpair: EMFILE: Too many open files: "),
            "{emfile}"
        );
        assert!(
            emfile.contains("RLIMIT_NOFILE, now ") && emfile.contains("`ulimit -n`"),
            "{emfile}"
        );
        let io = std::io::Error::from_raw_os_error(11);
        let eagain = DemoError::system("spawning a thread", io).to_string();
        assert!(
            eagain.contains("RLIMIT_NPROC") && eagain.contains("RLIMIT_AS"),
            "{eagain}"
        );
        let enomem = DemoError::system("fork", nix::errno::Errno::ENOMEM).to_string();
        assert!(
            enomem.contains("RLIMIT_AS") && enomem.contains("`ulimit -v`"),
            "{enomem}"
        );
        assert_eq!(
            DemoError::system("waiting", "the channel closed").to_string(),
            "waiting: the channel closed"
        );
        for said in [emfile, eagain, enomem] {
            assert_eq!(said.lines().count(), 1, "{said}");
        }
    }
}
