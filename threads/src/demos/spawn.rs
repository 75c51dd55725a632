//! `spawn` (beyond the notebook) on threads: the cost to start and join one worker, next to
//! a bare `std::thread::spawn` + `join`, and that cost after the parent touched more memory.

use crate::workers::Workers;
use contract::bench::{
    on_cpu, one_core, record_all_at_once, record_spawn_costs, record_spawn_costs_on_one_core,
    record_touched_cost, time_alternately, time_each, touch_memory,
};
use contract::demos::spawn::SpawnOutcome;
use contract::demos::spawn::{ALL_AT_ONCE_PASSES, all_at_once, touched_mib, touched_starts};
use contract::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let count = run.count();
    let mut workers = Workers::new(run).unnarrated();
    // Workers joined by the timed loop; the pass on one core joins as many again.
    let joined = std::cell::Cell::new(0);
    let mut start_and_join = || {
        let id = workers.start("t0", |_| ())?;
        workers.join(id)?;
        joined.set(joined.get() + 1);
        Ok(())
    };
    let (through_workers, raw) = time_alternately(count, &mut start_and_join, bare_start_and_join)?;
    let joined = joined.get();
    record_spawn_costs(run, &through_workers, &raw);
    // The same with this thread pinned to one core, where each new thread starts too.
    if let Some(cpu) = one_core() {
        let (through_workers, raw) = on_cpu(cpu, || {
            time_alternately(count, &mut start_and_join, bare_start_and_join)
        })
        .map_err(DemoError::System)??;
        record_spawn_costs_on_one_core(run, &through_workers, &raw);
    }
    run.main_says(
        "started and joined",
        Some(format!("{joined} workers, one after another")),
    );

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
