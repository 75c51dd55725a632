//! `queue` (notebook §6): a producer fills four queues, a consumer drains them; then the
//! notebook's open question, `q.join() # WHY JOINED????`, answered: a tasker puts five tasks
//! and joins the queue, a helper gets each, does it and calls `task_done`, and `join` returns
//! only after the fifth `task_done`, although the queue was empty before (the helper took the
//! last task before it had done it). That is what `join` is for: waiting until the work put on
//! a queue is finished, not merely handed out.

use super::prelude::*;
use crate::queues::{Item, QueueName};

/// The catalogue's row of `queue`.
pub const ROW: Row = Row {
    id: "queue",
    section: "§6",
    description: "a producer worker puts, a consumer worker gets: FIFO, LIFO and priority orders; \
                  then join waits for every task_done",
    params: &[
        Param { name: "orders", default: "fifo lifo priority priority-pairs" },
        Param { name: "count", default: "2000" },
    ],
    ideal_wall_s: 0.0,
    default_count: Some(DEFAULT_COUNT),
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "ns_per_put_get", label: "one put and one get", better: Better::Lower },
    ],
    check: check_json::<QueueOutcome>,
    comparable_outcome: super::same_outcome,
    comparable_event,
};

/// The notebook's events are compared; the measuring workers' are not: each backend times
/// each kind of queue it has (threads one, processes two), so their number differs by design.
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let measuring = [TIMED, STREAM_SENDER, STREAM_RECEIVER].contains(&event.worker.as_str());
    (!measuring).then(|| event.key())
}

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["count"];

pub const PRODUCER: &str = "producer";
pub const CONSUMER: &str = "consumer";
/// The worker of the timed pass: `--count` × (put, get).
pub const TIMED: &str = "timer";
/// The workers of the stream: one puts `--count` items as fast as the queue takes them, the
/// other gets them; items per second from the first put to the last get.
pub const STREAM_SENDER: &str = "sender";
pub const STREAM_RECEIVER: &str = "receiver";
/// The worker that puts the tasks and joins the queue (the notebook's main flow).
pub const TASKER: &str = "tasker";
/// The worker that gets each task, does it and marks it done (the notebook's threads).
pub const HELPER: &str = "helper";
/// Tasks put on the joinable queue.
pub const TASKS: u64 = 5;
/// The worker (processes) or thread (threads) that measures the raw channel round trips.
pub const BASELINE: &str = "baseline";
/// How long one get waits on an empty queue before it gives up. Not scaled: it is a
/// bound on a wait that normally ends in microseconds, not one of the notebook's sleeps.
pub const GET_TIMEOUT_S: f64 = 5.0;
/// Put+get pairs in the timed pass, items of the stream, and round trips of each raw
/// baseline. Fewer than `lock`'s updates: through an owner process each put and each get is
/// a round trip.
pub const DEFAULT_COUNT: u64 = 2_000;
/// The notebook's integer puts: FIFO and LIFO get 0…4, priority gets 1, 3, 4, 2.
pub const FIFO_PUTS: [i64; 5] = [0, 1, 2, 3, 4];
pub const PRIORITY_PUTS: [i64; 4] = [1, 3, 4, 2];

/// `queue`: what the consumer got from each of the notebook's queues, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueOutcome {
    pub fifo: Vec<i64>,
    pub lifo: Vec<i64>,
    pub priority: Vec<i64>,
    /// The text of each `(priority, text)` pair, as the notebook prints `q.get()[1]`.
    pub priority_pairs: Vec<String>,
    /// Items of the timed pass that came back as they were put (must be `--count`).
    pub timed_returned: u64,
    /// `--count`.
    pub count: u64,
    /// The helper's `task_done`s and the tasker's `joined`, in time order
    /// ([`join_order`]): the join must come after the last task is done.
    pub join_order: Vec<String>,
}

/// What the tasker says as it starts to wait on `join`.
pub fn joining_said(tasks: u64) -> String {
    format!("until each of the {tasks} tasks is marked done (task_done), not just taken")
}

/// What the tasker says when `join` has returned.
pub fn joined_said(tasks: u64) -> String {
    format!("after the {}th task_done: every task taken and done", tasks)
}

/// The helper's `task_done` events and the tasker's `joined`, in time order, as
/// `helper task_done task 1 (1 of 5)`, …, `tasker joined`.
pub fn join_order(events: &[Event]) -> Vec<String> {
    let mut events: Vec<&Event> = events
        .iter()
        .filter(|e| {
            (e.worker == HELPER && e.what == "task_done") || (e.worker == TASKER && e.what == "joined")
        })
        .collect();
    events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    events
        .into_iter()
        .map(|e| match (&e.detail, e.worker.as_str()) {
            (Some(detail), HELPER) => format!("{} {} {detail}", e.worker, e.what),
            _ => format!("{} {}", e.worker, e.what),
        })
        .collect()
}

/// The join order the contract expects: the five `task_done`s, then the join's return.
pub fn expected_join_order() -> Vec<String> {
    let mut order: Vec<String> = (1..=TASKS)
        .map(|task| format!("{HELPER} task_done task {task} ({task} of {TASKS})"))
        .collect();
    order.push(format!("{TASKER} joined"));
    order
}

impl QueueOutcome {
    /// Sorts what the consumer got into the four sequences.
    pub fn from_batches(
        batches: &[(QueueName, Vec<Item>)],
        timed_returned: u64,
        count: u64,
        join_order: Vec<String>,
    ) -> Self {
        let numbers = |queue: QueueName| -> Vec<i64> {
            batches
                .iter()
                .filter(|(name, _)| *name == queue)
                .flat_map(|(_, items)| items)
                .filter_map(|item| match item {
                    Item::Number(n) => Some(*n),
                    Item::Pair(..) => None,
                })
                .collect()
        };
        let priority_pairs = batches
            .iter()
            .filter(|(name, _)| *name == QueueName::PriorityPairs)
            .flat_map(|(_, items)| items)
            .filter(|item| matches!(item, Item::Pair(..)))
            .map(Item::label)
            .collect();
        QueueOutcome {
            fifo: numbers(QueueName::Fifo),
            lifo: numbers(QueueName::Lifo),
            priority: numbers(QueueName::Priority),
            priority_pairs,
            timed_returned,
            count,
            join_order,
        }
    }
}

impl Outcome for QueueOutcome {
    fn check(&self) -> Result<(), String> {
        // The notebook's printed values, written out rather than derived from the queues.
        let pairs: Vec<String> = (1..=4).map(|n| format!("Priority {n}")).collect();
        let checks: [(&str, Vec<String>, Vec<String>); 4] = [
            ("fifo", texts(&self.fifo), texts(&[0, 1, 2, 3, 4])),
            ("lifo", texts(&self.lifo), texts(&[4, 3, 2, 1, 0])),
            ("priority", texts(&self.priority), texts(&[1, 2, 3, 4])),
            ("priority-pairs", self.priority_pairs.clone(), pairs),
        ];
        for (name, got, expected) in checks {
            if got != expected {
                return Err(format!("{name} got {got:?}, expected {expected:?}"));
            }
        }
        if self.timed_returned != self.count {
            return Err(format!(
                "the timed pass got {} of {} items back",
                self.timed_returned, self.count
            ));
        }
        let expected = expected_join_order();
        if self.join_order != expected {
            return Err(format!(
                "join: {:?}, expected {expected:?} (join returns after the last task_done)",
                self.join_order
            ));
        }
        Ok(())
    }
}

fn texts(numbers: &[i64]) -> Vec<String> {
    numbers.iter().map(i64::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn queue_wants_the_notebooks_sequences() {
        let batches: Vec<(QueueName, Vec<Item>)> = vec![
            (QueueName::Fifo, (0..5).map(Item::Number).collect()),
            (QueueName::Lifo, (0..5).rev().map(Item::Number).collect()),
            (QueueName::Priority, (1..5).map(Item::Number).collect()),
            (
                QueueName::PriorityPairs,
                (1..5)
                    .map(|n| Item::Pair(n, format!("Priority {n}")))
                    .collect(),
            ),
        ];
        assert_eq!(QueueOutcome::from_batches(&batches, 3, 3, expected_join_order()).check(), Ok(()));
        assert!(QueueOutcome::from_batches(&batches, 2, 3, expected_join_order()).check().is_err());
        let mut lifo_as_fifo = batches;
        lifo_as_fifo[1].1.reverse();
        assert!(
            QueueOutcome::from_batches(&lifo_as_fifo, 3, 3, expected_join_order())
                .check()
                .is_err()
        );
    }

}

#[cfg(test)]
mod known_answers {
    use super::*;

    #[test]
    fn the_measuring_workers_events_are_not_compared() {
        let event = |worker: &str, what: &str| Event {
            t_s: 0.1,
            worker: worker.into(),
            what: what.into(),
            detail: None,
        };
        for measuring in [TIMED, STREAM_SENDER, STREAM_RECEIVER] {
            assert_eq!(comparable_event(&event(measuring, "timing")), None);
        }
        for kept in [event(PRODUCER, "put"), event(CONSUMER, "got"), event(BASELINE, "timing")] {
            assert_eq!(comparable_event(&kept), Some(kept.key()));
        }
    }

    #[test]
    fn join_must_return_after_the_last_task_done() {
        let said = |t_s: f64, worker: &str, what: &str, detail: &str| Event {
            t_s,
            worker: worker.into(),
            what: what.into(),
            detail: Some(detail.into()),
        };
        let mut events: Vec<Event> = (1..=TASKS)
            .map(|task| {
                let detail = format!("task {task} ({task} of {TASKS})");
                said(task as f64, HELPER, "task_done", &detail)
            })
            .collect();
        events.push(said(9.0, TASKER, "joined", &joined_said(TASKS)));
        events.push(said(0.5, HELPER, "got", "task 1"));
        assert_eq!(join_order(&events), expected_join_order());
        assert_eq!(expected_join_order()[4], "helper task_done task 5 (5 of 5)");
        assert_eq!(expected_join_order()[5], "tasker joined");
        // A join that returned before the fifth task_done.
        events[TASKS as usize].t_s = 4.5;
        let early = QueueOutcome {
            join_order: join_order(&events),
            ..QueueOutcome::from_batches(&[], 0, 0, vec![])
        };
        let problem = early.check().unwrap_err();
        assert!(problem.starts_with("fifo got"), "{problem}");
        let batches: Vec<(QueueName, Vec<Item>)> = QueueName::BATCHES
            .iter()
            .map(|&b| {
                let mut line = crate::queues::OrderedQueue::new(b.order());
                b.puts().into_iter().for_each(|i| line.push(i));
                (b, std::iter::from_fn(|| line.pop()).collect())
            })
            .collect();
        let early = QueueOutcome::from_batches(&batches, 1, 1, join_order(&events));
        assert!(early.check().unwrap_err().starts_with("join: "));
        assert_eq!(joined_said(5), "after the 5th task_done: every task taken and done");
    }

    #[test]
    fn each_batch_goes_to_its_own_sequence() {
        let batches: Vec<(QueueName, Vec<Item>)> = vec![
            (QueueName::Fifo, vec![Item::Number(0), Item::Number(1)]),
            (QueueName::Lifo, vec![Item::Number(9)]),
            (QueueName::Priority, vec![Item::Number(5)]),
            (
                QueueName::PriorityPairs,
                vec![Item::Pair(1, "Priority 1".into()), Item::Number(7)],
            ),
            (QueueName::Fifo, vec![Item::Number(2)]),
        ];
        let outcome = QueueOutcome::from_batches(&batches, 4, 5, expected_join_order());
        assert_eq!(
            outcome,
            QueueOutcome {
                fifo: vec![0, 1, 2],
                lifo: vec![9],
                priority: vec![5],
                priority_pairs: vec!["Priority 1".into()],
                timed_returned: 4,
                count: 5,
                join_order: expected_join_order(),
            }
        );
        assert_eq!(
            outcome.check(),
            Err(
                "fifo got [\"0\", \"1\", \"2\"], expected [\"0\", \"1\", \"2\", \"3\", \"4\"]"
                    .into()
            )
        );
    }
}
