//! Ctrl-C in the parent: a flag set by SIGINT or SIGTERM, which the worker pump checks
//! every tick, so that the parent can kill and reap its children before it exits.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Registers the flag for SIGINT and SIGTERM. Registration only stores to an atomic in the
/// handler and starts no thread, so the parent stays single-threaded and safe to fork.
pub fn install() {
    let flag = REQUESTED.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(error) = signal_hook::flag::register(signal, Arc::clone(flag)) {
            // Without the handler, Ctrl-C still ends the parent and the children die
            // with it (each has PR_SET_PDEATHSIG), so the run goes on.
            eprintln!("processes: cannot catch signal {signal}: {error}");
        }
    }
}

/// True once SIGINT or SIGTERM has arrived.
pub fn requested() -> bool {
    REQUESTED
        .get()
        .is_some_and(|flag| flag.load(Ordering::Relaxed))
}
