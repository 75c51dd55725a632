//! The local image server of `download`: a real HTTP server (axum on tokio) that serves the
//! tutorial's 14 images (or `--images N`: `<name>-1`, `<name>-2`, … beyond them) as PNG
//! files, with a per-request latency and injectable faults.
//!
//! It always runs as its own process, the `image-server` program: a demo starts it for its
//! run (`contract::local_server::LocalImageServer`), and anyone can run it to point any HTTP
//! client at. Its command line and manifest are in `contract::local_server`, so that the
//! backends, which never link this crate, can start it and read it.
//!
//! With `--tls-dir DIR` it serves https instead of http, with a certificate made at its start
//! and written to `DIR/ca.pem` before it says it listens (`tls.rs`).
//!
//! Routes: `GET /<name>.png` (after `--latency` ms), `GET /manifest.json` (at once: every
//! image's name, length and sha256, plus the fault plan).
//!
//! Faults, for tests: `--fault KIND:SHARE` gives that share of the images (taken in
//! catalogue order: first the 500s, then the cuts, then the stalls) a fault that hits the
//! 1st, (1+N)th, (1+2N)th… request for that image, N being `--fault-every` (default 2, so
//! every other request: a retry gets through). Deterministic, so tests can count on it.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use contract::images::{self, Image};
use contract::local_server::{FaultKind, LISTENING, ServedManifest, ServerArgs};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod tls;

/// How long a cut response waits, after its first half, before it breaks the connection.
const CUT_AFTER: Duration = Duration::from_millis(20);

/// The server's state, shared by its request handlers.
struct Served {
    images: Vec<(Image, Bytes)>,
    /// File name → index in `images`.
    by_name: HashMap<String, usize>,
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
/// (`https://` with `--tls-dir`) as its first line on stdout once it accepts connections.
pub fn serve(args: &ServerArgs) -> Result<(), String> {
    if let Some(parent) = args.parent {
        // Die with the demo that started us, even if it is killed outright.
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
            .map_err(|e| format!("cannot tie the server to its parent: {e}"))?;
        if nix::unistd::getppid().as_raw() != parent {
            return Err("the process that started the server is gone".to_string());
        }
    }
    images::check_set(args.images, args.image_kib)?;
    let images = images::generate_set(args.images, args.image_kib);
    let served = Served {
        manifest: serde_json::to_string_pretty(&ServedManifest {
            images: images::manifest(&images),
            faults: args.fault_plan(),
            fault_every: args.fault_every,
        })
        .expect("the manifest is plain data"),
        requests: images.iter().map(|_| AtomicU64::new(0)).collect(),
        by_name: (images.iter().enumerate())
            .map(|(index, image)| (image.file_name.clone(), index))
            .collect(),
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

    let tls = match &args.tls_dir {
        Some(folder) => Some(tls::certificate_in(folder)?),
        None => None,
    };

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
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{LISTENING}{scheme}://{address}")
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot print the address: {e}"))?;
        drop(stdout);
        let served = match tls {
            Some(config) => axum::serve(tls::TlsListener::new(listener, config), app).await,
            None => axum::serve(listener, app).await,
        };
        served.map_err(|e| format!("the server stopped: {e}"))
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
    let Some(&index) = served.by_name.get(&file) else {
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
