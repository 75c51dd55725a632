//! A worker process holds only its own channel ends, under every start method: not its
//! siblings', not its parent's, not the forkserver's. Looked at in `download --workers 64`'s
//! concurrent pass, once its fourteenth worker is ready: the first fourteen workers each wait
//! on an image (the queue has fourteen URLs, each served after 0.4 s), and each holds its own
//! three ends (its events to the parent, its result's, the parent's replies), however many
//! siblings were started before it.

use cross_backend::interrupt_after_looking;
use std::collections::HashSet;
use std::time::Duration;

/// What one worker process holds.
#[derive(Debug)]
struct Held {
    pid: String,
    descriptors: usize,
    /// Unix-domain sockets: channel ends (its HTTP connection is a TCP socket).
    unix_sockets: usize,
}

/// The descriptors of `pid`, and how many are Unix-domain sockets; `None` once it is gone.
fn held(pid: &str) -> Option<Held> {
    let unix_inodes: HashSet<String> = std::fs::read_to_string(format!("/proc/{pid}/net/unix"))
        .ok()?
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(6).map(str::to_string))
        .collect();
    let mut descriptors = 0;
    let mut unix_sockets = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        descriptors += 1;
        let target = target.to_string_lossy();
        let inode = target
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'));
        if inode.is_some_and(|inode| unix_inodes.contains(inode)) {
            unix_sockets += 1;
        }
    }
    Some(Held {
        pid: pid.to_string(),
        descriptors,
        unix_sockets,
    })
}

/// Runs `download --workers 64` with `method` and returns what each worker held when the
/// fourteenth said it was ready.
fn workers_at_64(method: &str) -> Vec<Held> {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().to_str().unwrap();
    let args = [
        "--start",
        method,
        "--latency",
        "400",
        "--image-kib",
        "12",
        "--workers",
        "64",
        "--out-dir",
        out,
        "download",
    ];
    let mut workers = Vec::new();
    let interrupted = interrupt_after_looking(
        "processes",
        &args,
        "t13 ready",
        true,
        Duration::from_secs(2),
        |pid| {
            let children = |pid: &str| {
                std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                    .expect("the children of a running process")
            };
            let binary = pid.to_string();
            for child in children(&binary).split_whitespace() {
                // The image server is a program of its own, not a worker.
                let program = std::fs::read_link(format!("/proc/{child}/exe"));
                let is_server = program.is_ok_and(|p| p.ends_with("image-server"));
                if is_server {
                    continue;
                }
                // The forkserver's workers are its children.
                if method == "forkserver" {
                    let grandchildren = children(child);
                    workers.extend(grandchildren.split_whitespace().filter_map(held));
                } else if let Some(held) = held(child) {
                    workers.push(held);
                }
            }
        },
    );
    assert_eq!(interrupted.code(), 130, "{method}: {interrupted:?}");
    workers
}

#[test]
fn a_worker_holds_only_its_own_channel_ends_at_64_workers() {
    // One after another: started together on two cores, the slowest to start (spawn) may
    // not have fourteen workers waiting at once before the first images come.
    let methods = ["fork", "spawn", "forkserver"];
    let held_by_method = methods.map(workers_at_64);
    for (method, workers) in methods.into_iter().zip(held_by_method) {
        let each: Vec<String> = workers
            .iter()
            .map(|w| format!("{}: {} ({} unix)", w.pid, w.descriptors, w.unix_sockets))
            .collect();
        assert!(workers.len() >= 14, "{method}: {each:?}");
        let most = workers.iter().map(|w| w.unix_sockets).max();
        assert_eq!(
            most,
            Some(3),
            "{method}: a worker holds more channel ends than its own three: {each:?}"
        );
        eprintln!(
            "{method}: {} workers; descriptors each, at most {:?}; unix sockets, at most {most:?}",
            workers.len(),
            workers.iter().map(|w| w.descriptors).max()
        );
    }
}
