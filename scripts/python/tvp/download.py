"""`download`'s work that is not the mechanism, in Python (see the Rust contract's
`demos/download.rs`): the local image server, a fetch with retries through urllib, files
written whole or not at all, and the parent's reading back of every file."""

import errno
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from . import contract

LISTENING = "listening on "
SERVER_PROGRAM = "image-server"


class ImageServer:
    """The local image server (the workspace's `image-server` program), started for one run:
    it dies with this process and is killed and reaped when the demo ends."""

    def __init__(self, program, latency_ms, image_kib, images, faults, fault_every, stall_ms):
        args = [program, "--port=0", f"--latency={latency_ms}", f"--image-kib={image_kib}",
                f"--images={images}",
                f"--fault-every={fault_every}", f"--stall-ms={stall_ms}",
                f"--parent={os.getpid()}"] + [f"--fault={f}" for f in faults]
        try:
            self.child = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, text=True)
        except OSError as e:
            raise contract.DemoFailed(f"cannot start the image server {program}: {e.strerror}")
        try:
            line = self.child.stdout.readline().strip()
            if not line.startswith(LISTENING):
                raise contract.DemoFailed(f"the image server did not start (it said {line!r})")
            self.base_url = line[len(LISTENING):]
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait()
        self.child.stdout.close()


def server_program(args):
    program = args.image_server or os.environ.get("IMAGE_SERVER")
    if program:
        return program
    raise contract.DemoFailed(
        "the local image server is not found: give --image-server PATH or set IMAGE_SERVER "
        f"to the {SERVER_PROGRAM} program (`cargo build --release -p {SERVER_PROGRAM}`), "
        "or give --base-url")


class Settings:
    """How one request is made: a time limit, retries with doubling backoff, a size cap."""

    def __init__(self, timeout, retries, backoff, max_bytes, direct):
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.direct = direct

    def opener(self):
        """A client of this worker's own (no proxy for the local server)."""
        handlers = [urllib.request.ProxyHandler({})] if self.direct else []
        return urllib.request.build_opener(*handlers)

    def backoff_before(self, retry):
        return min(self.backoff * (1 << min(max(retry - 1, 0), 16)), 5.0)


class Retryable(Exception):
    pass


class Final(Exception):
    pass


def fetch_manifest(opener, base, settings):
    url = f"{base.rstrip('/')}/manifest.json"
    try:
        with opener.open(url, timeout=settings.timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise contract.DemoFailed(f"the manifest at {url}: HTTP {status_text(e.code)}")
    except (OSError, ValueError) as e:
        raise contract.DemoFailed(f"the manifest at {url}: {reason_of(e)}")
    return json.loads(body)["images"]


def status_text(code):
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def reason_of(error):
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason
    return getattr(error, "strerror", None) or str(error)


def fetch_one(out, opener, url, name, folder, settings):
    """Fetches one image into `folder/name` with retries; emits saved, retry or failed.
    Returns (the image's result, attempts)."""
    attempt = 1
    while True:
        try:
            length, sha256 = try_once(opener, url, name, folder, settings)
            out.emit("saved", f"{name} ({length} B)")
            return {"name": name, "fetched": {"saved": {"length": length, "sha256": sha256}}}, \
                attempt
        except Retryable as e:
            if attempt < settings.retries + 1:
                out.emit("retry", f"{name}: {e}")
                time.sleep(settings.backoff_before(attempt))
                attempt += 1
                continue
            reason = str(e)
        except Final as e:
            reason = str(e)
        if attempt > 1:
            reason = f"{reason} (after {attempt} attempts)"
        out.emit("failed", f"{name}: {reason}")
        return {"name": name, "fetched": {"failed": {"reason": reason}}}, attempt


def try_once(opener, url, name, folder, settings):
    deadline = time.monotonic() + settings.timeout
    timed_out = f"timed out after {contract.format_seconds(settings.timeout)} s"
    try:
        response = opener.open(url, timeout=settings.timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code >= 500:
            raise Retryable(f"HTTP {status_text(e.code)}")
        raise Final(f"HTTP {status_text(e.code)}")
    except (socket.timeout, TimeoutError):
        raise Retryable(timed_out)
    except urllib.error.URLError as e:
        cause = e.reason
        if isinstance(cause, (socket.timeout, TimeoutError)):
            raise Retryable(timed_out)
        if isinstance(cause, ConnectionRefusedError):
            raise Final(f"cannot connect: {reason_of(e)}")
        if isinstance(cause, OSError):
            raise Retryable(f"cannot connect: {reason_of(e)}")
        raise Final(f"cannot make the request: {reason_of(e)}")
    except (OSError, http.client.HTTPException) as e:
        raise Retryable(f"request failed: {reason_of(e)}")
    with response:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > settings.max_bytes:
            raise Final(f"larger than the cap of {settings.max_bytes} bytes")
        return save_whole(folder, name, response, settings, deadline, timed_out)


def save_whole(folder, name, body, settings, deadline, timed_out):
    """Writes the body into a file with no name (`O_TMPFILE`) and links it in once whole, so
    that a worker killed half-way leaves nothing; a hidden `.part` name where the file system
    has no `O_TMPFILE`."""
    target = os.path.join(folder, name)
    part = None
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise Final(f"cannot write {name}: {e.strerror}")
        part = os.path.join(folder, f".{name}.{os.getpid()}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    published = False
    try:
        digest = hashlib.sha256()
        length = 0
        while True:
            if time.monotonic() > deadline:
                raise Retryable(timed_out)
            try:
                chunk = body.read1(64 * 1024)
            except (socket.timeout, TimeoutError):
                raise Retryable(timed_out)
            except (OSError, http.client.HTTPException) as e:
                raise Retryable(f"body cut short: {reason_of(e)}")
            if not chunk:
                break
            length += len(chunk)
            if length > settings.max_bytes:
                raise Final(f"larger than the cap of {settings.max_bytes} bytes")
            digest.update(chunk)
            os.write(fd, chunk)
        try:
            if part is None:
                # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N: os.link calls linkat (not
                # link, which does not follow the name to the file) when given a folder fd.
                folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder_fd,
                            follow_symlinks=True)
                finally:
                    os.close(folder_fd)
            else:
                os.rename(part, target)
            published = True
        except OSError as e:
            raise Final(f"cannot write {name}: {e.strerror}")
        return length, digest.hexdigest()
    finally:
        os.close(fd)
        if part is not None and not published:
            try:
                os.unlink(part)
            except OSError:
                pass


def fetch_in_turn(out, urls, settings, manifest_base, folder):
    """The sequential pass's one worker: the manifest, then every image in turn."""
    opener = settings.opener()
    out.emit("ready")
    manifest = fetch_manifest(opener, manifest_base, settings) if manifest_base else None
    downloads = [fetch_one(out, opener, url, name, folder, settings) for url, name in urls]
    return manifest, downloads


def fetch_into_memory(out, urls, settings):
    """`--baseline`: one client fetching every URL into memory: bytes received."""
    opener = settings.opener()
    out.emit("ready")
    total = 0
    for url, _ in urls:
        try:
            with opener.open(url, timeout=settings.timeout) as response:
                total += len(response.read())
        except (OSError, http.client.HTTPException):
            pass
    return total


class Plan:
    """Where the images come from and go, the fetch settings and the workers of one run."""

    def __init__(self, run):
        args = run.args
        self.server = None
        self.latency_s = None
        images = args.images or len(contract.IMAGE_NAMES)
        if args.urls:
            path, self.urls = args.urls
            self.source, self.manifest_base = path, None
        elif args.base_url:
            self.source, self.manifest_base = args.base_url, args.base_url
            self.urls = urls_under(args.base_url, images)
        else:
            latency = run.seconds(args.latency / 1000.0)
            self.server = ImageServer(server_program(args), int(latency * 1000.0 + 0.5),
                                      args.image_kib, images, args.server_fault,
                                      args.server_fault_every, int(args.timeout * 3000.0))
            base = self.server.base_url
            self.latency_s = latency
            self.source, self.manifest_base = f"local image server {base}", base
            self.urls = urls_under(base, images)
        self.workers = args.workers or contract.DOWNLOAD_WORKERS
        if self.latency_s is not None:
            images = len(self.urls)
            run.ideal_wall_s = contract.ideal_sequential_s(images, self.latency_s) \
                + contract.ideal_concurrent_s(images, self.workers, self.latency_s)
        self.settings = Settings(args.timeout, args.retries, run.seconds(contract.BACKOFF_S),
                                 args.max_bytes, self.latency_s is not None)
        # Made last, once nothing else can fail here: a temporary folder is removed by
        # stop() (on failure too), unless --keep.
        self.temporary, self.keep = not args.out_dir, args.keep
        if args.out_dir:
            os.makedirs(args.out_dir, exist_ok=True)
            self.folder = args.out_dir
        else:
            self.folder = tempfile.mkdtemp(prefix="download-")

    def pass_folder(self, name):
        folder = os.path.join(self.folder, name)
        os.makedirs(folder, exist_ok=True)
        for _, file_name in self.urls:
            try:
                os.unlink(os.path.join(folder, file_name))
            except FileNotFoundError:
                pass
        return folder

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.temporary and not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.temporary = False

    def finish(self, run, manifest, sequential, concurrent, baseline):
        """The outcome, read back from the disk by this (the parent) process, and the figures."""
        outcomes = {}
        for name, (downloads, wall_s) in (("sequential", sequential),
                                          ("concurrent", concurrent)):
            outcome = inspect_pass(os.path.join(self.folder, name), self.urls, downloads)
            outcomes[name] = outcome
            saved = sum(i["fetched"]["saved"]["length"] for i in outcome["images"]
                        if "saved" in i["fetched"])
            run.measured(f"{name}_wall_s", wall_s)
            run.measured(f"{name}_mb_per_s", saved / 1e6 / wall_s)
            run.measured(f"retries_{name}", sum(attempts - 1 for _, attempts in downloads))
        run.measured("speedup", sequential[1] / concurrent[1])
        if self.latency_s is not None:
            images = len(self.urls)
            run.measured("latency_ms", self.latency_s * 1000.0)
            run.measured("ideal_sequential_s", contract.ideal_sequential_s(images, self.latency_s))
            run.measured("ideal_concurrent_s",
                         contract.ideal_concurrent_s(images, self.workers, self.latency_s))
        if baseline is not None:
            total, wall_s = baseline
            run.measured("baseline_wall_s", wall_s)
            run.measured("baseline_mb_per_s", total / 1e6 / wall_s)
        run.note("source", self.source)
        removed = self.temporary and not self.keep
        self.stop()
        if removed:
            run.main_says(contract.DOWNLOAD_REMOVED, "--keep keeps it")
        else:
            run.note("output_dir", self.folder)
            run.main_says(contract.DOWNLOAD_KEPT, self.folder)
        return {"expected": manifest, "sequential": outcomes["sequential"],
                "concurrent": outcomes["concurrent"]}


def urls_under(base, count):
    """The first `count` images under `base`, the tutorial's 14 names first."""
    base = base.rstrip("/")
    names = (contract.image_name(index) for index in range(count))
    return [(f"{base}/{name}.png", f"{name}.png") for name in names]


def inspect_pass(folder, urls, downloads):
    """Every URL of a pass as saved (the file read back and hashed here) or failed."""
    reported = {image["name"]: image["fetched"] for image, _ in downloads}
    images = []
    for _, name in urls:
        fetched = reported.get(name, {"failed": {"reason": "no worker reported it"}})
        if "saved" in fetched:
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    data = f.read()
                said = fetched["saved"]
                if len(data) != said["length"] or hashlib.sha256(data).hexdigest() != said["sha256"]:
                    fetched = {"failed": {"reason": "the file on disk is not what was received"}}
            except OSError as e:
                fetched = {"failed": {"reason": f"the saved file cannot be read back: {e.strerror}"}}
        images.append({"name": name, "fetched": fetched})
    saved = {i["name"] for i in images if "saved" in i["fetched"]}
    try:
        stray = sorted(entry for entry in os.listdir(folder) if entry not in saved)
    except OSError:
        stray = []
    return {"images": images, "stray_files": stray}
