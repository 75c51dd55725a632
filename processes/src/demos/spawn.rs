//! `spawn` (beyond the notebook) on processes: the cost to start and reap one worker, next to
//! the bare OS calls it stands on, for both start methods, and the fork cost after the
//! parent touched more memory.
//!
//! `--start` picks the method of the main measurement; the other ones are measured too, with
//! fewer workers, so that every run reports what `spawn` and `forkserver` cost over `fork`,
//! each next to its own bare OS calls.

use crate::workers::{Workers, ensure_single_threaded, exit_child, start_this_program};
use contract::bench::{
    on_cpu, one_core, record_all_at_once, record_method_costs, record_spawn_costs,
    record_spawn_costs_on_one_core, record_touched_cost, time_alternately, time_each, touch_memory,
};
use contract::demos::spawn::SpawnOutcome;
use contract::demos::spawn::{ALL_AT_ONCE_PASSES, Nothing, all_at_once, touched_mib, touched_starts};
use contract::domain::StartMethod;
use contract::{DemoError, DemoRun};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};

crate::spawned::jobs!(Nothing);

pub fn run(run: &DemoRun) -> Result<SpawnOutcome, DemoError> {
    let count = run.count();
    ensure_single_threaded()?;
    let method = run.start_method();
    // Workers joined by the timed loop; the pass on one core joins as many again.
    let joined = std::cell::Cell::new(0);
    let mut workers = Workers::new(run).unnarrated();
    let mut start_and_join = || {
        let id = workers.start("t0", Nothing)?;
        workers.join(id)?;
        joined.set(joined.get() + 1);
        Ok(())
    };
    let (through_workers, raw) =
        time_alternately(count, &mut start_and_join, || bare_start_and_reap(method))?;
    let joined = joined.get();
    record_spawn_costs(run, &through_workers, &raw);
    record_method_costs(run, method.id(), &through_workers, &raw);
    // The same with this process pinned to one core, whose children inherit it: not for a
    // forkserver's workers, which the server forks on its own CPUs.
    let not_on_one_core = match (one_core(), method) {
        (_, StartMethod::Forkserver) => Some(
            "not measured: a forkserver's workers start on the server's CPUs, not on this \
             process's one core",
        ),
        (None, _) => Some("not measured: the kernel did not say which CPUs this process may use"),
        (Some(cpu), _) => {
            let (through_workers, raw) = on_cpu(cpu, || {
                time_alternately(count, &mut start_and_join, || bare_start_and_reap(method))
            })
            .map_err(DemoError::System)??;
            record_spawn_costs_on_one_core(run, &through_workers, &raw);
            None
        }
    };
    if let Some(why) = not_on_one_core {
        run.figures(|f| {
            f.notes
                .insert("worker_start_join_one_core_us".into(), why.into());
        });
    }
    run.main_says(
        "started and joined",
        Some(format!("{joined} workers, one after another")),
    );

    // `--workers N`: N processes alive at once before the first is reaped.
    if let Some(at_once) = all_at_once(run) {
        let passes = time_each(ALL_AT_ONCE_PASSES as u64, || {
            for index in 0..at_once {
                workers.start(&format!("t{index}"), Nothing)?;
            }
            workers.join_all().map(drop)
        })?;
        record_all_at_once(run, at_once, &passes);
    }
    drop(workers);

    // The other start methods, measured in this same run; a forkserver is started for it if
    // this run has none (this process runs one thread, checked above).
    let _server = crate::forkserver::start_for_a_while()?;
    for other in StartMethod::ALL.into_iter().filter(|&m| m != method) {
        let mut workers = Workers::new(run).started_by(other).unnarrated();
        let (other_through_workers, other_raw) = time_alternately(
            (count / 10).max(5),
            || {
                let id = workers.start("t0", Nothing)?;
                workers.join(id)
            },
            || bare_start_and_reap(other),
        )?;
        drop(workers);
        record_method_costs(run, other.id(), &other_through_workers, &other_raw);
    }

    // fork copies the parent's page tables: the more memory it touched, the dearer the fork.
    for mib in touched_mib(run) {
        let memory = touch_memory(mib);
        let raw = time_each(touched_starts(run), || {
            bare_start_and_reap(StartMethod::Fork)
        })?;
        drop(memory);
        record_touched_cost(run, mib, &raw);
    }
    Ok(SpawnOutcome {
        started: count,
        joined,
    })
}

/// The bare OS cost. fork: `fork`, the child `_exit`s at once, the parent `waitpid`s.
/// spawn: `fork` and `exec` of this program, which exits at once, then `waitpid`.
/// forkserver: one request to the server, which forks a child that `_exit`s at once, reaps
/// it and replies: the bare calls, and the two messages no worker of the server can do
/// without.
fn bare_start_and_reap(method: StartMethod) -> Result<(), DemoError> {
    let child = match method {
        // SAFETY: the parent is single-threaded (checked before the loops), and the child
        // calls nothing but `_exit`.
        StartMethod::Fork => match unsafe { fork() }.map_err(|e| DemoError::system("fork", e))? {
            ForkResult::Child => exit_child(0),
            ForkResult::Parent { child } => child,
        },
        StartMethod::Spawn => start_this_program(&[])?,
        // The server forks, its child exits, the server reaps it and replies.
        StartMethod::Forkserver => return crate::forkserver::bare_start_and_reap(),
    };
    // A child that does nothing but exit: this wait is over at once, Ctrl-C or not.
    waitpid(child, None).map_err(|e| DemoError::system("waitpid", e))?;
    Ok(())
}
