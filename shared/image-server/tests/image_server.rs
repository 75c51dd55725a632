//! The `image-server` binary on its own, with a real HTTP client: it serves the 14 images
//! and their manifest, and injects the faults it is asked for, deterministically.

use contract::images;
use contract::local_server::ServedManifest;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The server as a child process, killed and reaped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_image-server"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start image-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {line:?}"))
            .to_string();
        Server { child, base }
    }

    fn get(
        &self,
        client: &reqwest::blocking::Client,
        path: &str,
    ) -> reqwest::Result<(u16, Vec<u8>)> {
        let response = client.get(format!("{}/{path}", self.base)).send()?;
        let status = response.status().as_u16();
        Ok((status, response.bytes()?.to_vec()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

#[test]
fn serves_the_fourteen_images_and_their_manifest() {
    let server = Server::start(&["--latency", "0", "--image-kib", "12"]);
    let client = client();
    let (status, body) = server.get(&client, "manifest.json").unwrap();
    assert_eq!(status, 200);
    let manifest: ServedManifest = serde_json::from_slice(&body).unwrap();
    let expected = images::generate(12);
    assert_eq!(manifest.images, images::manifest(&expected));
    assert!(manifest.faults.is_empty());
    for image in &expected {
        let (status, body) = server.get(&client, &image.file_name).unwrap();
        assert_eq!(status, 200, "{}", image.file_name);
        assert!(body == image.png, "{}: other bytes", image.file_name);
    }
    let (status, _) = server.get(&client, "lena.png").unwrap();
    assert_eq!(status, 404);
}

#[test]
fn a_larger_set_goes_on_with_numbered_rounds_of_the_names_and_is_bounded() {
    let server = Server::start(&["--latency", "0", "--image-kib", "4", "--images", "30"]);
    let client = client();
    let (_, body) = server.get(&client, "manifest.json").unwrap();
    let manifest: ServedManifest = serde_json::from_slice(&body).unwrap();
    let expected = images::generate_set(30, 4);
    assert_eq!(manifest.images, images::manifest(&expected));
    assert_eq!(manifest.images[29].name, "arctichare-2.png");
    for image in [&expected[0], &expected[14], &expected[29]] {
        let (status, body) = server.get(&client, &image.file_name).unwrap();
        assert_eq!(status, 200, "{}", image.file_name);
        assert!(body == image.png, "{}: other bytes", image.file_name);
    }
    assert_eq!(server.get(&client, "baboon-2.png").unwrap().0, 404);

    let too_many = Command::new(env!("CARGO_BIN_EXE_image-server"))
        .args(["--images", "10001"])
        .output()
        .unwrap();
    assert_eq!(too_many.status.code(), Some(2));
    let too_large = Command::new(env!("CARGO_BIN_EXE_image-server"))
        .args(["--images", "15", "--image-kib", "32768"])
        .output()
        .unwrap();
    assert_eq!(too_large.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&too_large.stderr).trim(),
        "image-server: error: 15 images of a mean 32768 KiB make 480 MiB, more than the local \
         image server holds (448 MiB): lower --images or --image-kib"
    );
    assert!(too_large.stdout.is_empty(), "it never said it listens");
}

#[test]
fn faults_hit_every_other_request_of_the_chosen_images() {
    // 1/14 of the images each: airplane answers 500, arctichare is cut, baboon stalls.
    let server = Server::start(&[
        "--latency=0",
        "--image-kib=12",
        "--fault=500:0.0714",
        "--fault=cut:0.0714",
        "--fault=stall:0.0714",
        "--stall-ms=5000",
    ]);
    let client = client();
    let (_, body) = server.get(&client, "manifest.json").unwrap();
    let manifest: ServedManifest = serde_json::from_slice(&body).unwrap();
    assert_eq!(manifest.faults.len(), 3, "{:?}", manifest.faults);
    let whole = |name: &str| {
        images::generate(12)
            .into_iter()
            .find(|i| i.file_name == name)
            .unwrap()
            .png
    };

    assert_eq!(server.get(&client, "airplane.png").unwrap().0, 500);
    assert_eq!(
        server.get(&client, "airplane.png").unwrap(),
        (200, whole("airplane.png"))
    );
    assert_eq!(server.get(&client, "airplane.png").unwrap().0, 500);

    let cut = server.get(&client, "arctichare.png");
    assert!(
        cut.is_err(),
        "a cut body must fail to read: {:?}",
        cut.map(|(s, b)| (s, b.len()))
    );
    assert_eq!(
        server.get(&client, "arctichare.png").unwrap(),
        (200, whole("arctichare.png"))
    );

    let stalled = server.get(&client, "baboon.png").unwrap_err();
    assert!(stalled.is_timeout(), "{stalled}");
    assert_eq!(
        server.get(&client, "baboon.png").unwrap(),
        (200, whole("baboon.png"))
    );

    assert_eq!(
        server.get(&client, "boat.png").unwrap(),
        (200, whole("boat.png"))
    );
}

#[test]
fn bad_options_are_refused() {
    for args in [
        &["--fault", "teapot:0.1"][..],
        &["--latency", "x"],
        &["--image-kib", "0"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_image-server"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}
