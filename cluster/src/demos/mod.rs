//! One file per demo, mirroring `threads/src/demos/` and `processes/src/demos/` line by line;
//! the list of demos is the contract's, so a demo without its file here does not compile.

use contract::DemoId;
use runner::cli::Cli;

/// Every demo of the catalogue, as `runner::backend_demos!` generates them for the other
/// backends, and the jobs each declares for a worker rank.
macro_rules! cluster_demos {
    ($($module:ident => $variant:ident,)*) => {
        $(pub mod $module;)*

        pub fn run(
            demo: DemoId,
            run: &contract::DemoRun,
        ) -> Result<runner::Checked, contract::DemoError> {
            match demo {
                $(DemoId::$variant => Ok(runner::checked($module::run(run)?)),)*
            }
        }

        /// The demos this backend runs, in catalogue order.
        pub const DEMOS: &[DemoId] = &[$(DemoId::$variant,)*];

        /// The jobs of every demo, as a worker rank finds them.
        pub const JOBS: &[&[crate::ranks::Entry]] = &[$($module::JOBS,)*];
    };
}

cluster_demos! {
    start => Start,
    join => Join,
    run_hooks => RunHooks,
    custom_init => CustomInit,
    lock => Lock,
    queue => Queue,
    event => Event,
    download => Download,
    cpu => Cpu,
    crash => Crash,
    spawn => Spawn,
    channel => Channel,
}

/// The worker ranks a run of the demos on `cli` needs at once: the most any one of them
/// starts (the launcher starts the job with one rank more, rank 0).
pub fn worker_ranks_needed(cli: &Cli) -> usize {
    let options = &cli.options;
    cli.selected_demos()
        .into_iter()
        .map(|demo| match demo {
            DemoId::Start => 1,
            DemoId::Join => options.workers.unwrap_or(contract::demos::join::WORKERS),
            DemoId::RunHooks => contract::demos::run_hooks::WORKERS,
            DemoId::CustomInit => options
                .workers
                .unwrap_or(contract::demos::custom_init::WORKERS as usize),
            DemoId::Cpu => options
                .workers
                .unwrap_or_else(contract::demos::cpu::default_workers),
            DemoId::Lock => contract::demos::lock::DELTAS.len(),
            // Two workers at once: producer and consumer, tasker and helper, sender and receiver.
            DemoId::Queue => 2,
            DemoId::Event => 2,
            DemoId::Download => options
                .workers
                .unwrap_or(contract::demos::download::WORKERS),
            DemoId::Crash => contract::demos::crash::WORKERS,
            DemoId::Spawn => options.workers.unwrap_or(1),
            DemoId::Channel => 1,
        })
        .max()
        .unwrap_or(1)
}
