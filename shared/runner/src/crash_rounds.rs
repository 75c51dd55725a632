//! `crash`'s rounds that end a whole process, for a backend whose workers share it (threads,
//! tasks): the round runs in a copy of this program (`--crash-copy`, answered by the runner),
//! which streams its events as JSON lines; the parent lives on to say how the copy ended.

use contract::demos::crash::{CrashRound, DOOMED, worker_name};
use contract::domain::CrashFault;
use contract::report::signal_name;
use contract::{DemoError, DemoRun, Event, interrupt};
use std::io::BufReader;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

/// Runs the round in a copy of this program, which streams its events as JSON lines, and
/// reports how the copy ended: the abort or SIGKILL of a thread or a task takes its whole
/// process. `workers` names what the copy runs the round's workers as (`threads`, `tasks`).
pub fn round_in_a_copy(
    run: &DemoRun,
    fault: CrashFault,
    workers: &str,
) -> Result<CrashRound, DemoError> {
    let program =
        std::env::current_exe().map_err(|e| DemoError::system("finding this program", e))?;
    let started_at = run.trace().now_s();
    let mut command = Command::new(program);
    command.args([
        "crash",
        "--crash-copy",
        &std::process::id().to_string(),
        "--fault",
        fault.id(),
        "--scale",
        &run.scale().to_string(),
    ]);
    // Dropped on every path out of here (an error, Ctrl-C): then killed and reaped.
    let mut copy = CopyOfProgram::start(&mut command)?;
    run.main_says(
        "made copy",
        Some(format!(
            "pid {}: this program again, to run the round's four {workers}; the {} ends that \
             whole process, not this one",
            copy.child.id(),
            fault.id()
        )),
    );
    let mut survivors = Vec::new();
    while let Some(mut event) = copy.next_event()? {
        event.t_s += started_at;
        if event.what == "finished" {
            survivors.push(event.worker.clone());
        }
        // The copy's main flow repeats what ours says, but for its lines on its workers; its
        // workers' events are the news.
        if event.worker != contract::trace::MAIN || event.is_mechanism() {
            run.trace().record(event);
        }
    }
    let status = copy.wait()?;
    run.main_says(
        "reaped copy",
        Some(format!(
            "pid {}: {}",
            copy.child.id(),
            match status.signal() {
                Some(signal) => format!(
                    "killed by signal {}, every thread in it with it",
                    signal_name(signal)
                ),
                None => format!("exited with {status}"),
            }
        )),
    );
    let seen = match (status.signal(), status.code()) {
        (Some(signal), _) => format!(
            "the whole program was killed by signal {}",
            signal_name(signal)
        ),
        (None, Some(code)) => format!("the whole program exited with code {code}"),
        (None, None) => "the whole program ended".to_string(),
    };
    survivors.sort();
    Ok(CrashRound {
        fault,
        doomed: worker_name(DOOMED),
        seen,
        survivors,
        program_survived: status.success(),
    })
}

/// A copy of this program running one round, read line by line. Every wait for it goes in
/// turns (Ctrl-C and SIGTERM end them), and dropping it kills and reaps the copy if it has
/// not been reaped yet, however the round ended.
struct CopyOfProgram {
    child: Child,
    events: BufReader<ChildStdout>,
}

impl CopyOfProgram {
    fn start(command: &mut Command) -> Result<Self, DemoError> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| DemoError::system("starting a copy of this program", e))?;
        let events = BufReader::new(child.stdout.take().expect("piped"));
        Ok(CopyOfProgram { child, events })
    }

    /// The copy's next event; `None` once it has closed its output (it has ended).
    fn next_event(&mut self) -> Result<Option<Event>, DemoError> {
        let mut line = String::new();
        let read = interrupt::read_line(&mut self.events, &mut line)?
            .map_err(|e| DemoError::system("reading the copy's events", e))?;
        if read == 0 {
            return Ok(None);
        }
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| DemoError::system("decoding the copy's events", e))
    }

    /// Waits for the copy to end, and reaps it.
    fn wait(&mut self) -> Result<ExitStatus, DemoError> {
        interrupt::wait_for_exit(&mut self.child)?
            .map_err(|e| DemoError::system("waiting for the copy", e))
    }
}

impl Drop for CopyOfProgram {
    fn drop(&mut self) {
        // `Child` knows whether it has reaped the copy: once it has, `kill` sends nothing, so
        // no other process can be hit; otherwise the copy is still ours to kill and reap.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::CopyOfProgram;
    use contract::DemoError;
    use std::path::Path;
    use std::process::Command;

    #[test]
    fn a_copy_that_says_something_else_is_killed_and_reaped() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'not an event'; exec sleep 30"]);
        let mut copy = CopyOfProgram::start(&mut command).unwrap();
        let pid = copy.child.id();
        let error = copy.next_event().unwrap_err();
        assert!(
            matches!(&error, DemoError::System(what) if what.starts_with("decoding")),
            "{error:?}"
        );
        drop(copy);
        // Reaped, so its pid is gone from /proc (it would sleep on for 30 s otherwise).
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
