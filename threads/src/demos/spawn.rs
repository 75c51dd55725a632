//! `spawn` (beyond the notebook) on threads: the cost to start and join one worker, next to
//! a bare `std::thread::spawn` + `join`, and that cost after the parent touched more memory.

use crate::workers::Workers;
use contract::bench::{
    record_all_at_once, record_spawn_costs, record_touched_cost, time_alternately, time_each, touch_memory,
};
use contract::demos::spawn::SpawnOutcome;
use contract::demos::spawn::{ALL_AT_ONCE_PASSES, all_at_once, touched_mib, touched_starts};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let count = run.count();
    let mut workers = Workers::new(run).unnarrated();
    let mut joined = 0;
    let (through_workers, raw) = time_alternately(
        count,
        || {
            let id = workers.start("t0", |_| ())?;
            workers.join(id)?;
            joined += 1;
            Ok(())
        },
        bare_start_and_join,
    )?;
    run.main_says(
        "started and joined",
        Some(format!("{joined} workers, one after another")),
    );
    record_spawn_costs(run, &through_workers, &raw);

    // `--workers N`: N threads alive at once before the first is joined.
    if let Some(at_once) = all_at_once(run) {
        let passes = time_each(ALL_AT_ONCE_PASSES as u64, || {
            for index in 0..at_once {
                workers.start(&format!("t{index}"), |_| ())?;
            }
            workers.join_all().map(drop)
        })?;
        record_all_at_once(run, at_once, &passes);
    }

    // A new thread shares the parent's memory: how much of it is touched should not matter.
    for mib in touched_mib(run) {
        let memory = touch_memory(mib);
        let raw = time_each(touched_starts(run), bare_start_and_join)?;
        drop(memory);
        record_touched_cost(run, mib, &raw);
    }
    Ok(SpawnOutcome {
        started: count,
        joined,
    })
}

/// The bare OS cost: `std::thread::spawn` of an empty closure, then `join`.
fn bare_start_and_join() -> Result<(), DemoError> {
    std::thread::spawn(|| ())
        .join()
        .map_err(|_| DemoError::System("an empty thread panicked".into()))
}
