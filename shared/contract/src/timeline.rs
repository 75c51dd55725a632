//! Timelines: what each worker of a demo was doing, and when, derived from the demo's events.
//! One model for the HTML report's timeline charts and the text timeline of a narrated run.
//!
//! A row per worker (the main flow first, then the workers in natural order: `t2` before
//! `t10`), holding the worker's lifetime (first event to last), its spells (working,
//! sleeping, waiting) and point marks for every other event. Which event words bound a spell
//! is one table, [`RULES`]: a word *opens* a spell that lasts until the worker's next event,
//! or *closes* one that began at the worker's previous event. A spell still open when the
//! worker says nothing more is cut at the main flow's next round boundary (a crash round
//! over, a pass counted), or else at the end of the demo: it is marked `cut`, because the
//! worker never said it was over (a crashed program's sibling, a worker whose last word was
//! the start of its loop).

use crate::trace::{Event, MAIN};
use std::fmt::Write;

/// What a worker is doing during a spell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Running its job on a CPU (a loop, a fetch, a computation).
    Working,
    /// Asleep for a fixed time (the tutorial's `sleep`).
    Sleeping,
    /// Blocked until someone else acts (an event set, workers joined).
    Waiting,
}

impl Activity {
    /// The word a legend and a tooltip use.
    pub fn word(self) -> &'static str {
        match self {
            Activity::Working => "working",
            Activity::Sleeping => "sleeping",
            Activity::Waiting => "waiting",
        }
    }

    /// The character that draws it in a text timeline.
    pub fn glyph(self) -> char {
        match self {
            Activity::Working => '█',
            Activity::Sleeping => '▒',
            Activity::Waiting => '░',
        }
    }
}

/// What an event word says about its worker's activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The worker is in this activity from the event until its own next event.
    Opens(Activity),
    /// The event ends a spell in this activity that began at the worker's previous event.
    Closes(Activity),
    /// The worker dies right after the event (a mark of its own).
    Dies,
    /// A main-flow event that ends a round or a pass: a spell whose worker has said nothing
    /// more by then is cut here.
    EndsRound,
}

/// Every event word that is more than a mark, with what it means and why, from the demos'
/// workloads (`shared/contract/src/demos/`, `workloads.rs`, `event_flag.rs`, `baseline.rs`).
pub const RULES: [(&str, Rule, &str); 17] = [
    (
        "sleeping",
        Rule::Opens(Activity::Sleeping),
        "the sleeper's sleep (start, join, run-hooks, crash)",
    ),
    (
        "counting down",
        Rule::Opens(Activity::Sleeping),
        "event: the flag sleeps until it sets the event",
    ),
    (
        "countdown begun",
        Rule::Opens(Activity::Sleeping),
        "event: the flag sleeps until it clears the event",
    ),
    (
        "waiting",
        Rule::Opens(Activity::Waiting),
        "event: ops blocks until the event is set (then sleeps to its first draw)",
    ),
    (
        "drew",
        Rule::Opens(Activity::Sleeping),
        "event: ops sleeps until its next draw is due",
    ),
    (
        "acquired",
        Rule::Opens(Activity::Working),
        "lock: the worker's loop, under the lock, until done",
    ),
    (
        "adding",
        Rule::Opens(Activity::Working),
        "lock: the same loop without the lock",
    ),
    (
        "counting",
        Rule::Opens(Activity::Working),
        "cpu: the worker counts primes in its chunks",
    ),
    (
        "timing",
        Rule::Opens(Activity::Working),
        "queue, channel: a timing loop",
    ),
    (
        "result",
        Rule::Closes(Activity::Working),
        "custom-init: the doubling since the worker started",
    ),
    (
        "saved",
        Rule::Closes(Activity::Working),
        "download: the fetch and write of the file it names",
    ),
    (
        "retry",
        Rule::Closes(Activity::Working),
        "download: a fetch that failed and is tried again",
    ),
    (
        "failed",
        Rule::Closes(Activity::Working),
        "download: the last fetch of a file that failed",
    ),
    (
        "joined",
        Rule::Closes(Activity::Waiting),
        "join: the main flow waited for its workers",
    ),
    (
        "dying",
        Rule::Dies,
        "crash: the doomed worker dies right after it says so",
    ),
    (
        "survivors",
        Rule::EndsRound,
        "crash: the round is over; the parent has seen who survived",
    ),
    (
        "counted",
        Rule::EndsRound,
        "cpu: the pass is over; the parent has its workers' counts",
    ),
];

/// What an event word says: its rule, or `None` for a plain mark.
pub fn rule_of(what: &str) -> Option<Rule> {
    RULES
        .iter()
        .find(|(word, _, _)| *word == what)
        .map(|(_, rule, _)| *rule)
}

/// A time during which a worker was in one activity.
#[derive(Clone, Debug, PartialEq)]
pub struct Spell {
    pub activity: Activity,
    pub start_s: f64,
    pub end_s: f64,
    /// The narration of the event that opened or closed it, e.g. `t1 sleeping for 0.05 s`.
    pub narration: String,
    /// The worker never said it was over: ended by a round's end or the demo's.
    pub cut: bool,
}

/// What a point mark stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Event,
    Death,
}

/// An event drawn as a point.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub t_s: f64,
    pub kind: MarkKind,
    pub narration: String,
}

/// One worker's row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub worker: String,
    /// From its first event to its last (or the end of its last spell, if later).
    pub lifetime: (f64, f64),
    pub spells: Vec<Spell>,
    pub marks: Vec<Mark>,
}

/// A demo's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    pub rows: Vec<Row>,
    /// Where the time axis starts: a round time at or before the first event, so that a
    /// long silent setup (making `download`'s images) does not squeeze what follows.
    pub start_s: f64,
    /// Where the time axis ends: the demo's wall time, or its last event if later.
    pub end_s: f64,
}

impl Timeline {
    /// The timeline of a demo's events (in any order) that took `wall_s`.
    pub fn of(events: &[Event], wall_s: f64) -> Timeline {
        // The lines on the mechanism are the parent's words about a worker, not what a
        // worker was doing: they are left out.
        let mut events: Vec<&Event> = events.iter().filter(|e| !e.is_mechanism()).collect();
        events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        let end_s = events.iter().map(|e| e.t_s).fold(wall_s.max(0.0), f64::max);
        let round_ends: Vec<f64> = events
            .iter()
            .filter(|e| e.worker == MAIN && rule_of(&e.what) == Some(Rule::EndsRound))
            .map(|e| e.t_s)
            .collect();
        let mut workers: Vec<&str> = Vec::new();
        for event in &events {
            if !workers.contains(&event.worker.as_str()) {
                workers.push(&event.worker);
            }
        }
        workers.sort_by(|a, b| natural_order(a, b));
        let rows = workers
            .into_iter()
            .map(|worker| {
                let own: Vec<&Event> = events
                    .iter()
                    .copied()
                    .filter(|e| e.worker == worker)
                    .collect();
                row_of(worker, &own, &round_ends, end_s)
            })
            .collect();
        let first = events.first().map_or(0.0, |e| e.t_s.max(0.0));
        let step = nice_step(((end_s - first) / 4.0).max(1e-9));
        let start_s = (first / step).floor() * step;
        Timeline {
            rows,
            start_s,
            end_s,
        }
    }

    /// A compact text timeline, at most `width` columns (at least 60): a row per worker, a
    /// time axis under them, and a legend line.
    pub fn text(&self, width: usize) -> String {
        let width = width.max(60);
        let label_width = self
            .rows
            .iter()
            .map(|r| r.worker.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 12);
        let columns = width - label_width - 1;
        let per_column = (self.end_s - self.start_s).max(1e-9) / columns as f64;
        let column = |t: f64| (((t - self.start_s) / per_column) as usize).min(columns - 1);
        let mut out = String::new();
        for row in &self.rows {
            let mut cells = vec![' '; columns];
            for cell in &mut cells[column(row.lifetime.0)..=column(row.lifetime.1)] {
                *cell = '─';
            }
            for spell in &row.spells {
                let first = column(spell.start_s);
                // The spell's last column is the one its end falls in, unless it ends
                // exactly on that column's start.
                let last = column((spell.end_s - per_column * 1e-6).max(spell.start_s));
                for cell in &mut cells[first..=last.max(first)] {
                    *cell = spell.activity.glyph();
                }
            }
            for mark in &row.marks {
                let cell = &mut cells[column(mark.t_s)];
                *cell = match mark.kind {
                    MarkKind::Death => '✕',
                    MarkKind::Event if *cell == '✕' => '✕',
                    MarkKind::Event => '•',
                };
            }
            let label: String = row.worker.chars().take(label_width).collect();
            let _ = writeln!(
                out,
                "{label:<label_width$} {}",
                cells.iter().collect::<String>().trim_end()
            );
        }
        let (axis, labels) = text_axis(self.start_s, self.end_s, columns, per_column);
        let _ = writeln!(out, "{:label_width$} {axis}", "");
        let _ = writeln!(out, "{:label_width$} {}", "", labels.trim_end());
        let legend = format!(
            "{} working  {} sleeping  {} waiting  ─ alive  • event  ✕ died",
            Activity::Working.glyph(),
            Activity::Sleeping.glyph(),
            Activity::Waiting.glyph(),
        );
        let scale = format!("1 column = {}", seconds_label(per_column));
        let indent = label_width + 1;
        if indent + legend.chars().count() + 3 + scale.chars().count() <= width {
            let _ = writeln!(out, "{:indent$}{legend} · {scale}", "");
        } else {
            let _ = writeln!(out, "{legend}\n{scale}");
        }
        out
    }
}

/// The row of one worker from its own events, in time order.
fn row_of(worker: &str, own: &[&Event], round_ends: &[f64], end_s: f64) -> Row {
    let mut spells = Vec::new();
    let mut marks = Vec::new();
    for (i, event) in own.iter().enumerate() {
        match rule_of(&event.what) {
            Some(Rule::Opens(activity)) => {
                let next_own = own.get(i + 1).map(|e| e.t_s);
                // A worker with nothing more to say is cut at the next round's end.
                let round_end = round_ends.iter().copied().find(|&t| t >= event.t_s);
                let (end, cut) = match (next_own, round_end) {
                    (Some(next), Some(round)) if round < next => (round, true),
                    (Some(next), _) => (next, false),
                    (None, Some(round)) => (round, true),
                    (None, None) => (end_s, true),
                };
                spells.push(Spell {
                    activity,
                    start_s: event.t_s,
                    end_s: end,
                    narration: event.narration(),
                    cut,
                });
            }
            Some(Rule::Closes(activity)) => match i.checked_sub(1).map(|p| own[p]) {
                Some(previous) => spells.push(Spell {
                    activity,
                    start_s: previous.t_s,
                    end_s: event.t_s,
                    narration: event.narration(),
                    cut: false,
                }),
                None => marks.push(mark(event, MarkKind::Event)),
            },
            Some(Rule::Dies) => marks.push(mark(event, MarkKind::Death)),
            Some(Rule::EndsRound) | None => marks.push(mark(event, MarkKind::Event)),
        }
    }
    let first = own.first().map_or(0.0, |e| e.t_s);
    let last = own
        .iter()
        .map(|e| e.t_s)
        .chain(spells.iter().map(|s| s.end_s))
        .fold(first, f64::max);
    Row {
        worker: worker.to_string(),
        lifetime: (first, last),
        spells,
        marks,
    }
}

fn mark(event: &Event, kind: MarkKind) -> Mark {
    Mark {
        t_s: event.t_s,
        kind,
        narration: event.narration(),
    }
}

/// `main` first, then names compared with their trailing numbers as numbers (`t2` < `t10`).
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |name: &str| {
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (stem, number) = name.split_at(name.len() - digits);
        (name != MAIN, stem.to_string(), number.parse::<u64>().ok())
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// The axis line (`└──┬──…`) and the tick labels under it.
fn text_axis(start_s: f64, end_s: f64, columns: usize, per_column: f64) -> (String, String) {
    let mut axis: Vec<char> = vec!['─'; columns];
    let mut labels: Vec<char> = vec![' '; columns];
    axis[0] = '└';
    for tick in axis_ticks(start_s, end_s, 4) {
        let at = (((tick - start_s) / per_column).round() as usize).min(columns - 1);
        if at > 0 {
            axis[at] = '┬';
        }
        let text: Vec<char> = seconds_label(tick).chars().collect();
        // Centred on the tick where there is room, never over the previous label.
        let start = at.saturating_sub(text.len() / 2).min(columns - text.len());
        if labels[start.saturating_sub(1)..(start + text.len()).min(columns)]
            .iter()
            .all(|c| *c == ' ')
        {
            labels[start..start + text.len()].copy_from_slice(&text);
        }
    }
    (axis.into_iter().collect(), labels.into_iter().collect())
}

/// Round tick values from `min` to `max`, about `about` of them, at 1, 2 or 5 × 10ⁿ apart.
pub fn axis_ticks(min: f64, max: f64, about: usize) -> Vec<f64> {
    if max <= min || !min.is_finite() || !max.is_finite() {
        return vec![min];
    }
    let step = nice_step((max - min) / about.max(1) as f64);
    let first = (min / step).ceil() as i64;
    let last = (max / step + 1e-9).floor() as i64;
    // A step below 1 is a whole number divided by a power of ten, so that the ticks are
    // the decimals they look like (0.6, not 0.6000000000000001).
    let per_unit = if step < 1.0 {
        10f64.powi(-step.log10().floor() as i32)
    } else {
        1.0
    };
    let whole_step = (step * per_unit).round();
    (first..=last)
        .map(|k| k as f64 * whole_step / per_unit)
        .collect()
}

/// The round step (1, 2 or 5 × 10ⁿ) nearest above `raw`.
pub fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A time as an axis label: `0`, `250 µs`, `25 ms`, `1.5 s`.
pub fn seconds_label(seconds: f64) -> String {
    let trim = |text: String| {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if seconds == 0.0 {
        "0".to_string()
    } else if seconds.abs() >= 1.0 {
        format!("{} s", trim(format!("{seconds:.2}")))
    } else if seconds.abs() >= 1e-3 {
        format!("{} ms", trim(format!("{:.2}", seconds * 1e3)))
    } else {
        format!("{} µs", trim(format!("{:.1}", seconds * 1e6)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t_s: f64, worker: &str, what: &str, detail: Option<&str>) -> Event {
        Event {
            t_s,
            worker: worker.into(),
            what: what.into(),
            detail: detail.map(str::to_string),
        }
    }

    /// `join` at a small scale: five overlapping sleeps, the main flow waiting for them.
    /// Worker k is started at k + 0.2 ms, sleeps from k + 0.5 ms to 50.5 + k ms.
    fn join_events() -> Vec<Event> {
        let mut events = vec![];
        for k in 0..5 {
            let worker = format!("t{k}");
            let ms = f64::from(k);
            events.push(event((ms + 0.2) / 1e3, MAIN, "started", Some(&worker)));
            events.push(event(
                (ms + 0.5) / 1e3,
                &worker,
                "sleeping",
                Some("for 0.05 s"),
            ));
            events.push(event((ms + 50.5) / 1e3, &worker, "finished", None));
        }
        events.push(event(0.0555, MAIN, "joined", Some("all 5")));
        events
    }

    #[test]
    fn join_shows_five_overlapping_sleeps_and_the_main_flow_waiting() {
        let timeline = Timeline::of(&join_events(), 0.057);
        let workers: Vec<&str> = timeline.rows.iter().map(|r| r.worker.as_str()).collect();
        assert_eq!(workers, ["main", "t0", "t1", "t2", "t3", "t4"]);
        assert_eq!((timeline.start_s, timeline.end_s), (0.0, 0.057));
        for (k, row) in timeline.rows[1..].iter().enumerate() {
            let start = (k as f64 + 0.5) / 1e3;
            let end = (k as f64 + 50.5) / 1e3;
            assert_eq!(
                row.spells,
                [Spell {
                    activity: Activity::Sleeping,
                    start_s: start,
                    end_s: end,
                    narration: format!("t{k} sleeping for 0.05 s"),
                    cut: false,
                }]
            );
            assert_eq!(row.lifetime, (start, end));
            assert_eq!(
                row.marks,
                [Mark {
                    t_s: end,
                    kind: MarkKind::Event,
                    narration: format!("t{k} finished")
                }]
            );
        }
        let main = &timeline.rows[0];
        assert_eq!(
            main.spells,
            [Spell {
                activity: Activity::Waiting,
                start_s: (4.0 + 0.2) / 1e3,
                end_s: 0.0555,
                narration: "main joined all 5".into(),
                cut: false,
            }]
        );
        let started: Vec<f64> = main.marks.iter().map(|m| m.t_s).collect();
        let expected: Vec<f64> = (0..5).map(|k| (f64::from(k) + 0.2) / 1e3).collect();
        assert_eq!(started, expected);
        assert_eq!(main.lifetime, (expected[0], 0.0555));
    }

    #[test]
    fn a_crashed_round_cuts_the_sleeps_nobody_finished_and_marks_the_death() {
        // threads, `crash` by abort: t2 dies and takes t1 with it; the round's end (the
        // parent's `survivors`) cuts t1's sleep; the next round starts t1 afresh.
        let events = vec![
            event(0.0, MAIN, "round", Some("t2 dies by abort")),
            event(0.001, "t1", "sleeping", Some("for 0.01 s")),
            event(0.002, "t2", "sleeping", Some("for 0.01 s")),
            event(0.0021, "t2", "dying", Some("by abort")),
            event(0.008, MAIN, "survivors", None),
            event(0.009, MAIN, "round", Some("t2 dies by kill")),
            event(0.010, "t1", "sleeping", Some("for 0.01 s")),
            event(0.020, "t1", "finished", None),
        ];
        let timeline = Timeline::of(&events, 0.021);
        let t1 = &timeline.rows[1];
        assert_eq!(t1.worker, "t1");
        let spells: Vec<(f64, f64, bool)> = t1
            .spells
            .iter()
            .map(|s| (s.start_s, s.end_s, s.cut))
            .collect();
        assert_eq!(spells, [(0.001, 0.008, true), (0.010, 0.020, false)]);
        let t2 = &timeline.rows[2];
        assert_eq!(
            t2.spells
                .iter()
                .map(|s| (s.start_s, s.end_s))
                .collect::<Vec<_>>(),
            [(0.002, 0.0021)]
        );
        assert_eq!(
            t2.marks,
            [Mark {
                t_s: 0.0021,
                kind: MarkKind::Death,
                narration: "t2 dying by abort".into()
            }]
        );
        assert_eq!(t2.lifetime, (0.002, 0.0021));
    }

    #[test]
    fn a_closing_word_spans_back_to_the_previous_event_and_a_last_open_spell_runs_to_the_end() {
        // download: `ready`, then each `saved` closes the fetch of its file.
        let events = vec![
            event(0.10, "t0", "ready", None),
            event(0.15, "t0", "saved", Some("cat.png (9 B)")),
            event(0.22, "t0", "saved", Some("boat.png (9 B)")),
            event(0.30, "timer", "timing", Some("10 × (put, get)")),
        ];
        let timeline = Timeline::of(&events, 0.4);
        let t0 = &timeline.rows[0];
        let spells: Vec<(f64, f64, &str)> = t0
            .spells
            .iter()
            .map(|s| (s.start_s, s.end_s, s.narration.as_str()))
            .collect();
        assert_eq!(
            spells,
            [
                (0.10, 0.15, "t0 saved cat.png (9 B)"),
                (0.15, 0.22, "t0 saved boat.png (9 B)")
            ]
        );
        assert_eq!(t0.marks.len(), 1, "ready is a mark");
        let timer = &timeline.rows[1];
        assert_eq!(timer.spells.len(), 1);
        assert_eq!(
            (
                timer.spells[0].start_s,
                timer.spells[0].end_s,
                timer.spells[0].cut
            ),
            (0.30, 0.4, true)
        );
        assert_eq!(timer.lifetime, (0.30, 0.4));
    }

    #[test]
    fn the_axis_starts_at_a_round_time_before_a_late_first_event() {
        // download after 1.95 s of making images: the axis starts at 1.5 s, not at 0.
        let events = vec![
            event(1.95, MAIN, "pass", Some("sequential, 1 worker")),
            event(2.9, MAIN, "pass", Some("concurrent, 6 workers")),
        ];
        let timeline = Timeline::of(&events, 3.0);
        assert_eq!((timeline.start_s, timeline.end_s), (1.5, 3.0));
        let text = timeline.text(100);
        let labels = text.lines().nth(2).unwrap();
        assert!(labels.trim_start().starts_with("1.5 s"), "{text}");
    }

    #[test]
    fn workers_sort_naturally_after_main() {
        let events: Vec<Event> = ["t10", "t2", "seq", "main", "t1"]
            .iter()
            .map(|w| event(0.0, w, "hello", None))
            .collect();
        let timeline = Timeline::of(&events, 1.0);
        let workers: Vec<&str> = timeline.rows.iter().map(|r| r.worker.as_str()).collect();
        assert_eq!(workers, ["main", "seq", "t1", "t2", "t10"]);
    }

    #[test]
    fn the_text_timeline_draws_sleeps_marks_and_an_axis_in_its_width() {
        // 95 columns of 1 ms each, after the labels' 4 columns and a space.
        let timeline = Timeline::of(&join_events(), 0.095);
        let text = timeline.text(100);
        let lines: Vec<&str> = text.lines().collect();
        // 6 rows, the axis, its labels, the legend.
        assert_eq!(lines.len(), 9, "{text}");
        let cells = |line: &str| -> Vec<char> { line.chars().skip(5).collect() };
        assert_eq!(lines[1].chars().take(5).collect::<String>(), "t0   ");
        for k in 0..5 {
            // tk sleeps from column k to column 50 + k, where its `finished` mark is.
            let row = cells(lines[1 + k]);
            assert!(row[..k].iter().all(|c| *c == ' '), "{:?}", lines[1 + k]);
            assert!(
                row[k..50 + k].iter().all(|c| *c == '▒'),
                "{:?}",
                lines[1 + k]
            );
            assert_eq!(row[50 + k], '•', "{:?}", lines[1 + k]);
            assert_eq!(row.len(), 51 + k, "nothing after the last event");
        }
        // main: a mark in each of columns 0 to 4, then waiting up to `joined` in column 55.
        let main = cells(lines[0]);
        assert!(main[..5].iter().all(|c| *c == '•'), "{:?}", lines[0]);
        assert!(main[5..=55].iter().all(|c| *c == '░'), "{:?}", lines[0]);
        assert_eq!(main.len(), 56);
        assert!(lines[6].starts_with("     └──"), "{:?}", lines[6]);
        assert_eq!(lines[6].chars().nth(5 + 50), Some('┬'), "a tick at 50 ms");
        assert!(lines[7].starts_with("     0"), "{:?}", lines[7]);
        assert_eq!(
            lines[7].chars().collect::<Vec<_>>()[5 + 48..5 + 53],
            "50 ms".chars().collect::<Vec<_>>()[..],
            "{:?}",
            lines[7]
        );
        assert!(lines[8].ends_with("1 column = 1 ms"), "{:?}", lines[8]);
        for width in [100, 80, 60] {
            for line in timeline.text(width).lines() {
                assert!(
                    line.chars().count() <= width,
                    "{line:?} is wider than {width}"
                );
            }
        }
    }

    #[test]
    fn a_death_shows_in_the_text_timeline() {
        let events = vec![
            event(0.0005, "t2", "sleeping", Some("for 0.01 s")),
            event(0.0015, "t2", "dying", Some("by kill")),
        ];
        // 60 columns of 0.25 ms: asleep in columns 2 to 5, dead in column 6.
        let text = Timeline::of(&events, 0.015).text(65);
        assert!(text.starts_with("t2     ▒▒▒▒✕\n"), "{text}");
    }

    #[test]
    fn ticks_are_round_and_labels_carry_units() {
        assert_eq!(axis_ticks(0.0, 0.057, 4), [0.0, 0.02, 0.04]);
        assert_eq!(axis_ticks(0.0, 1.0, 4), [0.0, 0.5, 1.0]);
        assert_eq!(axis_ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(axis_ticks(0.3, 9.5, 5), [2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(seconds_label(0.0), "0");
        assert_eq!(seconds_label(0.02), "20 ms");
        assert_eq!(seconds_label(0.0000125), "12.5 µs");
        assert_eq!(seconds_label(1.5), "1.5 s");
        assert_eq!(seconds_label(0.00182), "1.82 ms");
    }
}
