//! `processes`: the tutorial's demos with worker processes. A worker is a child process,
//! forked (`--start fork`), forked and re-executed (`--start spawn`), or forked by a server
//! started with the program (`--start forkserver`): it shares nothing
//! with the parent, so its events and its result travel back over an ipc-channel, and the
//! parent reaps it when it ends.

mod demos;
mod forkserver;
mod shared_memory;
mod spawned;
mod sync;
mod workers;

use contract::DemoId;
use contract::domain::WorkerKind;
use contract::{DemoError, DemoRun};
use runner::{Backend, Checked};
use std::process::ExitCode;

/// The processes backend: its demos are in `demos/<id>.rs`. Ctrl-C and SIGTERM leave no child
/// behind: the runner catches them (`contract::interrupt`), every wait of the parent looks at
/// the flag, and `Workers`' `Drop` kills and reaps what is left.
struct Processes;

impl Backend for Processes {
    const WORKER: WorkerKind = WorkerKind::Process;
    const ISOLATED: bool = true;
    const NAME: &'static str = "processes";
    const HAS_START_METHODS: bool = true;
    const HAS_QUEUE_KINDS: bool = true;

    fn run_demo(demo: DemoId, run: &DemoRun) -> Result<Checked, DemoError> {
        demos::run(demo, run)
    }
}

/// ipc-channel allocates a receive buffer of about 208 KiB for every message it receives,
/// and frees it after. With glibc's defaults that is an `mmap` and a `munmap`, or a `brk` up
/// and down, for each message, and fresh pages to fault in: in every worker and in the parent,
/// for every worker started. Allocations up to 1 MiB come from the heap instead, and the heap
/// keeps up to 4 MiB free rather than giving it back each time; larger ones (the `spawn`
/// demo's touched memory) are still mapped and unmapped, so that a fork after they are freed
/// copies no page table of theirs.
fn keep_small_buffers() {
    // SAFETY: mallopt only sets one of glibc's allocator parameters; it is called before
    // this program runs another thread (it has none yet).
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
    // SAFETY: as above.
    unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20) };
}

fn main() -> ExitCode {
    // This program started again as a worker, by `--start spawn`.
    if let Some(code) = spawned::run_if_asked() {
        return code;
    }
    keep_small_buffers();
    // `--start forkserver`: the server is forked now, while this program runs one thread.
    let server = match forkserver::start_if_asked() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("processes: error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runner::main::<Processes>();
    // Stops the server, which kills and reaps any worker left, and reaps it.
    drop(server);
    code
}
