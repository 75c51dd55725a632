//! The questions the report's closing verdict answers: each one read from one figure of one
//! demo, with the one-line reason why the models differ there. Which model wins, and by how
//! much, comes from the run's own figures; only the questions and the reasons are written here.

use crate::demos::{Better, DemoId};

/// One question of the verdict.
#[derive(Clone, Copy, Debug)]
pub struct Dimension {
    /// What is compared, as the verdict's line starts: `cost to start a worker`.
    pub question: &'static str,
    /// The demo that measures it.
    pub demo: DemoId,
    pub figure: VerdictFigure,
    /// Why the models differ here: the mechanism, not the winner.
    pub reason: &'static str,
    /// The reason when task workers (an async runtime's) ran too, where they differ from
    /// both threads and processes for a reason of their own.
    pub reason_with_tasks: Option<&'static str>,
}

impl Dimension {
    /// The reason for this run: the one that speaks of tasks when task workers ran.
    pub fn reason_for(&self, tasks_ran: bool) -> &'static str {
        match self.reason_with_tasks {
            Some(reason) if tasks_ran => reason,
            _ => self.reason,
        }
    }
}

/// Where a dimension's answer comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictFigure {
    /// A figure the demo measures (`figures.measured`), by its key.
    Measured(&'static str, Better),
    /// The peak proportional set size of the whole process tree.
    PeakPss,
    /// Who survives a worker's fatal fault, from `crash`'s outcome.
    CrashSurvivors,
}

/// The verdict's questions, in the order it answers them.
pub const DIMENSIONS: [Dimension; 9] = [
    Dimension {
        question: "cost to start a worker (start and join, on one core)",
        demo: DemoId::Spawn,
        figure: VerdictFigure::Measured("worker_start_join_one_core_us", Better::Lower),
        reason: "a thread is a stack in the same address space; a process needs its own copy of \
                 the page tables (fork) or a whole program loaded (spawn)",
        reason_with_tasks: Some(
            "a task is a future put on the runtime's queue: no stack, no system call; a thread \
             needs a stack and a clone(), a process its own page tables (fork) or a whole \
             program loaded (spawn)",
        ),
    },
    Dimension {
        question: "cost of a message (an 8 B round trip, both ends on one core)",
        demo: DemoId::Channel,
        figure: VerdictFigure::Measured("channel_8b_one_core_round_trip_us", Better::Lower),
        reason: "each hand-over wakes the other end; on one core a wake-up is a switch, \
                 alike in both models, and the rest is the channel: ipc-channel's socket \
                 sleeps at once, crossbeam spins first, which on one core only delays the \
                 other end. Across cores a wake-up costs what the machine makes it (see the \
                 channel's block)",
        reason_with_tasks: Some(
            "each hand-over wakes the other end: a task's wake-up is a switch inside the \
             runtime, without the kernel; a thread's or a process's is the kernel's. Across \
             cores a wake-up costs what the machine makes it (see the channel's block)",
        ),
    },
    Dimension {
        question: "cost of a queue's put and get",
        demo: DemoId::Queue,
        figure: VerdictFigure::Measured("ns_per_put_get", Better::Lower),
        reason: "a threads queue is a lock and a buffer in one address space; a processes \
                 queue must live where every process can reach it, behind IPC or shared memory",
        reason_with_tasks: None,
    },
    Dimension {
        question: "cost of shared state (a locked update)",
        demo: DemoId::Lock,
        figure: VerdictFigure::Measured("ns_per_update_locked", Better::Lower),
        reason: "both take one lock in memory every worker reaches: a thread's in its own \
                 process, a process's in a shared mapping set up before the workers start",
        reason_with_tasks: None,
    },
    Dimension {
        question: "waking a waiting worker",
        demo: DemoId::Event,
        figure: VerdictFigure::Measured("wakeup_latency_us_median", Better::Lower),
        reason: "both sleep in the kernel on a futex; the word is in the process's memory for \
                 threads, in a shared mapping for processes",
        reason_with_tasks: None,
    },
    Dimension {
        question: "memory of five sleeping workers",
        demo: DemoId::Join,
        figure: VerdictFigure::PeakPss,
        reason: "threads share one address space; each process has its own page tables and \
                 its own copy of every page it writes",
        reason_with_tasks: None,
    },
    Dimension {
        question: "CPU-bound work on two workers",
        demo: DemoId::Cpu,
        figure: VerdictFigure::Measured("speedup_2_workers", Better::Higher),
        reason: "Rust threads have no global lock, so both models use every core; processes \
                 add only the start and the trip of each result",
        reason_with_tasks: None,
    },
    Dimension {
        question: "I/O-bound work (downloads)",
        demo: DemoId::Download,
        figure: VerdictFigure::Measured("concurrent_wall_s", Better::Lower),
        reason: "waiting for the network costs no CPU in either model; what differs is the cost \
                 to start the workers and to hand them the URLs",
        reason_with_tasks: Some(
            "waiting for the network costs no CPU in any model; a waiting task has no stack, \
             and one thread waits for many sockets at once, where each thread or process waits \
             for its own",
        ),
    },
    Dimension {
        question: "what a crashing worker takes with it",
        demo: DemoId::Crash,
        figure: VerdictFigure::CrashSurvivors,
        reason: "an abort or a kill ends a whole process: for a thread that is the program with \
                 every other thread; a process ends alone",
        reason_with_tasks: None,
    },
];

/// The verdict's last question when a Python backend ran beside the Rust ones.
pub const SAME_PROGRAM_IN_PYTHON: Dimension = Dimension {
    question: "the same program in Python (CPU-bound work on two workers)",
    demo: DemoId::Cpu,
    figure: VerdictFigure::Measured("speedup_2_workers", Better::Higher),
    reason: "CPython's global interpreter lock lets one thread run Python code at a time, so \
             threads do not speed up CPU-bound work; each process has its own interpreter and \
             lock, as each Rust thread has no lock at all",
    reason_with_tasks: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measured_figure_of_the_verdict_is_a_headline_of_its_demo() {
        for dimension in DIMENSIONS.iter().chain([&SAME_PROGRAM_IN_PYTHON]) {
            if let VerdictFigure::Measured(key, better) = dimension.figure {
                let headline = dimension
                    .demo
                    .headlines()
                    .iter()
                    .find(|h| h.key == key)
                    .unwrap_or_else(|| panic!("{key} is not a headline of {}", dimension.demo));
                assert_eq!(headline.better, better, "{key}");
            }
        }
    }
}
