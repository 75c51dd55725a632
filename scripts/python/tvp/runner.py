"""The runner both Python backends call: parse the command line, run each demo asked for,
narrate it or print the JSON document of the protocol, exit 0 (every outcome checks), 1 (one
does not), 2 (bad input, one line) or 130 (Ctrl-C, every worker stopped).

The outcome's check here is a courtesy for the narration; `compare` never trusts it and
checks every outcome again with the Rust contract's checker.
"""

import json
import os
import platform
import signal
import sys
import threading
import time

from . import cli, contract


class Event(dict):
    """One thing a worker (or the main flow) did: `t_s`, `worker`, `what`, `detail`."""


class Trace:
    """The events of one demo, on the system-wide monotonic clock from `origin_ns`, so that
    events from worker processes sort into the parent's time line."""

    SILENT, NARRATE, JSON_LINES = "silent", "narrate", "json-lines"

    def __init__(self, echo, origin_ns=None):
        self.origin_ns = time.monotonic_ns() if origin_ns is None else origin_ns
        self.echo = echo
        self.events = []
        self.lock = threading.Lock()

    def now_s(self):
        return (time.monotonic_ns() - self.origin_ns) / 1e9

    def emit(self, worker, what, detail=None):
        with self.lock:
            t_s = self.now_s()
            self._keep(Event(t_s=t_s, worker=worker, what=what, detail=detail))
        return t_s

    def record(self, event):
        with self.lock:
            self._keep(event)

    def _keep(self, event):
        self.events.append(event)
        if self.echo == Trace.NARRATE:
            words = [event["worker"], event["what"]] + (
                [event["detail"]] if event["detail"] is not None else [])
            print(f"  {event['t_s']:>8.3f} s  {' '.join(words)}", flush=True)
        elif self.echo == Trace.JSON_LINES:
            print(json.dumps(event), flush=True)

    def sorted_events(self):
        with self.lock:
            return sorted(self.events, key=lambda e: e["t_s"])


class DemoRun:
    """Everything a demo needs while it runs: its settings, its trace and its figures."""

    def __init__(self, demo, backend, args, echo):
        self.demo = demo
        self.backend = backend
        self.args = args
        self.scale = args.scale
        self.trace = Trace(echo)
        self.figures = {"workers_created": 0, "spawn_to_first_event_us": []}
        self.ideal_wall_s = None
        self.lock = threading.Lock()

    def count(self):
        return self.args.count or contract.BY_ID[self.demo].default_count

    def seed(self):
        return contract.DEFAULT_SEED if self.args.seed is None else self.args.seed

    def trials(self):
        return self.args.trials or contract.DEFAULT_TRIALS

    def seconds(self, notebook_seconds):
        return notebook_seconds * self.scale

    def fault_for(self, index):
        """The fault to inject into the worker started `index`-th: only the first dies."""
        return self.args.inject if index == 0 else None

    def main_says(self, what, detail=None):
        self.trace.emit(contract.MAIN, what, detail)

    def measured(self, name, value):
        with self.lock:
            self.figures.setdefault("measured", {})[name] = float(value)

    def measured_value(self, name):
        with self.lock:
            return self.figures.get("measured", {}).get(name)

    def set_figure(self, name, value):
        with self.lock:
            self.figures[name] = value

    def note(self, name, text):
        with self.lock:
            self.figures.setdefault("notes", {})[name] = text

    def count_worker(self):
        with self.lock:
            self.figures["workers_created"] += 1

    def first_event_after(self, micros):
        """A worker's first event came `micros` after it was asked for."""
        with self.lock:
            self.figures["spawn_to_first_event_us"].append(micros)

    def count_ipc_message(self, size):
        with self.lock:
            self.figures["ipc_messages"] = self.figures.get("ipc_messages", 0) + 1
            self.figures["ipc_bytes"] = self.figures.get("ipc_bytes", 0) + size

    def report(self, outcome, problem, wall_s):
        ideal = self.ideal_wall_s
        if ideal is None:
            ideal = self.scale * contract.BY_ID[self.demo].ideal_wall_s
        report = {"id": self.demo, "ok": problem is None, "outcome": outcome}
        if problem is not None:
            report["problem"] = problem
        report.update(wall_s=wall_s, ideal_wall_s=ideal, events=self.trace.sorted_events(),
                      figures=self.figures)
        return report


class Backend:
    """What a Python backend is: its name, kind, start methods and demos (a dict id → run)."""

    def __init__(self, name, worker, isolated, start_methods, demos, check, prepare=None,
                 finish=None):
        self.name = name
        self.worker = worker
        self.isolated = isolated
        self.start_methods = start_methods
        self.demos = demos
        self.check = check
        self.prepare = prepare
        self.finish = finish


def gil_state():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_enabled is None:
        return "enabled (this Python has no free-threaded build)"
    return "enabled" if is_enabled() else "disabled (free-threaded)"


def runtime():
    return {
        "language": "Python",
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "gil": gil_state(),
        "executable": sys.executable,
    }


def kind_of(backend, args):
    kind = {"worker": backend.worker, "isolated": backend.isolated}
    if backend.start_methods:
        kind["start_method"] = args.start or backend.start_methods[0]
    return kind


def say(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def verdict_line(report):
    status = "ok" if report["ok"] else "differs"
    line = f"  {report['id']:<12} {status:<8} {report['wall_s']:>8.3f} s"
    if report["ideal_wall_s"] > 0:
        line += f"  ideal {contract.format_seconds(report['ideal_wall_s'])} s"
    figures = report["figures"]
    line += f"  · workers {figures['workers_created']}"
    first = contract.median(figures["spawn_to_first_event_us"])
    if first is not None:
        line += f", spawn→first event {first:.0f} µs"
    if "ipc_messages" in figures:
        line += f", IPC {figures['ipc_messages']} msgs / {figures['ipc_bytes']} B"
    for name, value in sorted(figures.get("measured", {}).items()):
        line += f", {name} {value:.3f}"
    if "shared_via" in figures:
        line += f"\n               shared via {figures['shared_via']}"
    for name, text in sorted(figures.get("notes", {}).items()):
        line += f", {name} {text}"
    if report.get("problem"):
        line += f"\n               {report['problem']}"
    return line


def interrupt_once(signum, frame):
    """Ctrl-C or SIGTERM: the main flow stops where it is (a KeyboardInterrupt, which every
    `finally` of the demo sees: workers killed and reaped, helpers stopped); a second signal
    during that cleanup is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(backend):
    try:
        args = cli.parse(backend.name, backend.start_methods)
    except cli.BadInput as e:
        print(f"{backend.name}: {e}", file=sys.stderr)
        return cli.EXIT_BAD_INPUT
    if args.list and args.json:
        listing = {"backend": backend.name, "kind": kind_of(backend, args),
                   "runtime": runtime(), "demos": [d.id for d in contract.CATALOGUE]}
        say(json.dumps(listing, indent=2) + "\n")
        return 0
    if args.list:
        say(contract.listing_text())
        return 0
    signal.signal(signal.SIGINT, interrupt_once)
    signal.signal(signal.SIGTERM, interrupt_once)
    try:
        if args.crash_copy is not None:
            return crash_copy(backend, args)
        return run_demos(backend, args)
    except KeyboardInterrupt:
        print(f"{backend.name}: interrupted; every worker has been stopped", file=sys.stderr)
        return cli.EXIT_INTERRUPTED
    finally:
        if backend.finish:
            backend.finish()


def run_demos(backend, args):
    if backend.prepare:
        backend.prepare(args)
    kind = kind_of(backend, args)
    narrate = not args.json and not args.quiet
    echo = Trace.NARRATE if narrate else Trace.SILENT
    reports = []
    for demo in args.demos or [d.id for d in contract.CATALOGUE]:
        row = contract.BY_ID[demo]
        if narrate:
            say(f"== {demo} ({row.section}): {row.description}\n")
        run = DemoRun(demo, backend.name, args, echo)
        run.kind = kind
        started = time.perf_counter()
        outcome, problem = None, None
        try:
            outcome = backend.demos[demo](run)
            problem = backend.check(demo, outcome, kind)
        except (contract.WorkerDied, contract.DemoFailed) as e:
            problem = str(e)
        except OSError as e:
            problem = f"the operating system refused: {e}"
        except Exception as e:  # a bug of the backend: reported, and the document printed
            problem = f"the backend failed: {type(e).__name__}: {e}"
        wall_s = time.perf_counter() - started
        reports.append(run.report(outcome, problem, wall_s))
    all_ok = all(r["ok"] for r in reports)
    if args.json:
        document = {"backend": backend.name, "kind": kind, "runtime": runtime(),
                    "scale": args.scale, "demos": reports}
        say(json.dumps(document, indent=2) + "\n")
    else:
        start = f", start {kind['start_method']}" if "start_method" in kind else ""
        say(f"verdicts ({backend.name}, scale {args.scale:g}{start}):\n")
        for report in reports:
            say(verdict_line(report) + "\n")
    return 0 if all_ok else 1


def crash_copy(backend, args):
    """The copy of the program started for one `crash` round whose fault ends a whole
    process: it runs the round here and streams its events as JSON lines."""
    from . import oslib

    if not oslib.die_with_parent(args.crash_copy):
        print(f"{backend.name}: crash copy: the program that started it is gone",
              file=sys.stderr)
        return 1
    run = DemoRun("crash", backend.name, args, Trace.JSON_LINES)
    run.kind = kind_of(backend, args)
    run.is_crash_copy = True
    try:
        backend.demos["crash"](run)
    except (contract.WorkerDied, contract.DemoFailed) as e:
        print(f"{backend.name}: crash copy: {e}", file=sys.stderr)
        return 1
    return 0


def entry(backend):
    """The whole program: `sys.exit(entry(BACKEND))`; stdout closed under it ends it quietly."""
    try:
        code = main(backend)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141
    return code
