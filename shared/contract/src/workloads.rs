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

/// True when `k` is prime, by trial division by odd numbers up to √k: deliberately plain
/// CPU work, the same in both backends.
pub fn is_prime(k: u64) -> bool {
    match k {
        0 | 1 => false,
        2 | 3 => true,
        _ if k.is_multiple_of(2) => false,
        _ => (3..)
            .step_by(2)
            .take_while(|d| d * d <= k)
            .all(|d| !k.is_multiple_of(d)),
    }
}

/// How many primes lie in `range`.
pub fn count_primes(range: std::ops::Range<u64>) -> u64 {
    range.filter(|&k| is_prime(k)).count() as u64
}

/// The chunks of `[0, n)` that worker `worker` of `workers` counts: [`cpu::CHUNKS`]
/// equal chunks dealt round-robin, so that each worker gets cheap and dear numbers alike.
///
/// [`cpu::CHUNKS`]: crate::catalogue::cpu::CHUNKS
pub fn prime_chunks(worker: usize, workers: usize, n: u64) -> Vec<std::ops::Range<u64>> {
    let chunks = crate::catalogue::cpu::CHUNKS;
    (worker as u64..chunks)
        .step_by(workers)
        .map(|i| n * i / chunks..n * (i + 1) / chunks)
        .collect()
}

/// π(n), the number of primes below `n`, by a sieve of Eratosthenes: an independent check
/// of the workers' count.
pub fn primes_below_by_sieve(n: u64) -> u64 {
    let n = n as usize;
    let mut composite = vec![false; n.max(2)];
    let mut count = 0;
    for k in 2..n {
        if !composite[k] {
            count += 1;
            for multiple in (k * k..n).step_by(k) {
                composite[multiple] = true;
            }
        }
    }
    count
}

/// The `crash` demo's worker: like [`sleeper`], except that the doomed one dies as `fault`
/// says right after it starts sleeping.
pub fn crash_sleeper(out: &dyn EventSink, seconds: f64, doomed: Option<crate::domain::CrashFault>) {
    out.emit(
        "sleeping",
        Some(format!("for {} s", format_seconds(seconds))),
    );
    if let Some(fault) = doomed {
        out.emit("dying", Some(format!("by {}", fault.id())));
        die(fault);
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    out.emit("finished", None);
}

/// Ends the calling worker as `fault` says. What else ends with it is the lesson: a panic
/// unwinds one thread; `abort()` and SIGKILL end the whole process the worker is in.
pub fn die(fault: crate::domain::CrashFault) -> ! {
    use crate::domain::CrashFault;
    match fault {
        CrashFault::Panic => panic!("the doomed worker panics"),
        CrashFault::Abort => {
            // No core file: the demo must not leave one in the user's folder.
            let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
            std::process::abort()
        }
        CrashFault::Kill => {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
            unreachable!("SIGKILL cannot be caught")
        }
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
    fn primes_are_counted_exactly() {
        assert_eq!(primes_below_by_sieve(2_000_000), 148_933);
        assert_eq!(count_primes(0..100), 25);
        assert_eq!(primes_below_by_sieve(100), 25);
        let n = 100_000;
        for workers in 1..=3 {
            let total: u64 = (0..workers)
                .map(|w| {
                    prime_chunks(w, workers, n)
                        .into_iter()
                        .map(count_primes)
                        .sum::<u64>()
                })
                .sum();
            assert_eq!(total, 9592, "{workers} workers");
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
