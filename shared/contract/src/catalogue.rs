//! The demo catalogue: every demo's id, description and parameters, with the tutorial's defaults.

use std::fmt;
use std::str::FromStr;

/// One demo of the contract. The order of [`DemoId::ALL`] is the catalogue order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DemoId {
    Start,
    Join,
    RunHooks,
    CustomInit,
    Lock,
    Queue,
    Event,
    Download,
    Cpu,
    Crash,
    Spawn,
    Channel,
}

/// A named parameter of a demo with its default, for `--list` and the README.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: &'static str,
}

impl DemoId {
    /// Every demo, in catalogue order (the order of a run without demo names).
    pub const ALL: [DemoId; 12] = [
        DemoId::Start,
        DemoId::Join,
        DemoId::RunHooks,
        DemoId::CustomInit,
        DemoId::Lock,
        DemoId::Queue,
        DemoId::Event,
        DemoId::Download,
        DemoId::Cpu,
        DemoId::Crash,
        DemoId::Spawn,
        DemoId::Channel,
    ];

    /// The stable id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            DemoId::Start => "start",
            DemoId::Join => "join",
            DemoId::RunHooks => "run-hooks",
            DemoId::CustomInit => "custom-init",
            DemoId::Lock => "lock",
            DemoId::Queue => "queue",
            DemoId::Event => "event",
            DemoId::Download => "download",
            DemoId::Cpu => "cpu",
            DemoId::Crash => "crash",
            DemoId::Spawn => "spawn",
            DemoId::Channel => "channel",
        }
    }

    /// One line saying what the demo shows.
    pub fn description(self) -> &'static str {
        match self {
            DemoId::Start => {
                "start one worker; the main flow goes on while it sleeps, then waits for it"
            }
            DemoId::Join => "start five workers, then join them all: the sleeps overlap",
            DemoId::RunHooks => {
                "wrap a worker's target between before/after hooks (Python: override run())"
            }
            DemoId::CustomInit => {
                "a worker built from (number, function, args) whose result returns to the parent"
            }
            DemoId::Lock => {
                "four workers update one shared counter, with one lock around each loop and without"
            }
            DemoId::Queue => {
                "a producer worker puts, a consumer worker gets: FIFO, LIFO and priority orders"
            }
            DemoId::Event => {
                "a flag worker sets then clears an event; the ops worker draws while it is set"
            }
            DemoId::Download => {
                "download 14 images one by one, then with a queue of URLs shared by workers"
            }
            DemoId::Cpu => {
                "count primes in chunks across 1…N workers: CPU-bound work scales with cores"
            }
            DemoId::Crash => "one of four workers panics, aborts or is killed: who survives?",
            DemoId::Spawn => {
                "the cost to create, start and join/reap one worker, next to the raw OS cost"
            }
            DemoId::Channel => {
                "messages per second and round trips through the backend's channel, next to raw ones"
            }
        }
    }

    /// The section of the tutorial notebook the demo mirrors.
    pub fn notebook_section(self) -> &'static str {
        match self {
            DemoId::Start => "§1",
            DemoId::Join => "§2",
            DemoId::RunHooks => "§3",
            DemoId::CustomInit => "§4",
            DemoId::Lock => "§5",
            DemoId::Queue => "§6",
            DemoId::Event => "§7",
            DemoId::Download => "§8",
            DemoId::Cpu | DemoId::Crash | DemoId::Spawn | DemoId::Channel => "beyond",
        }
    }

    /// The demo's parameters with their defaults.
    pub fn params(self) -> &'static [Param] {
        match self {
            DemoId::Start => &[Param {
                name: "sleep",
                default: "5 s",
            }],
            DemoId::Join => &[
                Param {
                    name: "workers",
                    default: "5",
                },
                Param {
                    name: "sleep",
                    default: "5 s",
                },
            ],
            DemoId::RunHooks => &[
                Param {
                    name: "workers",
                    default: "4",
                },
                Param {
                    name: "sleep",
                    default: "3 s",
                },
            ],
            DemoId::CustomInit => &[
                Param {
                    name: "workers",
                    default: "10",
                },
                Param {
                    name: "cycles",
                    default: "3",
                },
            ],
            DemoId::Lock => &[
                Param {
                    name: "workers",
                    default: "4",
                },
                Param {
                    name: "deltas",
                    default: "+2 +3 -4 -1",
                },
                Param {
                    name: "count",
                    default: "100000",
                },
            ],
            DemoId::Queue => &[
                Param {
                    name: "orders",
                    default: "fifo lifo priority priority-pairs",
                },
                Param {
                    name: "count",
                    default: "10000",
                },
            ],
            DemoId::Event => &[
                Param {
                    name: "set-after",
                    default: "3 s",
                },
                Param {
                    name: "clear-after",
                    default: "5 s",
                },
                Param {
                    name: "draw-every",
                    default: "0.5 s",
                },
                Param {
                    name: "seed",
                    default: "4",
                },
                Param {
                    name: "trials",
                    default: "200",
                },
            ],
            DemoId::Download => &[
                Param {
                    name: "workers",
                    default: "6",
                },
                Param {
                    name: "latency",
                    default: "100 ms",
                },
            ],
            DemoId::Cpu => &[
                Param {
                    name: "n",
                    default: "2000000",
                },
                Param {
                    name: "workers",
                    default: "cores",
                },
            ],
            DemoId::Crash => &[
                Param {
                    name: "workers",
                    default: "4",
                },
                Param {
                    name: "fault",
                    default: "panic, abort, kill in turn",
                },
                Param {
                    name: "sleep",
                    default: "1 s",
                },
            ],
            DemoId::Spawn => &[
                Param {
                    name: "count",
                    default: "200",
                },
                Param {
                    name: "touched",
                    default: "0, 64, 256 MiB",
                },
            ],
            DemoId::Channel => &[
                Param {
                    name: "count",
                    default: "20000",
                },
                Param {
                    name: "sizes",
                    default: "8 B, 64 KiB",
                },
            ],
        }
    }

    /// The wall time the demo would take with perfect concurrency, in notebook seconds
    /// (multiplied by `--scale` at run time); zero for demos that do not sleep.
    pub fn ideal_wall_s(self) -> f64 {
        match self {
            DemoId::Start => start::SLEEP_S,
            DemoId::Join => join::SLEEP_S,
            DemoId::RunHooks => run_hooks::SLEEP_S,
            DemoId::Crash => crash::SLEEP_S,
            DemoId::Event => event::SET_AFTER_S + event::CLEAR_AFTER_S,
            DemoId::Download => {
                download::ideal_wall_s(download::IMAGES, download::WORKERS, download::LATENCY_S)
            }
            DemoId::CustomInit
            | DemoId::Lock
            | DemoId::Queue
            | DemoId::Cpu
            | DemoId::Spawn
            | DemoId::Channel => 0.0,
        }
    }

    /// The default of `--count` for the demos that take one: lock's updates per worker,
    /// queue's timed put+get pairs, spawn's workers, channel's messages.
    pub fn default_count(self) -> Option<u64> {
        match self {
            DemoId::Lock => Some(lock::DEFAULT_COUNT),
            DemoId::Queue => Some(queue::DEFAULT_COUNT),
            DemoId::Spawn => Some(spawn::DEFAULT_COUNT),
            DemoId::Channel => Some(channel::DEFAULT_COUNT),
            _ => None,
        }
    }

    /// True for a demo whose outcome depends on the backend's kind (what a worker is, whether
    /// it is isolated): there the difference is the lesson (`crash`: what a dying worker takes
    /// down with it). Backends of the same kind must still agree.
    pub fn outcome_depends_on_kind(self) -> bool {
        self == DemoId::Crash
    }

    /// The part of an outcome that two correct runs must agree on: all of it, except how
    /// many updates `lock`'s unlocked counter lost, which depends on the interleaving.
    pub fn comparable_outcome(self, outcome: &serde_json::Value) -> serde_json::Value {
        let mut outcome = outcome.clone();
        if self == DemoId::Lock
            && let Some(fields) = outcome.as_object_mut()
        {
            fields.remove("unlocked");
        }
        outcome
    }

    /// An event as two correct runs must agree on it (worker, what, detail), or `None` for
    /// one whose presence or count depends on the interleaving: `lock`'s unlocked total, and
    /// whether `event`'s `ops` fitted 10 or 11 draws into its window (the outcome checks
    /// those against the seed). `download`'s queue workers are not named: which worker
    /// fetches which image is the scheduler's choice, so only what was done is compared.
    pub fn comparable_event(
        self,
        event: &crate::trace::Event,
    ) -> Option<(String, String, Option<String>)> {
        let (worker, what) = (event.worker.as_str(), event.what.as_str());
        let varies = match self {
            DemoId::Lock => worker == "main" && what == "unlocked total",
            DemoId::Event => worker == "ops" && (what == "drew" || what == "13!"),
            _ => false,
        };
        if varies {
            return None;
        }
        let mut key = event.key();
        if self == DemoId::Download
            && worker != crate::trace::MAIN
            && worker != download::SEQUENTIAL_WORKER
        {
            key.0 = "a worker".to_string();
        }
        Some(key)
    }

    /// Checks an outcome as a backend reported it, in JSON, with the contract's one check: the
    /// harness runs this on every run of every backend and never trusts the backend's `ok`.
    pub fn check_outcome(self, outcome: &serde_json::Value) -> Result<(), String> {
        use crate::outcome::*;
        fn check<O: Outcome + serde::de::DeserializeOwned>(
            demo: DemoId,
            outcome: &serde_json::Value,
        ) -> Result<(), String> {
            let outcome: O = serde_json::from_value(outcome.clone())
                .map_err(|e| format!("the outcome is not one of {demo}: {e}"))?;
            outcome.check()
        }
        match self {
            DemoId::Start => check::<StartOutcome>(self, outcome),
            DemoId::Join => check::<JoinOutcome>(self, outcome),
            DemoId::RunHooks => check::<RunHooksOutcome>(self, outcome),
            DemoId::CustomInit => check::<CustomInitOutcome>(self, outcome),
            DemoId::Lock => check::<LockOutcome>(self, outcome),
            DemoId::Queue => check::<QueueOutcome>(self, outcome),
            DemoId::Event => check::<EventOutcome>(self, outcome),
            DemoId::Download => check::<DownloadOutcome>(self, outcome),
            DemoId::Cpu => check::<CpuOutcome>(self, outcome),
            DemoId::Crash => check::<CrashOutcome>(self, outcome),
            DemoId::Spawn => check::<SpawnOutcome>(self, outcome),
            DemoId::Channel => check::<ChannelOutcome>(self, outcome),
        }
    }

    /// The `--list` text: one line per demo, ids aligned.
    pub fn listing() -> String {
        DemoId::ALL
            .iter()
            .map(|demo| {
                let params: Vec<String> = demo
                    .params()
                    .iter()
                    .map(|p| format!("{}={}", p.name, p.default))
                    .collect();
                format!(
                    "{:<12} {:<6} {} [{}]\n",
                    demo.id(),
                    demo.notebook_section(),
                    demo.description(),
                    params.join(", ")
                )
            })
            .collect()
    }
}

impl fmt::Display for DemoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for DemoId {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.trim().is_empty() {
            return Err("empty demo name".to_string());
        }
        DemoId::ALL
            .into_iter()
            .find(|demo| demo.id() == name)
            .ok_or_else(|| format!("unknown demo '{name}' (see --list)"))
    }
}

/// `start` (notebook §1): one worker sleeps while the main flow says hello twice.
pub mod start {
    pub const WORKER: &str = "t1";
    pub const SLEEP_S: f64 = 5.0;
    pub const HELLOS: usize = 2;
}

/// `join` (notebook §2): five sleepers started, then all joined.
pub mod join {
    pub const WORKERS: usize = 5;
    pub const SLEEP_S: f64 = 5.0;

    /// Worker names `t0`…`t4`, as in the notebook.
    pub fn worker_name(index: usize) -> String {
        format!("t{index}")
    }
}

/// `run-hooks` (notebook §3): four sleepers wrapped in before/after hooks.
pub mod run_hooks {
    pub const WORKERS: usize = 4;
    pub const SLEEP_S: f64 = 3.0;

    /// Worker names `t1`…`t4`, as in the notebook.
    pub fn worker_name(index: usize) -> String {
        format!("t{}", index + 1)
    }
}

/// `custom-init` (notebook §4): ten numbered workers each doubling their input three times.
pub mod custom_init {
    pub const WORKERS: u32 = 10;
    pub const CYCLES: u32 = 3;

    /// Worker `number` (1…10) is named `t<number>` and doubles `number - 1`.
    pub fn worker_name(number: u32) -> String {
        format!("t{number}")
    }

    /// The input of worker `number`: the notebook passes `i` to worker `i + 1`.
    pub fn input(number: u32) -> u64 {
        u64::from(number - 1)
    }
}

/// `lock` (notebook §5): four workers apply +2, +3, −4, −1 to one counter, `--count` times each.
pub mod lock {
    /// What each worker adds, in start order: the sum is 0, so the final value must be 0.
    pub const DELTAS: [i32; 4] = [2, 3, -4, -1];
    /// Updates per worker (`--count`), as in the notebook.
    pub const DEFAULT_COUNT: u64 = 100_000;
    /// How long an unlocked worker waits at the start line before it gives up.
    pub const START_LINE_LIMIT_S: f64 = 10.0;

    /// Worker names `t1`…`t4`, as in the notebook.
    pub fn worker_name(index: usize) -> String {
        format!("t{}", index + 1)
    }
}

/// `queue` (notebook §6): a producer fills four queues, a consumer drains them.
pub mod queue {
    pub const PRODUCER: &str = "producer";
    pub const CONSUMER: &str = "consumer";
    /// The worker of the timed pass: `--count` × (put, get).
    pub const TIMED: &str = "timer";
    /// The worker (processes) or thread (threads) that measures the raw channel round trips.
    pub const BASELINE: &str = "baseline";
    /// How long one get waits on an empty queue before it gives up. Not scaled: it is a
    /// bound on a wait that normally ends in microseconds, not one of the notebook's sleeps.
    pub const GET_TIMEOUT_S: f64 = 5.0;
    /// Put+get pairs in the timed pass, and round trips of each raw baseline. Fewer than
    /// `lock`'s updates: between processes each pair is two round trips through the parent.
    pub const DEFAULT_COUNT: u64 = 10_000;
    /// The notebook's integer puts: FIFO and LIFO get 0…4, priority gets 1, 3, 4, 2.
    pub const FIFO_PUTS: [i64; 5] = [0, 1, 2, 3, 4];
    pub const PRIORITY_PUTS: [i64; 4] = [1, 3, 4, 2];
}

/// `event` (notebook §7): `flag` sets the event after 3 s and clears it 5 s later; `ops` draws
/// a number every 0.5 s while it is set.
pub mod event {
    pub const FLAG: &str = "flag";
    pub const OPS: &str = "ops";
    pub const SET_AFTER_S: f64 = 3.0;
    pub const CLEAR_AFTER_S: f64 = 5.0;
    pub const DRAW_EVERY_S: f64 = 0.5;
    /// Draws while the event is set: 5 s / 0.5 s, give or take the one in flight at the clear.
    pub const EXPECTED_DRAWS: usize = 10;
    pub const DRAW_TOLERANCE: usize = 1;
    /// Draws are in `1..=DRAW_MAX`; this one is announced with `13!`.
    pub const DRAW_MAX: u32 = 15;
    pub const LUCKY: u32 = 13;
    /// The pause before each timed set, so that the waiter is asleep when it comes.
    pub const TRIAL_GAP_S: f64 = 0.001;

    /// How long `ops` waits for the set before it gives up (nothing waits forever): twice
    /// the scaled countdown, plus a second for a loaded machine.
    pub fn wait_limit_s(scaled_set_after_s: f64) -> f64 {
        2.0 * scaled_set_after_s + 1.0
    }
}

/// `download` (notebook §8): 14 images fetched one by one, then by six workers from a queue.
pub mod download {
    /// The tutorial's image count (see `images::NAMES`).
    pub const IMAGES: usize = crate::images::NAMES.len();
    pub const WORKERS: usize = 6;
    /// The local server's default latency per request, in notebook seconds.
    pub const LATENCY_S: f64 = 0.1;
    /// The wait before the first retry, in notebook seconds (doubled for each further one).
    pub const BACKOFF_S: f64 = 0.2;
    /// The one worker of the sequential pass.
    pub const SEQUENTIAL_WORKER: &str = "seq";
    /// The one worker of the `--baseline` reference loop.
    pub const BASELINE_WORKER: &str = "baseline";

    /// Workers of the concurrent pass are `t0`, `t1`, …
    pub fn worker_name(index: usize) -> String {
        format!("t{index}")
    }

    /// Sequential, one latency per image: `images × latency`.
    pub fn ideal_sequential_s(images: usize, latency_s: f64) -> f64 {
        images as f64 * latency_s
    }

    /// Concurrent, `workers` requests at a time: `⌈images / workers⌉ × latency`.
    pub fn ideal_concurrent_s(images: usize, workers: usize, latency_s: f64) -> f64 {
        images.div_ceil(workers.max(1)) as f64 * latency_s
    }

    /// Both passes with perfect concurrency and nothing but the server's latency.
    pub fn ideal_wall_s(images: usize, workers: usize, latency_s: f64) -> f64 {
        ideal_sequential_s(images, latency_s) + ideal_concurrent_s(images, workers, latency_s)
    }
}

/// `cpu`: count the primes below `n`, in chunks dealt to 1, 2, …, `workers` workers.
pub mod cpu {
    pub const DEFAULT_N: u64 = 2_000_000;
    /// The range is cut into this many chunks, dealt round-robin, so that every worker
    /// gets a share of the small (cheap) and the large (dear) numbers.
    pub const CHUNKS: u64 = 64;

    /// Worker names `t0`, `t1`, ….
    pub fn worker_name(index: usize) -> String {
        format!("t{index}")
    }

    /// The default worker count: the number of cores.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// `crash`: four sleepers, one of which dies.
pub mod crash {
    pub const WORKERS: usize = 4;
    /// The doomed worker: `t2`.
    pub const DOOMED: usize = 1;
    pub const SLEEP_S: f64 = 1.0;

    /// Worker names `t1`…`t4`.
    pub fn worker_name(index: usize) -> String {
        format!("t{}", index + 1)
    }
}

/// `spawn`: start and join/reap `count` workers one after another, and the raw OS cost.
pub mod spawn {
    pub const DEFAULT_COUNT: u64 = 200;
    /// The fork cost is measured again after the parent has touched this much memory.
    pub const TOUCHED_MIB: [usize; 3] = [0, 64, 256];
}

/// `channel`: throughput and round trips of the backend's channel, and raw ones.
pub mod channel {
    pub const DEFAULT_COUNT: u64 = 20_000;
    pub const SMALL_BYTES: usize = 8;
    pub const LARGE_BYTES: usize = 64 * 1024;
    /// Large messages are this many times fewer than small ones.
    pub const LARGE_DIVISOR: u64 = 20;
    /// Round trips are this many times fewer than one-way messages.
    pub const ROUND_TRIP_DIVISOR: u64 = 10;
}
