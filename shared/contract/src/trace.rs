//! The event trace of a demo: who did what, when, narrated live like the tutorial's prints.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::Mutex;

/// The name under which the main flow (the parent) emits its events.
pub const MAIN: &str = "main";

/// The words of the main flow's events that say how the mechanism worked: how a worker was
/// made (thread id or pid, start method), how it ended (joined, exit code, signal), what
/// carried its result, and who was killed and reaped on a death. They are narrated and kept
/// in the JSON, but they name pids, thread ids and byte counts, which differ from run to run
/// and between backends: they are never compared ([`Event::is_mechanism`]), and the demos'
/// outcomes and the timelines leave them out.
pub const MECHANISM: [&str; 10] = [
    "made thread",
    "joined thread",
    "left thread",
    "made task",
    "joined task",
    "made process",
    "reaped process",
    "killed process",
    "made copy",
    "reaped copy",
];

/// One thing a worker (or the main flow) did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the demo started, on the monotonic clock (shared by a forked child).
    pub t_s: f64,
    /// Who emitted it: `main`, `t0`, `t1`, …
    pub worker: String,
    /// A stable word: `sleeping`, `finished`, `hello`, …
    pub what: String,
    /// What the narration adds, e.g. `for 5 s`; part of the event, so both backends must agree.
    /// Always serialised (as `null` when absent): the IPC encoding is not self-describing.
    #[serde(default)]
    pub detail: Option<String>,
}

impl Event {
    /// The narration line, e.g. `t1 sleeping for 5 s`.
    pub fn narration(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{} {} {}", self.worker, self.what, detail),
            None => format!("{} {}", self.worker, self.what),
        }
    }

    /// One of the main flow's lines on the mechanism ([`MECHANISM`]): narrated and reported,
    /// never compared between runs or backends.
    pub fn is_mechanism(&self) -> bool {
        self.worker == MAIN && MECHANISM.contains(&self.what.as_str())
    }

    /// The event without its time: what must be equal between backends.
    pub fn key(&self) -> (String, String, Option<String>) {
        (self.worker.clone(), self.what.clone(), self.detail.clone())
    }
}

/// Where a worker's events go. A thread writes into the shared [`Trace`]; a forked child
/// sends them to its parent over a channel. The workloads only see this trait.
pub trait EventSink {
    /// The worker's name, e.g. `t1`.
    fn worker(&self) -> &str;
    /// Emits one event now.
    fn emit(&self, what: &str, detail: Option<String>);
}

/// What a trace prints as events are recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Nothing (`--json`, `--quiet`).
    Silent,
    /// The tutorial-style narration, one line per event.
    Narrate,
    /// One JSON event per line on stdout, flushed at once: how a copy of the program that
    /// may die at any moment reports to the program that started it.
    JsonLines,
}

/// The events of one demo, in the order they were recorded, echoed as they come.
#[derive(Debug)]
pub struct Trace {
    /// `CLOCK_MONOTONIC` at the start, in nanoseconds: the one clock of every process of
    /// the run, so that a worker process stamps its events on the parent's time line.
    origin_ns: u64,
    echo: Echo,
    events: Mutex<Vec<Event>>,
    /// Narration lines recorded but not yet written, in record order.
    unwritten: Mutex<Vec<String>>,
    /// Held by the one thread writing narration: lines leave in the order they were recorded,
    /// and no thread writes to stdout while it holds `events`.
    writing: Mutex<()>,
}

impl Trace {
    /// A trace whose clock starts now.
    pub fn new(echo: Echo) -> Self {
        Trace::continuing(monotonic_ns(), echo)
    }

    /// A trace on the time line of one started elsewhere, at [`origin_ns`](Self::origin_ns):
    /// how a spawned worker process, which inherits no memory, stamps its events.
    pub fn continuing(origin_ns: u64, echo: Echo) -> Self {
        Trace {
            origin_ns,
            echo,
            events: Mutex::new(Vec::new()),
            unwritten: Mutex::new(Vec::new()),
            writing: Mutex::new(()),
        }
    }

    /// Where this trace's clock starts, on the system-wide monotonic clock.
    pub fn origin_ns(&self) -> u64 {
        self.origin_ns
    }

    /// Seconds since the trace started. Valid in every process of the run: the monotonic
    /// clock is system-wide, and a forked child inherits the origin (a spawned one is sent it).
    pub fn now_s(&self) -> f64 {
        monotonic_ns().saturating_sub(self.origin_ns) as f64 / 1e9
    }

    /// Records an event that happens now, in this process.
    pub fn emit(&self, worker: &str, what: &str, detail: Option<String>) -> f64 {
        let mut events = self.lock();
        // The time is taken under the lock, so the recorded order is the time order.
        let t_s = self.now_s();
        let event = Event {
            t_s,
            worker: worker.to_string(),
            what: what.to_string(),
            detail,
        };
        self.queue_narration(&event);
        events.push(event);
        drop(events);
        self.write_narration();
        t_s
    }

    /// Records an event that happened elsewhere (in a child process) at its own time.
    pub fn record(&self, event: Event) {
        let mut events = self.lock();
        self.queue_narration(&event);
        events.push(event);
        drop(events);
        self.write_narration();
    }

    /// The events so far, in time order.
    pub fn events(&self) -> Vec<Event> {
        let mut events = self.lock().clone();
        // Events from different children can arrive out of time order; the sort is stable.
        events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        events
    }

    /// Queues the event's narration line, if the trace narrates; called under `events`, so
    /// that lines queue in record order.
    fn queue_narration(&self, event: &Event) {
        let line = match self.echo {
            Echo::Silent => return,
            Echo::Narrate => format!("  {:>8.3} s  {}", event.t_s, event.narration()),
            Echo::JsonLines => serde_json::to_string(event).expect("events are plain data"),
        };
        recover(self.unwritten.lock()).push(line);
    }

    /// Writes the queued lines, in order, outside the `events` lock: a slow or blocked stdout
    /// holds up the narration, never a worker's record of its event. On return, this thread's
    /// own line has been written (and flushed: a copy of the program that may die at any
    /// moment reports this way).
    fn write_narration(&self) {
        if self.echo == Echo::Silent {
            return;
        }
        let _writing = recover(self.writing.lock());
        let lines = std::mem::take(&mut *recover(self.unwritten.lock()));
        let mut out = std::io::stdout().lock();
        // A closed stdout must not kill a worker mid-demo; the verdict reports the run.
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        recover(self.events.lock())
    }
}

/// A worker that panicked while holding one of the trace's locks cannot have left a
/// half-pushed event or line: the data is whole, so the lock is taken anyway.
fn recover<T>(locked: std::sync::LockResult<T>) -> T {
    locked.unwrap_or_else(|poison| poison.into_inner())
}

/// The system-wide monotonic clock (what `std::time::Instant` reads on Linux), in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available on Linux");
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}

/// Formats notebook seconds for narration: `5`, `0.05`, `0.003`.
pub fn format_seconds(seconds: f64) -> String {
    let text = format!("{seconds:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_formatted_without_noise() {
        assert_eq!(format_seconds(5.0), "5");
        assert_eq!(format_seconds(5.0 * 0.01), "0.05");
        assert_eq!(format_seconds(3.0 * 0.1), "0.3");
    }

    #[test]
    fn events_come_back_in_time_order() {
        let trace = Trace::new(Echo::Silent);
        trace.record(Event {
            t_s: 2.0,
            worker: "t1".into(),
            what: "late".into(),
            detail: None,
        });
        trace.record(Event {
            t_s: 1.0,
            worker: "t2".into(),
            what: "early".into(),
            detail: None,
        });
        let whats: Vec<String> = trace.events().into_iter().map(|e| e.what).collect();
        assert_eq!(whats, ["early", "late"]);
    }
}
