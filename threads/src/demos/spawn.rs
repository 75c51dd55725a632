//! `spawn` (beyond the notebook) on threads: the cost to start and join one worker, next to
//! a bare `std::thread::spawn` + `join`, and that cost after the parent touched more memory.

use crate::workers::Workers;
use contract::bench::{
    record_spawn_costs, record_touched_cost, time_alternately, time_each, touch_memory,
};
use contract::demos::spawn::SpawnOutcome;
use contract::demos::spawn::TOUCHED_MIB;
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

    // A new thread shares the parent's memory: how much of it is touched should not matter.
    for mib in TOUCHED_MIB {
        let memory = touch_memory(mib);
        let raw = time_each((count / 10).max(5), bare_start_and_join)?;
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
