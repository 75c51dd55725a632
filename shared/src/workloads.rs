//! The work the workers do, written once and called from both backends.

use crate::trace::{EventSink, format_seconds};
use std::time::Duration;

/// The notebook's `sleeper`: announce, sleep, announce. Emits `sleeping` then `finished`.
pub fn sleeper(out: &dyn EventSink, seconds: f64) {
    out.emit(
        "sleeping",
        Some(format!("for {} s", format_seconds(seconds))),
    );
    std::thread::sleep(Duration::from_secs_f64(seconds));
    out.emit("finished", None);
}

/// The notebook's `double`: adds the number to itself `cycles` times.
pub fn double(number: u64, cycles: u32) -> u64 {
    (0..cycles).fold(number, |n, _| n + n)
}

/// The Rust stand-in for subclassing `Thread` and overriding `run()` (notebook §3).
///
/// Rust has no subclassing: instead of changing the worker, the task carries hooks that run
/// before and after its target. The worker (a thread or a process) runs `Hooked::run`, and
/// the same type serves both backends.
pub struct Hooked<F> {
    target: F,
}

impl<F, R> Hooked<F>
where
    F: FnOnce(&dyn EventSink) -> R,
{
    /// Wraps `target` between the `started` and `done` hooks.
    pub fn new(target: F) -> Self {
        Hooked { target }
    }

    /// Runs before-hook, target, after-hook; emits `started` … `done` around the target's events.
    pub fn run(self, out: &dyn EventSink) -> R {
        self.before(out);
        let result = (self.target)(out);
        Self::after(out);
        result
    }

    fn before(&self, out: &dyn EventSink) {
        out.emit("started", None);
    }

    fn after(out: &dyn EventSink) {
        out.emit("done", None);
    }
}

/// The notebook's `MyThread(number, func, args)` (notebook §4): a task that carries its own
/// state instead of a target and a name, and whose `run` yields `(number, value)`.
#[derive(Clone, Copy, Debug)]
pub struct NumberedTask {
    pub number: u32,
    pub func: fn(u64, u32) -> u64,
    pub args: (u64, u32),
}

impl NumberedTask {
    /// Emits `started`, `result = <value>`, `done`, and returns the number with the value.
    pub fn run(self, out: &dyn EventSink) -> (u32, u64) {
        out.emit("started", Some(format!("task {}", self.number)));
        let (input, cycles) = self.args;
        let value = (self.func)(input, cycles);
        out.emit("result", Some(format!("= {value}")));
        out.emit("done", None);
        (self.number, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Recorder(RefCell<Vec<String>>);

    impl EventSink for Recorder {
        fn worker(&self) -> &str {
            "t1"
        }
        fn emit(&self, what: &str, _detail: Option<String>) {
            self.0.borrow_mut().push(what.to_string());
        }
    }

    #[test]
    fn double_matches_the_notebook() {
        let values: Vec<u64> = (0..10).map(|i| double(i, 3)).collect();
        assert_eq!(values, [0, 8, 16, 24, 32, 40, 48, 56, 64, 72]);
    }

    #[test]
    fn hooks_wrap_the_target() {
        let out = Recorder(RefCell::new(Vec::new()));
        let value = Hooked::new(|o: &dyn EventSink| {
            sleeper(o, 0.0);
            7
        })
        .run(&out);
        assert_eq!(value, 7);
        assert_eq!(*out.0.borrow(), ["started", "sleeping", "finished", "done"]);
    }
}
