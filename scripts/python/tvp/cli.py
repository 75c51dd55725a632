"""The command line of the Python backends: the flags, bounds and one-line errors of the Rust
backends (`shared/runner/src/cli.rs`, `shared/contract/src/settings.rs`), with exit code 2."""

import argparse
import math
import re
import sys
import urllib.parse

from . import contract

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
MAX_SCALE = 100.0
MAX_COUNT = 100_000_000
MAX_TRIALS = 1_000_000
MAX_MEAN_KIB = 32 * 1024


class BadInput(Exception):
    """One line naming what is wrong with the command line."""


class Parser(argparse.ArgumentParser):
    """argparse, with every error reduced to one line and exit code 2."""

    def error(self, message):
        raise BadInput(f"error: {message}")


def whole(text, low, high, flag, underscores=False):
    cleaned = text.strip().replace("_", "") if underscores else text.strip()
    if cleaned.isascii() and cleaned.isdigit() and low <= int(cleaned) <= high:
        return int(cleaned)
    raise argparse.ArgumentTypeError(f"{flag} takes a whole number from {low} to {high}")


def parse_scale(text):
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("--scale takes a number, e.g. 0.01")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("--scale must be a finite number greater than 0")
    if value > MAX_SCALE:
        raise argparse.ArgumentTypeError(f"--scale must be at most {MAX_SCALE:g}")
    return value


def parse_demo(name):
    if not name.strip():
        raise argparse.ArgumentTypeError("empty demo name")
    if name not in contract.BY_ID:
        raise argparse.ArgumentTypeError(f"unknown demo '{name}' (see --list)")
    return name


def parse_timeout(text):
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("--timeout takes seconds, e.g. 2.5")
    if not math.isfinite(value) or value <= 0 or value > 3600:
        raise argparse.ArgumentTypeError("--timeout must be more than 0 and at most 3600 seconds")
    return value


def parse_http_url(text):
    """An http or https URL with a host, or a one-line reason (as the Rust contract says it)."""
    try:
        url = urllib.parse.urlsplit(text.strip())
        url.port  # a bad port raises here
    except ValueError as e:
        raise ValueError(f"'{text}' is not a URL ({e})")
    if not url.scheme:
        raise ValueError(f"'{text}' is not a URL (relative URL without a base)")
    if url.scheme not in ("http", "https"):
        raise ValueError(f"'{text}' has scheme '{url.scheme}': only http and https are fetched")
    if not url.hostname:
        raise ValueError(f"'{text}' names no host")
    return text.strip()


def file_name_of(url):
    segment = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    decoded = urllib.parse.unquote(segment, errors="replace")
    stem = decoded[:-4] if decoded.endswith(".png") else decoded

    def refuse(why):
        raise ValueError(f"'{url}': refused file name '{decoded}' ({why})")

    if not stem:
        refuse("nothing left")
    if ".." in decoded:
        refuse("it contains '..'")
    if "/" in decoded or "\\" in decoded:
        refuse("it contains a slash")
    if decoded.startswith(".") or any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        refuse("a leading dot or a control character")
    return f"{stem}.png"


def parse_base_url(text):
    try:
        return parse_http_url(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def read_url_list(path):
    """`--urls FILE`: one URL a line, `#` starts a comment; file names must differ."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {e.strerror or e}")
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        at = f"{path} line {number}"
        try:
            url = parse_http_url(line)
            name = file_name_of(url)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"{at}: {e}")
        if any(existing[1] == name for existing in urls):
            raise argparse.ArgumentTypeError(
                f"{at}: a second URL saved as {name}: file names must differ")
        urls.append((url, name))
    if not urls:
        raise argparse.ArgumentTypeError(f"{path} holds no URL")
    return (path, urls)


def parse_fault_share(text):
    kind, sep, share = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"'{text}' is not KIND:SHARE, e.g. 500:0.2")
    if kind not in ("500", "cut", "stall"):
        raise argparse.ArgumentTypeError(f"unknown fault '{kind}' (500, cut or stall)")
    try:
        value = float(share)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"the share in '{text}' must be a number from 0 to 1")
    return text


def parse_message_size(text):
    """Bytes, plain or with a KiB/MiB (K/M) suffix, as the Rust backends take them."""
    match = re.fullmatch(r"(\d+)\s*(b|k|kib|m|mib)?", text.strip().lower())
    units = {None: 1, "b": 1, "k": 1024, "kib": 1024, "m": 1 << 20, "mib": 1 << 20}
    size = int(match[1]) * units[match[2]] if match else 0
    if not 1 <= size <= contract.MAX_MESSAGE_BYTES:
        raise argparse.ArgumentTypeError(
            f"--message-size takes bytes from 1 to {contract.MAX_MESSAGE_BYTES} "
            "(`64KiB` and `1MiB` too)")
    return size


def build_parser(name, start_methods):
    parser = Parser(prog=name, allow_abbrev=False,
                    description="Run the tutorial's demos on this backend, narrate them and "
                                "check each outcome.")
    number = lambda low, high, flag, underscores=False: (  # noqa: E731
        lambda text: whole(text, low, high, flag, underscores))
    parser.add_argument("demos", nargs="*", metavar="DEMO", type=parse_demo)
    parser.add_argument("--version", action="version", version=f"{name} 0.1.0")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--scale", type=parse_scale, default=1.0, metavar="F")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--inject", choices=("kill-worker", "panic-worker"), metavar="FAULT")
    parser.add_argument("--start", choices=start_methods or ("fork", "spawn"), metavar="METHOD")
    parser.add_argument("--n", type=number(2, 1_000_000_000, "--n", True))
    parser.add_argument("--workers", type=number(1, contract.MAX_WORKERS, "--workers"))
    parser.add_argument("--count", type=number(1, MAX_COUNT, "--count", True))
    parser.add_argument("--seed", type=number(0, (1 << 64) - 1, "--seed"))
    parser.add_argument("--trials", type=number(1, MAX_TRIALS, "--trials"))
    parser.add_argument("--fault", choices=contract.CRASH_FAULTS)
    parser.add_argument("--touched-mib", type=number(0, contract.MAX_TOUCHED_MIB, "--touched-mib"))
    parser.add_argument("--message-size", type=parse_message_size, metavar="BYTES")
    parser.add_argument("--images", type=number(1, contract.MAX_IMAGES, "--images"))
    parser.add_argument("--latency", type=number(0, 60_000, "--latency"), default=100)
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--out-dir", metavar="DIR")
    kept.add_argument("--keep", action="store_true")
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument("--base-url", type=parse_base_url, metavar="URL")
    sources.add_argument("--urls", type=read_url_list, metavar="FILE")
    parser.add_argument("--timeout", type=parse_timeout, default=10.0)
    parser.add_argument("--retries", type=number(0, 10, "--retries"), default=3)
    parser.add_argument("--max-bytes", type=number(1, (1 << 64) - 1, "--max-bytes"),
                        default=64 << 20)
    parser.add_argument("--image-kib", type=number(1, MAX_MEAN_KIB, "--image-kib"), default=150)
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--server-fault", type=parse_fault_share, action="append", default=[],
                        help=argparse.SUPPRESS)
    parser.add_argument("--server-fault-every", type=number(1, (1 << 64) - 1,
                                                            "--server-fault-every"),
                        default=2, help=argparse.SUPPRESS)
    parser.add_argument("--image-server", metavar="PATH",
                        help="the image-server program of download (default: $IMAGE_SERVER)")
    parser.add_argument("--crash-copy", type=int, metavar="PARENT", help=argparse.SUPPRESS)
    return parser


def parse(name, start_methods, argv=None):
    """The parsed command line, or BadInput with one line."""
    parser = build_parser(name, start_methods)
    args = parser.parse_intermixed_args(sys.argv[1:] if argv is None else argv)
    for i, demo in enumerate(args.demos):
        if demo in args.demos[:i]:
            raise BadInput(f"error: demo '{demo}' is named twice")
    if args.start is not None and not start_methods:
        raise BadInput("error: --start is an option of processes: a thread has one way to start")
    runs_cpu = not args.demos or "cpu" in args.demos
    if args.workers is not None and args.workers > contract.CPU_MAX_WORKERS and runs_cpu:
        raise BadInput(
            "error: cpu times every count of workers from 1 to N: --workers takes at most "
            f"{contract.CPU_MAX_WORKERS} for cpu (leave cpu out for more)")
    runs_download = not args.demos or "download" in args.demos
    if runs_download and args.images is not None and args.urls:
        raise BadInput(
            "error: --images counts the images of the local server or of --base-url; the "
            f"list {args.urls[0]} names its own")
    count = args.images or len(contract.IMAGE_NAMES)
    total_kib = count * args.image_kib
    if runs_download and not args.urls and not args.base_url \
            and total_kib > contract.MAX_TOTAL_KIB:
        raise BadInput(
            f"error: {count} images of a mean {args.image_kib} KiB make "
            f"{total_kib // 1024} MiB, more than the local image server holds "
            f"({contract.MAX_TOTAL_KIB // 1024} MiB): lower --images or --image-kib")
    return args
