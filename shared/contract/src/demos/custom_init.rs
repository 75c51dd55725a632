//! `custom-init` (notebook §4): ten numbered workers each doubling their input three times.

use super::prelude::*;
use crate::job::Job;

/// The catalogue's row of `custom-init`.
pub const ROW: Row = Row {
    id: "custom-init",
    section: "§4",
    description: "a worker built from (number, function, args) whose result returns to the parent",
    params: &[
        Param { name: "workers", default: "10" },
        Param { name: "cycles", default: "3" },
    ],
    ideal_wall_s: 0.0,
    default_count: None,
    outcome_depends_on_kind: false,
    headlines: &[],
    check: check_json::<CustomInitOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event: same_events,
};

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["workers"];

pub const WORKERS: u32 = 10;

/// `--workers`, or the notebook's ten.
pub fn workers(run: &crate::run::DemoRun) -> u32 {
    run.options()
        .workers
        .map_or(WORKERS, |n| u32::try_from(n).unwrap_or(u32::MAX))
}
pub const CYCLES: u32 = 3;

/// Worker `number` (1…10) is named `t<number>` and doubles `number - 1`.
pub fn worker_name(number: u32) -> String {
    format!("t{number}")
}

/// The input of worker `number`: the notebook passes `i` to worker `i + 1`.
pub fn input(number: u32) -> u64 {
    u64::from(number - 1)
}

/// `custom-init`: each worker's number with the value it computed, as the parent received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomInitOutcome {
    pub values: BTreeMap<u32, u64>,
}

impl CustomInitOutcome {
    /// Worker k of `workers` yields 8·(k−1): for the notebook's ten, {0, 8, …, 72}.
    pub fn expected(workers: u32) -> BTreeMap<u32, u64> {
        (1..=workers)
            .map(|k| {
                (
                    k,
                    crate::demos::custom_init::double(input(k), CYCLES),
                )
            })
            .collect()
    }
}

impl Outcome for CustomInitOutcome {
    fn check(&self) -> Result<(), String> {
        // As many workers as came back: 1…n, each with its own value, none missing.
        let expected = Self::expected(self.values.len().try_into().unwrap_or(u32::MAX));
        if !self.values.is_empty() && self.values == expected {
            Ok(())
        } else {
            Err(format!("values {:?}, expected {:?}", self.values, expected))
        }
    }
}

/// The notebook's `double`: adds the number to itself `cycles` times.
pub fn double(number: u64, cycles: u32) -> u64 {
    (0..cycles).fold(number, |n, _| n + n)
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

/// The notebook's `MyThread(number, func, args)` as data, for a worker process: a function
/// pointer cannot be sent to another program, so the job names `double` by running it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Numbered {
    pub number: u32,
    pub input: u64,
    pub cycles: u32,
}

impl Job for Numbered {
    type Output = (u32, u64);

    fn run(self, out: &dyn EventSink) -> (u32, u64) {
        let task = NumberedTask {
            number: self.number,
            func: double,
            args: (self.input, self.cycles),
        };
        task.run(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn custom_init_expects_multiples_of_eight() {
        let expected = CustomInitOutcome::expected(10);
        assert_eq!(
            expected.values().copied().collect::<Vec<_>>(),
            (0..10).map(|k| 8 * k).collect::<Vec<_>>()
        );
        let mut wrong = expected.clone();
        wrong.insert(3, 17);
        assert!(CustomInitOutcome { values: wrong }.check().is_err());
        let mut missing = CustomInitOutcome::expected(10);
        missing.remove(&4);
        assert!(CustomInitOutcome { values: missing }.check().is_err());
        let none = CustomInitOutcome { values: BTreeMap::new() };
        assert!(none.check().is_err());
        let many = CustomInitOutcome { values: CustomInitOutcome::expected(1024) };
        assert_eq!(many.check(), Ok(()));
        assert_eq!(many.values[&1024], 8 * 1023);
    }


    #[test]
    fn double_matches_the_notebook() {
        let values: Vec<u64> = (0..10).map(|i| double(i, 3)).collect();
        assert_eq!(values, [0, 8, 16, 24, 32, 40, 48, 56, 64, 72]);
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;

    #[test]
    fn worker_k_doubles_k_minus_one_three_times() {
        assert_eq!(input(1), 0);
        assert_eq!(input(4), 3);
        assert_eq!(double(3, 3), 24);
        assert_eq!(worker_name(7), "t7");
        let right = CustomInitOutcome {
            values: CustomInitOutcome::expected(10),
        };
        assert_eq!(right.values.len(), 10);
        assert_eq!(right.values[&10], 72);
        assert_eq!(right.check(), Ok(()));
    }
}
