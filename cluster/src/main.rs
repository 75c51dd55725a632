//! `cluster`: the tutorial's demos on MPI ranks. A worker is a rank of an MPI job, a process
//! of its own started by `mpirun`, on this machine or on the machines of a `--hostfile`.
//! Rank 0 is the main flow: it hands each worker rank its job in a message, and the worker's
//! events and result come back to it as messages.
//!
//! Run as a user runs it, the program is the launcher (`launch.rs`): it checks the command
//! line and starts itself again under `mpirun` with the ranks the demos need; each copy then
//! finds its rank (`ranks.rs`) and runs the main flow (rank 0) or serves jobs (the others).
//! Built without the `mpi` feature it says what to install and how to build it with MPI.

#[cfg(feature = "mpi")]
mod demos;
#[cfg(feature = "mpi")]
mod launch;
#[cfg(feature = "mpi")]
mod ranks;
#[cfg(feature = "mpi")]
mod sync;
#[cfg(feature = "mpi")]
mod window;
#[cfg(feature = "mpi")]
mod workers;

use std::process::ExitCode;

#[cfg(feature = "mpi")]
fn main() -> ExitCode {
    if std::env::var_os(demos::spawn::EXIT_AT_ONCE).is_some() {
        return ExitCode::SUCCESS;
    }
    if let Some(spec) = std::env::var_os(demos::channel::SOCKET_PEER) {
        return demos::channel::socket_peer_main(&spec.to_string_lossy());
    }
    if ranks::started_by_mpirun() {
        ranks::main_of_rank(|| launch::hand_over_exit_code(main_flow()))
    } else {
        launch::main()
    }
}

/// Rank 0's program: the runner, as for every backend; in a job that runs one `crash` round
/// for another job, that round.
#[cfg(feature = "mpi")]
fn main_flow() -> ExitCode {
    use clap::Parser;
    if let Some(count) = std::env::var_os(demos::spawn::SPAWN_RANKS) {
        return demos::spawn::spawn_ranks_main(&count.to_string_lossy());
    }
    if let Some(bytes) = std::env::var_os(demos::channel::OVER_TCP) {
        return demos::channel::over_tcp_main(&bytes.to_string_lossy());
    }
    match runner::cli::Cli::try_parse() {
        Ok(cli) if cli.crash_copy.is_some() => crash_round_for_another_job(&cli),
        _ => runner::main::<Cluster>(),
    }
}

/// Runs a `crash` round and streams its events as JSON lines, for the job that started this
/// one and watches it: the round may end this whole job.
#[cfg(feature = "mpi")]
fn crash_round_for_another_job(cli: &runner::cli::Cli) -> ExitCode {
    use contract::domain::{BackendKind, WorkerKind};
    use runner::Backend;
    contract::interrupt::install();
    let kind = BackendKind {
        worker: WorkerKind::Rank,
        isolated: Cluster::ISOLATED,
        start_method: None,
        executor: None,
    };
    let run = contract::DemoRun::new(
        contract::DemoId::Crash,
        (Cluster::NAME, &kind),
        &cli.settings(),
        contract::trace::Echo::JsonLines,
    );
    match demos::crash::run(&run) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cluster: crash round: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The one line of a `cluster` built without MPI.
#[cfg(not(feature = "mpi"))]
fn main() -> ExitCode {
    eprintln!(
        "cluster: error: built without MPI: install the Debian packages openmpi-bin \
         libopenmpi-dev libclang-dev, then build with `cargo build --release -p cluster \
         --features mpi`"
    );
    ExitCode::from(contract::settings::EXIT_BAD_INPUT)
}

/// The cluster backend: its demos are in `demos/<id>.rs`, run by rank 0.
#[cfg(feature = "mpi")]
struct Cluster;

#[cfg(feature = "mpi")]
impl runner::Backend for Cluster {
    const WORKER: contract::domain::WorkerKind = contract::domain::WorkerKind::Rank;
    // By MPI's default fault model a rank that aborts or is killed ends the whole job.
    const ISOLATED: bool = false;
    const NAME: &'static str = "cluster";
    const DEMOS: &'static [contract::DemoId] = demos::DEMOS;

    // Ctrl-C and SIGTERM: the launcher catches them and stops `mpirun`, which kills every
    // rank; rank 0's runner also catches them, and its waits end within a turn.

    fn run_demo(
        demo: contract::DemoId,
        run: &contract::DemoRun,
    ) -> Result<runner::Checked, contract::DemoError> {
        demos::run(demo, run)
    }
}
