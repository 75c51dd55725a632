//! The local image server of `download`: a real HTTP server (axum on tokio) that serves the
//! tutorial's 14 images as PNG files, with a per-request latency and injectable faults.
//!
//! It always runs as its own process, so that a backend that forks stays single-threaded:
//! a demo re-executes its own binary with [`INTERNAL_FLAG`] ([`LocalImageServer::start`]),
//! and the `image-server` binary runs the same code for any client to point at.
//!
//! Routes: `GET /<name>.png` (after `--latency` ms), `GET /manifest.json` (at once: every
//! image's name, length and sha256, plus the fault plan).
//!
//! Faults, for tests: `--fault KIND:SHARE` gives that share of the 14 images (taken in
//! catalogue order: first the 500s, then the cuts, then the stalls) a fault that hits the
//! 1st, (1+N)th, (1+2N)th… request for that image, N being `--fault-every` (default 2, so
//! every other request: a retry gets through). Deterministic, so tests can count on it.

use crate::images::{self, DEFAULT_MEAN_KIB, Image, MAX_MEAN_KIB, ManifestEntry};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The hidden first argument with which a backend binary runs as the image server.
pub const INTERNAL_FLAG: &str = "--internal-image-server";

/// How long a cut response waits, after its first half, before it breaks the connection.
const CUT_AFTER: Duration = Duration::from_millis(20);

/// What the server prints as its first line on stdout, followed by its base URL.
const LISTENING: &str = "listening on ";

/// Serve the tutorial's 14 images over HTTP on 127.0.0.1, as PNG files, with a latency.
#[derive(Parser, Debug, Clone, PartialEq)]
#[command(name = "image-server", version, about, long_about = None)]
pub struct ServerArgs {
    /// Port on 127.0.0.1 (0: a free port, printed on the first line)
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Milliseconds to wait before answering each image request
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency: u64,

    /// Mean image size in KiB (the 14 sizes range from 2/15 to 28/15 of it)
    #[arg(long, value_name = "KIB", default_value_t = DEFAULT_MEAN_KIB, value_parser = clap::value_parser!(u32).range(1..=MAX_MEAN_KIB as i64))]
    pub image_kib: u32,

    /// Give a share of the images a fault: 500:0.2, cut:0.1 (body cut mid-way), stall:0.1
    #[arg(long = "fault", value_name = "KIND:SHARE")]
    pub faults: Vec<FaultShare>,

    /// A faulty image fails its 1st, (1+N)th, (1+2N)th… request
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub fault_every: u64,

    /// How long a stalled request waits before it answers, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub stall_ms: u64,

    /// Die with this process (set by a demo that starts the server for its run)
    #[arg(long, value_name = "PID", hide = true)]
    pub parent: Option<i32>,
}

impl Default for ServerArgs {
    fn default() -> Self {
        ServerArgs {
            port: 0,
            latency: 100,
            image_kib: DEFAULT_MEAN_KIB,
            faults: Vec::new(),
            fault_every: 2,
            stall_ms: 60_000,
            parent: None,
        }
    }
}

impl ServerArgs {
    /// The command line that gives back these arguments (after [`INTERNAL_FLAG`]).
    fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            format!("--port={}", self.port),
            format!("--latency={}", self.latency),
            format!("--image-kib={}", self.image_kib),
            format!("--fault-every={}", self.fault_every),
            format!("--stall-ms={}", self.stall_ms),
        ];
        args.extend(self.faults.iter().map(|f| format!("--fault={f}")));
        if let Some(pid) = self.parent {
            args.push(format!("--parent={pid}"));
        }
        args
    }

    /// Which image gets which fault: shares taken in catalogue order, 500s first.
    pub fn fault_plan(&self) -> BTreeMap<String, FaultKind> {
        let mut plan = BTreeMap::new();
        let mut names = images::NAMES.iter();
        for share in &self.faults {
            let count = (share.share * images::NAMES.len() as f64).round() as usize;
            for name in names.by_ref().take(count) {
                plan.insert(format!("{name}.png"), share.kind);
            }
        }
        plan
    }
}

/// The kinds of fault the server can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `500 Internal Server Error`.
    Status500,
    /// Announce the whole length, send half the body, then close the connection.
    Cut,
    /// Wait `--stall-ms` before answering (past any sensible client timeout).
    Stall,
}

/// `KIND:SHARE` of `--fault`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultShare {
    pub kind: FaultKind,
    /// Between 0 and 1: the share of the 14 images that get this fault.
    pub share: f64,
}

impl FromStr for FaultShare {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, share) = text
            .split_once(':')
            .ok_or_else(|| format!("'{text}' is not KIND:SHARE, e.g. 500:0.2"))?;
        let kind = match kind {
            "500" => FaultKind::Status500,
            "cut" => FaultKind::Cut,
            "stall" => FaultKind::Stall,
            other => return Err(format!("unknown fault '{other}' (500, cut or stall)")),
        };
        let share: f64 = share
            .parse()
            .ok()
            .filter(|s: &f64| (0.0..=1.0).contains(s))
            .ok_or_else(|| format!("the share in '{text}' must be a number from 0 to 1"))?;
        Ok(FaultShare { kind, share })
    }
}

impl fmt::Display for FaultShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            FaultKind::Status500 => "500",
            FaultKind::Cut => "cut",
            FaultKind::Stall => "stall",
        };
        write!(f, "{kind}:{}", self.share)
    }
}

/// What `GET /manifest.json` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServedManifest {
    pub images: Vec<ManifestEntry>,
    /// Image file name → the fault it gets.
    pub faults: BTreeMap<String, FaultKind>,
    pub fault_every: u64,
}

/// The server's state, shared by its request handlers.
struct Served {
    images: Vec<(Image, Bytes)>,
    requests: Vec<AtomicU64>,
    manifest: String,
    faults: BTreeMap<String, FaultKind>,
    fault_every: u64,
    latency: Duration,
    stall: Duration,
}

impl Served {
    /// The fault for this request of image `index`, if it is one that fails.
    fn fault_for(&self, index: usize) -> Option<FaultKind> {
        let ordinal = self.requests[index].fetch_add(1, Ordering::SeqCst);
        let kind = self.faults.get(&self.images[index].0.file_name)?;
        ordinal.is_multiple_of(self.fault_every).then_some(*kind)
    }
}

/// Runs the server until the process is killed. Prints `listening on http://127.0.0.1:PORT`
/// as its first line on stdout once it accepts connections.
pub fn serve(args: &ServerArgs) -> Result<(), String> {
    if let Some(parent) = args.parent {
        // Die with the demo that started us, even if it is killed outright.
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
            .map_err(|e| format!("cannot tie the server to its parent: {e}"))?;
        if nix::unistd::getppid().as_raw() != parent {
            return Err("the process that started the server is gone".to_string());
        }
    }
    let images = images::generate(args.image_kib);
    let served = Served {
        manifest: serde_json::to_string_pretty(&ServedManifest {
            images: images::manifest(&images),
            faults: args.fault_plan(),
            fault_every: args.fault_every,
        })
        .expect("the manifest is plain data"),
        requests: images.iter().map(|_| AtomicU64::new(0)).collect(),
        images: images
            .into_iter()
            .map(|image| {
                let bytes = Bytes::from(image.png.clone());
                (image, bytes)
            })
            .collect(),
        faults: args.fault_plan(),
        fault_every: args.fault_every,
        latency: Duration::from_millis(args.latency),
        stall: Duration::from_millis(args.stall_ms),
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;

    // One thread serves everything: requests mostly wait (the latency), and the other
    // core is left to the clients.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot hand the listener to tokio: {e}"))?;
        let app = Router::new()
            .route("/manifest.json", get(manifest))
            .route("/{file}", get(image))
            .with_state(Arc::new(served));
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{LISTENING}http://{address}")
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot print the address: {e}"))?;
        drop(stdout);
        axum::serve(listener, app)
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    })
}

async fn manifest(State(served): State<Arc<Served>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        served.manifest.clone(),
    )
        .into_response()
}

async fn image(State(served): State<Arc<Served>>, Path(file): Path<String>) -> Response {
    let Some(index) = served.images.iter().position(|(i, _)| i.file_name == file) else {
        return (StatusCode::NOT_FOUND, format!("no image named {file}\n")).into_response();
    };
    let fault = served.fault_for(index);
    tokio::time::sleep(served.latency).await;
    let bytes = served.images[index].1.clone();
    let whole_length = bytes.len();
    match fault {
        Some(FaultKind::Status500) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "injected fault\n").into_response()
        }
        Some(FaultKind::Cut) => {
            // The header promises every byte; the stream sends half, lets it reach the
            // client, then fails, and hyper closes the connection: a body cut short.
            let half = bytes.slice(..whole_length / 2);
            let first = futures_util::stream::once(async move { Ok(half) });
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(CUT_AFTER).await;
                Err(std::io::Error::other("injected cut"))
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "image/png")
                .header(header::CONTENT_LENGTH, whole_length)
                .body(Body::from_stream(first.chain(cut)))
                .expect("a valid response")
        }
        Some(FaultKind::Stall) => {
            tokio::time::sleep(served.stall).await;
            png_response(bytes)
        }
        None => png_response(bytes),
    }
}

fn png_response(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}

/// The `image-server` binary's whole program.
pub fn standalone_main() -> ExitCode {
    let args = ServerArgs::parse();
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("image-server: error: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// When a backend binary was started as the image server ([`INTERNAL_FLAG`] first),
/// runs the server and returns its exit code; otherwise `None`.
pub fn run_if_asked() -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let program = args.next()?;
    if args.next()? != INTERNAL_FLAG {
        return None;
    }
    let args = ServerArgs::parse_from(std::iter::once(program).chain(args));
    Some(match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("image server: error: {problem}");
            ExitCode::FAILURE
        }
    })
}

/// The image server of one demo run: a child process of this binary, killed and reaped
/// when dropped (on success, on error, and on Ctrl-C, which ends the demo with an error).
pub struct LocalImageServer {
    child: Child,
    base_url: String,
    /// Kept open: the server's stdout stays a pipe nobody closed.
    _stdout: BufReader<ChildStdout>,
}

impl LocalImageServer {
    /// Starts this binary as the image server with `args` (its port is chosen by the
    /// kernel) and returns once it listens.
    pub fn start(args: &ServerArgs) -> Result<Self, String> {
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find this program to start the image server: {e}"))?;
        let args = ServerArgs {
            port: 0,
            parent: Some(std::process::id() as i32),
            ..args.clone()
        };
        // std starts it with fork+exec (or posix_spawn) and no helper thread, so a backend
        // that forks its workers stays single-threaded.
        let mut child = Command::new(exe)
            .arg(INTERNAL_FLAG)
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the image server: {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let base_url = match read {
            Ok(_) => line.trim().strip_prefix(LISTENING).map(str::to_string),
            Err(_) => None,
        };
        let mut server = LocalImageServer {
            child,
            base_url: String::new(),
            _stdout: stdout,
        };
        match base_url {
            Some(url) => {
                server.base_url = url;
                Ok(server)
            }
            // Dropping `server` kills and reaps the child.
            None => Err(format!(
                "the image server did not start (it said {:?})",
                line.trim()
            )),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

impl Drop for LocalImageServer {
    fn drop(&mut self) {
        // It may have died already (Ctrl-C reaches the whole process group): then kill
        // fails harmlessly and wait reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_shares_parse_and_are_checked() {
        assert_eq!(
            "500:0.25".parse::<FaultShare>(),
            Ok(FaultShare {
                kind: FaultKind::Status500,
                share: 0.25
            })
        );
        for bad in ["500", "teapot:0.1", "cut:2", "stall:x", ""] {
            assert!(bad.parse::<FaultShare>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_fault_plan_takes_images_in_catalogue_order() {
        let args = ServerArgs {
            faults: vec!["500:0.15".parse().unwrap(), "cut:0.1".parse().unwrap()],
            ..ServerArgs::default()
        };
        let plan = args.fault_plan();
        assert_eq!(plan.len(), 2 + 1);
        assert_eq!(plan["airplane.png"], FaultKind::Status500);
        assert_eq!(plan["arctichare.png"], FaultKind::Status500);
        assert_eq!(plan["baboon.png"], FaultKind::Cut);
    }

    #[test]
    fn arguments_survive_the_round_trip_to_the_child() {
        let args = ServerArgs {
            port: 0,
            latency: 7,
            image_kib: 20,
            faults: vec!["stall:0.5".parse().unwrap()],
            fault_every: 3,
            stall_ms: 900,
            parent: Some(42),
        };
        let parsed = ServerArgs::parse_from(std::iter::once("x".to_string()).chain(args.to_args()));
        assert_eq!(parsed, args);
    }
}
