//! The demo catalogue: every demo's id, description and parameters, with DEMOS.md's defaults.

use std::fmt;
use std::str::FromStr;

/// One demo of the contract. The order of [`DemoId::ALL`] is the catalogue order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DemoId {
    Start,
    Join,
    RunHooks,
    CustomInit,
    Download,
}

/// A named parameter of a demo with its default, for `--list` and the README.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: &'static str,
}

impl DemoId {
    /// Every demo, in catalogue order (the order of a run without demo names).
    pub const ALL: [DemoId; 5] = [
        DemoId::Start,
        DemoId::Join,
        DemoId::RunHooks,
        DemoId::CustomInit,
        DemoId::Download,
    ];

    /// The stable id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            DemoId::Start => "start",
            DemoId::Join => "join",
            DemoId::RunHooks => "run-hooks",
            DemoId::CustomInit => "custom-init",
            DemoId::Download => "download",
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
            DemoId::Download => {
                "download 14 images one by one, then with a queue of URLs shared by workers"
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
            DemoId::Download => "§8",
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
        }
    }

    /// The wall time the demo would take with perfect concurrency, in notebook seconds
    /// (multiplied by `--scale` at run time); zero for demos that do not sleep.
    pub fn ideal_wall_s(self) -> f64 {
        match self {
            DemoId::Start => start::SLEEP_S,
            DemoId::Join => join::SLEEP_S,
            DemoId::RunHooks => run_hooks::SLEEP_S,
            DemoId::CustomInit => 0.0,
            DemoId::Download => {
                download::ideal_wall_s(download::IMAGES, download::WORKERS, download::LATENCY_S)
            }
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
                    "{:<12} {} {} [{}]\n",
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
