//! `spawn` (beyond the notebook) on processes: the cost to start and reap one worker, next to
//! a bare `fork` + `_exit` + `waitpid`, and that cost after the parent touched more memory.

use crate::interrupt;
use crate::workers::{Workers, ensure_single_threaded, exit_child};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use shared::bench::{
    record_spawn_costs, record_touched_cost, time_alternately, time_each, touch_memory,
};
use shared::catalogue::spawn::TOUCHED_MIB;
use shared::outcome::SpawnOutcome;
use shared::{DemoError, DemoRun};

pub fn run(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let count = run.count();
    ensure_single_threaded()?;
    let mut workers = Workers::new(run);
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

    // fork copies the parent's page tables: the more memory it touched, the dearer the fork.
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

/// The bare OS cost: `fork`, the child `_exit`s at once, the parent `waitpid`s.
fn bare_start_and_join() -> Result<(), DemoError> {
    if interrupt::requested() {
        return Err(DemoError::Interrupted);
    }
    // SAFETY: the parent is single-threaded (checked before the loop), and the child calls
    // nothing but `_exit`.
    match unsafe { fork() }.map_err(|e| DemoError::system("fork", e))? {
        ForkResult::Child => exit_child(0),
        ForkResult::Parent { child } => {
            waitpid(child, None).map_err(|e| DemoError::system("waitpid", e))?;
            Ok(())
        }
    }
}
