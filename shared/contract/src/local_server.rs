//! The local image server of `download`, as its clients see it: its command line, its
//! manifest, and [`LocalImageServer`], which starts the `image-server` program for one run
//! and stops it after. The server itself (axum on tokio) is the `image-server` crate: a
//! backend never links it, so the process that forks stays single-threaded and small.

use crate::images::{self, DEFAULT_MEAN_KIB, MAX_IMAGES, MAX_MEAN_KIB, ManifestEntry};
use crate::interrupt;
use crate::run::DemoError;
use clap::Parser;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::str::FromStr;

/// What the server prints as its first line on stdout, followed by its base URL.
pub const LISTENING: &str = "listening on ";

/// The file, in the folder of `--tls-dir`, where the server writes its certificate (PEM).
pub const CERTIFICATE_FILE: &str = "ca.pem";

/// The server's program, looked for beside the running one.
pub const PROGRAM: &str = "image-server";

/// Serve the tutorial's 14 images (or more) over HTTP (or https) on 127.0.0.1, as PNG files,
/// with a latency.
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

    /// Images served: the tutorial's 14 names, then `<name>-1`, `<name>-2`, … in rounds
    #[arg(long, value_name = "N", default_value_t = images::NAMES.len(), value_parser = parse_image_count)]
    pub images: usize,

    /// Give a share of the images a fault: 500:0.2, cut:0.1 (body cut mid-way), stall:0.1
    #[arg(long = "fault", value_name = "KIND:SHARE")]
    pub faults: Vec<FaultShare>,

    /// A faulty image fails its 1st, (1+N)th, (1+2N)th… request
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub fault_every: u64,

    /// How long a stalled request waits before it answers, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub stall_ms: u64,

    /// Serve https with a certificate made at the start, written to DIR/ca.pem for clients
    /// to trust (e.g. `curl --cacert DIR/ca.pem`)
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,

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
            images: images::NAMES.len(),
            faults: Vec::new(),
            fault_every: 2,
            stall_ms: 60_000,
            tls_dir: None,
            parent: None,
        }
    }
}

impl ServerArgs {
    /// The command line that gives back these arguments.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            format!("--port={}", self.port),
            format!("--latency={}", self.latency),
            format!("--image-kib={}", self.image_kib),
            format!("--images={}", self.images),
            format!("--fault-every={}", self.fault_every),
            format!("--stall-ms={}", self.stall_ms),
        ];
        args.extend(self.faults.iter().map(|f| format!("--fault={f}")));
        if let Some(folder) = &self.tls_dir {
            args.push(format!("--tls-dir={}", folder.display()));
        }
        if let Some(pid) = self.parent {
            args.push(format!("--parent={pid}"));
        }
        args
    }

    /// Which image gets which fault: shares of the images served, taken in catalogue order,
    /// 500s first.
    pub fn fault_plan(&self) -> BTreeMap<String, FaultKind> {
        let mut plan = BTreeMap::new();
        let mut names = (0..self.images).map(images::name_of);
        for share in &self.faults {
            let count = (share.share * self.images as f64).round() as usize;
            for name in names.by_ref().take(count) {
                plan.insert(format!("{name}.png"), share.kind);
            }
        }
        plan
    }
}

/// `--images`: from 1 to [`MAX_IMAGES`].
pub fn parse_image_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(count) if (1..=MAX_IMAGES).contains(&count) => Ok(count),
        _ => Err(format!(
            "--images takes a whole number from 1 to {MAX_IMAGES}"
        )),
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
    /// Between 0 and 1: the share of the images served that get this fault.
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

/// Where the `image-server` program is: `$IMAGE_SERVER`, or beside the running program (cargo
/// builds every binary of the workspace into one folder). Under `cargo run -p threads`, which
/// builds only that package, cargo is asked to build the server once, into the same folder.
fn server_program() -> Result<PathBuf, DemoError> {
    if let Some(path) = std::env::var_os("IMAGE_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()
        .map_err(|e| DemoError::system("finding this program to find the image server", e))?;
    let folder = exe.parent().ok_or_else(|| {
        DemoError::System("this program has no folder to find the image server in".into())
    })?;
    let beside = folder.join(PROGRAM);
    if beside.exists() {
        return Ok(beside);
    }
    if let Some(cargo) = std::env::var_os("CARGO") {
        let profile = folder
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("debug");
        eprintln!(
            "building the local image server once: cargo build --profile {profile} -p {PROGRAM}"
        );
        let profile = if profile == "debug" { "dev" } else { profile };
        let built = Command::new(cargo)
            .args(["build", "--quiet", "--profile", profile, "-p", PROGRAM])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
        if matches!(built, Ok(status) if status.success()) && beside.exists() {
            return Ok(beside);
        }
    }
    Err(DemoError::System(format!(
        "the local image server is not built: run `cargo build --release -p {PROGRAM}` \
         (scripts/compare does), or give --base-url"
    )))
}

/// The image server of one demo run: a child process, killed and reaped
/// when dropped (on success, on error, and on Ctrl-C, which ends the demo with an error).
pub struct LocalImageServer {
    child: Child,
    base_url: String,
    /// Kept open once its first line is read: the server's stdout stays a pipe nobody closed.
    stdout: BufReader<ChildStdout>,
    /// Served over https: the certificate the server made (PEM), and the folder it wrote it
    /// to, removed with the server.
    certificate: Option<(Vec<u8>, tempfile::TempDir)>,
}

impl LocalImageServer {
    /// Starts the `image-server` program with `args` (its port is chosen by the kernel) and
    /// returns once it listens. Its first line is awaited in turns: Ctrl-C or SIGTERM while it
    /// starts ends the wait, and the server is killed and reaped. With `https`, the server
    /// serves TLS with a certificate it makes at its start and writes whole into a temporary
    /// folder of this run, which [`LocalImageServer::certificate_pem`] then hands out.
    pub fn start(args: &ServerArgs, https: bool) -> Result<Self, DemoError> {
        let program = server_program()?;
        let tls_dir = match https {
            true => Some(
                tempfile::Builder::new()
                    .prefix("image-server-tls-")
                    .tempdir()
                    .map_err(|e| DemoError::system("creating the certificate's folder", e))?,
            ),
            false => None,
        };
        let args = ServerArgs {
            port: 0,
            parent: Some(std::process::id() as i32),
            tls_dir: tls_dir.as_ref().map(|dir| dir.path().to_path_buf()),
            ..args.clone()
        };
        // std starts it with fork+exec (or posix_spawn) and no helper thread, so a backend
        // that forks its workers stays single-threaded.
        let mut child = Command::new(&program)
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                DemoError::System(format!(
                    "cannot start the image server {}: {e}",
                    program.display()
                ))
            })?;
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        // From here on, dropping `server` kills and reaps the child.
        let mut server = LocalImageServer {
            child,
            base_url: String::new(),
            stdout,
            certificate: None,
        };
        let mut line = String::new();
        let read = interrupt::read_line(&mut server.stdout, &mut line)?;
        let Some(url) = read.ok().and(line.trim().strip_prefix(LISTENING)) else {
            return Err(DemoError::System(format!(
                "the image server did not start (it said {:?})",
                line.trim()
            )));
        };
        server.base_url = url.to_string();
        if let Some(folder) = tls_dir {
            // Written whole before the server said it listens.
            let path = folder.path().join(CERTIFICATE_FILE);
            let pem = std::fs::read(&path).map_err(|e| {
                DemoError::system(
                    &format!("reading the server's certificate {}", path.display()),
                    e,
                )
            })?;
            server.certificate = Some((pem, folder));
        }
        Ok(server)
    }

    /// The certificate of a server started with `https` (PEM), for its clients to trust.
    pub fn certificate_pem(&self) -> Option<&[u8]> {
        self.certificate.as_ref().map(|(pem, _)| pem.as_slice())
    }

    /// `http://127.0.0.1:PORT` (or `https://`)
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
        // A share of a larger set: of every image served, in the same order.
        let larger = ServerArgs {
            images: 30,
            faults: vec!["500:0.5".parse().unwrap()],
            ..ServerArgs::default()
        };
        let plan = larger.fault_plan();
        assert_eq!(plan.len(), 15);
        assert!(plan.contains_key("airplane-1.png") && !plan.contains_key("arctichare-1.png"));
    }

    #[test]
    fn arguments_survive_the_round_trip_to_the_child() {
        let args = ServerArgs {
            port: 0,
            latency: 7,
            image_kib: 20,
            images: 40,
            faults: vec!["stall:0.5".parse().unwrap()],
            fault_every: 3,
            stall_ms: 900,
            tls_dir: Some(PathBuf::from("/somewhere/certs")),
            parent: Some(42),
        };
        let parsed = ServerArgs::parse_from(std::iter::once("x".to_string()).chain(args.to_args()));
        assert_eq!(parsed, args);
    }
}
