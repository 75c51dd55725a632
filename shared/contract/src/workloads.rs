//! The work the workers do, written once and called from both backends.

use crate::job::Job;
use crate::trace::{EventSink, format_seconds};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The notebook's `sleeper`: announce, sleep, announce. Emits `sleeping` then `finished`.
pub fn sleeper(out: &dyn EventSink, seconds: f64) {
    out.emit(
        "sleeping",
        Some(format!("for {} s", format_seconds(seconds))),
    );
    std::thread::sleep(Duration::from_secs_f64(seconds));
    out.emit("finished", None);
}

/// The notebook's `sleeper` as a job (`start`'s and `join`'s workers).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Sleeper {
    pub seconds: f64,
}

impl Job for Sleeper {
    type Output = ();

    fn run(self, out: &dyn EventSink) {
        sleeper(out, self.seconds)
    }
}

/// An event sink that keeps what was emitted, for tests of worker bodies.
#[cfg(test)]
pub mod testing {
    use crate::trace::EventSink;
    use std::cell::RefCell;

    #[derive(Default)]
    pub struct Recorder(pub RefCell<Vec<String>>);

    impl EventSink for Recorder {
        fn worker(&self) -> &str {
            "t1"
        }
        fn emit(&self, what: &str, _detail: Option<String>) {
            self.0.borrow_mut().push(what.to_string());
        }
    }
}
