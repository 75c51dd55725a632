//! `image-server`: the local image server of `download` on its own, for any HTTP client.
//!
//! `image-server --port 8000 --latency 100` serves the tutorial's 14 images at
//! `http://127.0.0.1:8000/<name>.png` and their manifest at `/manifest.json`; point a
//! backend at it with `download --base-url http://127.0.0.1:8000`.

use std::process::ExitCode;

fn main() -> ExitCode {
    image_server::standalone_main()
}
