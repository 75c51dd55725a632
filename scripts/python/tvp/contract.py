"""The contract in Python: the catalogue, each demo's constants, outcome and workload.

This mirrors `shared/contract` (the Rust crate): the same ids, parameters, defaults, event
words and details, outcome shapes and figure keys, so that `compare` checks a Python
backend's outcome with the Rust contract's own checker and finds the same events. Nothing
here knows how a worker is made; `threads_backend` and `processes_backend` supply that.
"""

import math
import os
import queue
import time

# Worker names and the main flow's name, as in the notebook.
MAIN = "main"


def format_seconds(seconds):
    """Notebook seconds for narration: `5`, `0.05`, `0.003` (as the Rust contract prints them)."""
    text = f"{seconds:.6f}"
    return text.rstrip("0").rstrip(".")


def worker_from_zero(index):
    """`t0`, `t1`, …: join, cpu, download."""
    return f"t{index}"


def worker_from_one(index):
    """`t1`, `t2`, …: run-hooks, lock, crash."""
    return f"t{index + 1}"


class Demo:
    """One row of the catalogue (see `shared/contract/src/demos/<id>.rs`)."""

    def __init__(self, demo_id, section, description, params, ideal_wall_s, default_count=None):
        self.id = demo_id
        self.section = section
        self.description = description
        self.params = params
        self.ideal_wall_s = ideal_wall_s
        self.default_count = default_count


# --- the demos' constants -------------------------------------------------------------

START_SLEEP_S = 5.0
HELLOS = 2
JOIN_WORKERS = 5
# The most workers a demo starts at once; cpu times every count from 1 to N, so it stops earlier.
MAX_WORKERS = 1024
CPU_MAX_WORKERS = 64
JOIN_SLEEP_S = 5.0
HOOKS_WORKERS = 4
HOOKS_SLEEP_S = 3.0
CUSTOM_WORKERS = 10
CUSTOM_CYCLES = 3
LOCK_DELTAS = (2, 3, -4, -1)
LOCK_DEFAULT_COUNT = 100_000
START_LINE_LIMIT_S = 10.0
QUEUE_DEFAULT_COUNT = 2_000
GET_TIMEOUT_S = 5.0
FIFO_PUTS = (0, 1, 2, 3, 4)
PRIORITY_PUTS = (1, 3, 4, 2)
BATCHES = ("fifo", "lifo", "priority", "priority-pairs")
SET_AFTER_S = 3.0
CLEAR_AFTER_S = 5.0
DRAW_EVERY_S = 0.5
DRAW_MAX = 15
LUCKY = 13
TRIAL_GAP_S = 0.001
TRIAL_LIMIT_S = 5.0
DEFAULT_SEED = 4
DEFAULT_TRIALS = 200
DOWNLOAD_WORKERS = 6
LATENCY_S = 0.1
BACKOFF_S = 0.2
CPU_DEFAULT_N = 2_000_000
CPU_CHUNKS = 64
CRASH_WORKERS = 4
CRASH_DOOMED = 1
CRASH_SLEEP_S = 1.0
CRASH_FAULTS = ("panic", "abort", "kill")
SPAWN_DEFAULT_COUNT = 200
DOWNLOAD_KEPT = "images kept in"
DOWNLOAD_REMOVED = "temporary folder of images removed"
TOUCHED_MIB = (0, 64, 256)
MAX_TOUCHED_MIB = 4096
MAX_MESSAGE_BYTES = 1 << 20
FEWEST_MESSAGES = 20
ALL_AT_ONCE_PASSES = 3
CHANNEL_DEFAULT_COUNT = 10_000
SMALL_BYTES = 8
LARGE_BYTES = 64 * 1024
LARGE_DIVISOR = 20
ROUND_TRIP_DIVISOR = 10

IMAGE_NAMES = (
    "airplane", "arctichare", "baboon", "boat", "cat", "fruits", "frymire", "girl",
    "monarch", "mountain", "pool", "peppers", "serrano", "tulips",
)


MAX_IMAGES = 10_000
# The most the local image server holds, as images x mean KiB (14 images of 32 MiB).
MAX_TOTAL_KIB = len(IMAGE_NAMES) * 32 * 1024


def image_name(index):
    """Image `index`'s name: the tutorial's 14, then `<name>-1`, `<name>-2`, ... in rounds."""
    name, round_ = IMAGE_NAMES[index % len(IMAGE_NAMES)], index // len(IMAGE_NAMES)
    return f"{name}-{round_}" if round_ else name


def ideal_sequential_s(images, latency_s):
    return images * latency_s


def ideal_concurrent_s(images, workers, latency_s):
    workers = max(workers, 1)
    return -(-images // workers) * latency_s


CATALOGUE = (
    Demo("start", "§1", "start one worker; the main flow goes on while it sleeps, then waits for it",
         [("sleep", "5 s")], START_SLEEP_S),
    Demo("join", "§2", "start five workers (--workers N), then join them all: the sleeps overlap",
         [("workers", "5"), ("sleep", "5 s")], JOIN_SLEEP_S),
    Demo("run-hooks", "§3",
         "wrap a worker's target between before/after hooks (Python: override run())",
         [("workers", "4"), ("sleep", "3 s")], HOOKS_SLEEP_S),
    Demo("custom-init", "§4",
         "a worker built from (number, function, args) whose result returns to the parent",
         [("workers", "10"), ("cycles", "3")], 0.0),
    Demo("lock", "§5",
         "four workers update one shared counter, with one lock around each loop, without, "
         "and as a plain variable",
         [("workers", "4"), ("deltas", "+2 +3 -4 -1"), ("count", "100000")], 0.0,
         LOCK_DEFAULT_COUNT),
    Demo("queue", "§6",
         "a producer worker puts, a consumer worker gets: FIFO, LIFO and priority orders; "
         "then join waits for every task_done",
         [("orders", "fifo lifo priority priority-pairs"), ("count", "2000")], 0.0,
         QUEUE_DEFAULT_COUNT),
    Demo("event", "§7",
         "a flag worker sets then clears an event; the ops worker draws while it is set",
         [("set-after", "3 s"), ("clear-after", "5 s"), ("draw-every", "0.5 s"),
          ("seed", "4"), ("trials", "200")], SET_AFTER_S + CLEAR_AFTER_S),
    Demo("download", "§8",
         "download 14 images one by one, then with a queue of URLs shared by workers",
         [("workers", "6"), ("images", "14"), ("latency", "100 ms")],
         ideal_sequential_s(len(IMAGE_NAMES), LATENCY_S)
         + ideal_concurrent_s(len(IMAGE_NAMES), DOWNLOAD_WORKERS, LATENCY_S)),
    Demo("cpu", "beyond",
         "count primes in chunks across 1…N workers: CPU-bound work scales with cores",
         [("n", "2000000"), ("workers", "cores")], 0.0),
    Demo("crash", "beyond", "one of four workers panics, aborts or is killed: who survives?",
         [("workers", "4"), ("fault", "panic, abort, kill in turn"), ("sleep", "1 s")],
         CRASH_SLEEP_S),
    Demo("spawn", "beyond",
         "the cost to create, start and join/reap one worker, next to the bare OS calls",
         [("count", "200"), ("touched", "0, 64, 256 MiB")], 0.0, SPAWN_DEFAULT_COUNT),
    Demo("channel", "beyond",
         "messages per second and round trips through the backend's channel, next to bare baselines named for what they are",
         [("count", "10000"), ("sizes", "8 B, 64 KiB")], 0.0, CHANNEL_DEFAULT_COUNT),
)

BY_ID = {demo.id: demo for demo in CATALOGUE}


def listing_text():
    """The `--list` text: one line per demo, as the Rust backends print it."""
    lines = []
    for demo in CATALOGUE:
        params = ", ".join(f"{name}={default}" for name, default in demo.params)
        lines.append(f"{demo.id:<12} {demo.section:<6} {demo.description} [{params}]\n")
    return "".join(lines)


# --- errors --------------------------------------------------------------------------


class WorkerDied(Exception):
    """A worker ended without doing its job; `how` says how (exit code, signal, exception)."""

    def __init__(self, worker, how):
        super().__init__(f"{worker} {how}")
        self.worker = worker
        self.how = how


class DemoFailed(Exception):
    """The operating system or a worker's own report stopped the demo (one line)."""


class WorkerPanic(Exception):
    """A worker's uncaught failure: Python's counterpart of a Rust panic."""


# --- workloads: the work the workers do, called from both backends -------------------


def sleeper(out, seconds):
    """The notebook's `sleeper`: announce, sleep, announce."""
    out.emit("sleeping", f"for {format_seconds(seconds)} s")
    time.sleep(seconds)
    out.emit("finished")


def hooked_sleeper(out, seconds):
    """run-hooks: the target between a before and an after hook (the notebook overrides run())."""
    out.emit("started")
    sleeper(out, seconds)
    out.emit("done")


def double(number, cycles):
    """custom-init: doubles `number` `cycles` times."""
    for _ in range(cycles):
        number += number
    return number


def numbered_task(out, number, cycles):
    """custom-init: a worker built from (number, function, args); returns (number, value)."""
    out.emit("started", f"task {number}")
    value = double(number - 1, cycles)
    out.emit("result", f"= {value}")
    out.emit("done")
    return (number, value)


# lock: the counter packs (updates, value) into one 64-bit word, so lost updates are counted.


def pack(updates, value):
    return ((updates & 0xFFFF_FFFF) << 32) | (value & 0xFFFF_FFFF)


def updated(word, delta):
    updates = ((word >> 32) + 1) & 0xFFFF_FFFF
    return (updates << 32) | (((word & 0xFFFF_FFFF) + delta) & 0xFFFF_FFFF)


def tally(word, updates_made):
    updates = word >> 32
    value = word & 0xFFFF_FFFF
    if value >= 1 << 31:
        value -= 1 << 32
    return {"value": value, "updates": updates, "lost_updates": max(updates_made - updates, 0)}


def describe_tally(t):
    return f"{t['value']} after {t['updates']} updates, {t['lost_updates']} lost"


def signed(delta):
    return f"{delta:+d}"


def count_plain(word, delta, count):
    """The `plain` variant's loop on a word of the worker's own: returns the word after it."""
    for _ in range(count):
        word = updated(word, delta)
    return word


def plain_counter(worker, shared, parent_word, own_words, count):
    """The `plain` variant as the parent saw it (see the Rust contract's `PlainCounter`)."""
    made = count * len(LOCK_DELTAS)
    return {"worker": worker, "shared": shared, "parent": tally(parent_word, made),
            "own_counts": [tally(word, 0)["value"] for word in own_words]}


def describe_plain(plain):
    own = ", ".join(f"{worker_from_one(i)} {n:+d}" for i, n in enumerate(plain["own_counts"]))
    parent = plain["parent"]
    if plain["shared"]:
        return (f"{describe_tally(parent)}: one counter every worker updated, without a lock "
                f"(they added {own})")
    return (f"{parent['value']} after {parent['updates']} updates: the parent's counter was "
            f"never touched; each worker counted in its own copy ({own})")


def plain_problem(plain, count):
    made = count * len(LOCK_DELTAS)
    expected = [delta * count for delta in LOCK_DELTAS]
    if plain["own_counts"] != expected:
        return f"the workers' own counts are {plain['own_counts']}, expected {expected}"
    if plain["shared"]:
        if plain["worker"] == "process":
            return "a plain counter cannot be shared between processes: each has its own memory"
        return tally_consistent(plain["parent"], made)
    untouched = {"value": 0, "updates": 0, "lost_updates": made}
    if plain["parent"] != untouched:
        return f"the parent's counter is {plain['parent']}, expected it untouched ({untouched})"
    return None


# queue: the notebook's values, and the producer and consumer over any shared queues.


def batch_puts(batch):
    if batch in ("fifo", "lifo"):
        return list(FIFO_PUTS)
    if batch == "priority":
        return list(PRIORITY_PUTS)
    return [(n, f"Priority {n}") for n in PRIORITY_PUTS]


def item_label(item):
    return item[1] if isinstance(item, tuple) else str(item)


def produce(out, queues):
    """The producer: fills each batch's queue, then names the batch on `ready`."""
    out.emit("producing", f"{len(BATCHES)} batches")
    for number, batch in enumerate(BATCHES):
        for item in batch_puts(batch):
            out.emit("put", f"{batch} {item_label(item)}")
            queues[batch].put(item)
        queues["ready"].put(number)


def consume(out, queues, timeout):
    """The consumer: a blocking get on `ready` (with a limit), then the batch it names."""
    import queue as queue_module

    out.emit("consuming", f"{len(BATCHES)} batches")
    got = {}
    for _ in BATCHES:
        try:
            number = queues["ready"].get(timeout=timeout)
        except queue_module.Empty:
            raise DemoFailed(f"nothing came on 'ready' within {format_seconds(timeout)} s")
        batch = BATCHES[number]
        items = []
        for _ in batch_puts(batch):
            try:
                item = queues[batch].get(timeout=timeout)
            except queue_module.Empty:
                raise DemoFailed(f"nothing came on '{batch}' within {format_seconds(timeout)} s")
            out.emit("got", f"{batch} {item_label(item)}")
            items.append(item)
        got[batch] = items
    return got


def queue_outcome(got, timed_returned, count, join_order):
    return {
        "fifo": list(got.get("fifo", [])),
        "lifo": list(got.get("lifo", [])),
        "priority": list(got.get("priority", [])),
        "priority_pairs": [item_label(item) for item in got.get("priority-pairs", [])],
        "timed_returned": timed_returned,
        "count": count,
        "join_order": join_order,
    }


# queue's join: the notebook's `q.join()`, with `task_done` (see the Rust contract's queues).
TASKER = "tasker"
HELPER = "helper"
TASKS = 5


def joining_said(tasks):
    return f"until each of the {tasks} tasks is marked done (task_done), not just taken"


def joined_said(tasks):
    return f"after the {tasks}th task_done: every task taken and done"


def give_tasks_and_join(out, the_queue, tasks):
    """The tasker: puts the tasks, then joins the queue (it returns after the last task_done)."""
    for task in range(1, tasks + 1):
        out.emit("put", f"task {task}")
        the_queue.put(task)
    out.emit("joining", joining_said(tasks))
    the_queue.join()
    out.emit("joined", joined_said(tasks))
    return tasks


def do_tasks(out, the_queue, tasks, timeout):
    """The helper: gets each task, does it, says so, then marks it done."""
    for done in range(1, tasks + 1):
        try:
            task = the_queue.get(timeout=timeout)
        except queue.Empty:
            raise DemoFailed(f"no task came within {timeout} s")
        out.emit("got", f"task {task}")
        out.emit("task_done", f"task {task} ({done} of {tasks})")
        the_queue.task_done()
    return tasks


def join_order(events):
    chosen = [e for e in sorted(events, key=lambda e: e["t_s"])
              if (e["worker"] == HELPER and e["what"] == "task_done")
              or (e["worker"] == TASKER and e["what"] == "joined")]
    return [f"{e['worker']} {e['what']} {e['detail']}" if e["worker"] == HELPER
            else f"{e['worker']} {e['what']}" for e in chosen]


def expected_join_order():
    return [f"{HELPER} task_done task {t} ({t} of {TASKS})" for t in range(1, TASKS + 1)] + [
        f"{TASKER} joined"]


def timed_put_get(queue, count, timeout):
    """`count` × (put, get) on one queue by one worker: ns per put+get."""
    started = time.perf_counter_ns()
    for n in range(count):
        queue.put(n)
        got = queue.get(timeout=timeout)
        if got != n:
            raise DemoFailed(f"put {n} on 'timed', got {got!r} back")
    return (time.perf_counter_ns() - started) / count


def round_trip_ns(count, to_echo, from_echo, echo):
    """Round trips to an echo thread over one pair of channels: ns per round trip."""
    import threading

    thread = threading.Thread(target=echo, name="echo", daemon=True)
    thread.start()
    started = time.perf_counter_ns()
    for n in range(count):
        to_echo(n)
        answer = from_echo()
        if answer != n:
            raise DemoFailed(f"the echo thread answered {answer} to {n}")
    per_trip = (time.perf_counter_ns() - started) / count
    to_echo(None)
    thread.join()
    return per_trip


def raw_round_trips(out, count):
    """The raw round trips `queue` compares with, in the worker that runs them: an in-memory
    queue between two threads (queue.SimpleQueue) and a pipe between two threads
    (multiprocessing.Pipe: pickled, through a socket)."""
    import multiprocessing
    import queue as queue_module

    out.emit("timing", f"{count} round trips per channel, as baselines")
    ping, pong = queue_module.SimpleQueue(), queue_module.SimpleQueue()

    def echo_queue():
        while (n := ping.get()) is not None:
            pong.put(n)

    in_memory = round_trip_ns(count, ping.put, pong.get, echo_queue)
    near, far = multiprocessing.Pipe()

    def echo_pipe():
        while (n := far.recv()) is not None:
            far.send(n)

    through_pipe = round_trip_ns(count, near.send, near.recv, echo_pipe)
    near.close()
    far.close()
    return in_memory, through_pipe


# event: the seeded draws, the flag and the ops workers, the wake-up trials.

MASK64 = (1 << 64) - 1


class Draws:
    """SplitMix64, seeded: the same numbers in every backend."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_draw(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        return ((z * DRAW_MAX) >> 64) + 1

    @staticmethod
    def first(seed, n):
        draws = Draws(seed)
        return [draws.next_draw() for _ in range(n)]


def wait_limit_s(scaled_set_after_s):
    return 2.0 * scaled_set_after_s + 1.0


def flag(out, event, set_after, clear_after):
    """The flag worker: sets the event after `set_after`, clears it `clear_after` later."""
    out.emit("counting down", f"{format_seconds(set_after)} s")
    time.sleep(set_after)
    out.emit("countdown begun", f"set for {format_seconds(clear_after)} s")
    event.set()
    time.sleep(clear_after)
    out.emit("clearing")
    event.clear()
    out.emit("cleared")


def ops(out, event, seed, draw_every, wait_limit):
    """The ops worker: sleeps until the event is set (no polling), then draws every tick while
    it stays set. Returns (draws, wait CPU µs, wait wall µs)."""
    out.emit("waiting", "for the event")
    cpu_before = time.thread_time()
    wall_before = time.monotonic()
    if not event.wait(wait_limit):
        out.emit("gave up", f"after {format_seconds(wait_limit)} s")
        raise DemoFailed(f"the event was not set within {wait_limit} s")
    woke = time.monotonic()
    wait_cpu_us = (time.thread_time() - cpu_before) * 1e6
    wait_wall_us = (woke - wall_before) * 1e6
    draws = Draws(seed)
    drawn = []
    while event.is_set():
        number = draws.next_draw()
        drawn.append(number)
        due = woke + draw_every * len(drawn)
        time.sleep(max(due - time.monotonic(), 0.0))
        out.emit("drew", str(number))
        if number == LUCKY:
            out.emit("13!")
    out.emit("stopped", "the event was cleared")
    return drawn, wait_cpu_us, wait_wall_us


def wake_up_waiter(out, go, done, set_at, trials):
    """The waiter of the wake-up trials: µs from each set to its wake-up."""
    out.emit("timing", f"{trials} wake-ups")
    latencies_us = []
    for trial in range(trials):
        if not go.wait(TRIAL_LIMIT_S):
            raise DemoFailed(f"trial {trial} was not set within {TRIAL_LIMIT_S:.0f} s")
        latencies_us.append((time.monotonic_ns() - set_at.get()) / 1e3)
        go.clear()
        done.set()
    return latencies_us


def wake_up_setter(go, done, set_at, trials, waiter_alive):
    """The main flow's side of the trials: set, wait for the answer, clear. Returns None, or
    why it gave up (reported after what the waiter says, which may be the cause)."""
    for trial in range(trials):
        time.sleep(TRIAL_GAP_S)
        set_at.put(time.monotonic_ns())
        go.set()
        deadline = time.monotonic() + TRIAL_LIMIT_S
        while not done.wait(0.05):
            if time.monotonic() > deadline or not waiter_alive():
                return DemoFailed(f"the waiter did not answer trial {trial} "
                                  f"within {TRIAL_LIMIT_S:.0f} s")
        done.clear()
    return None


def median(samples):
    ordered = sorted(samples)
    n = len(ordered)
    if n == 0:
        return None
    if n % 2 == 1:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2.0


def percentile(samples, p):
    ordered = sorted(samples)
    if not ordered:
        return None
    rank = math.ceil(p / 100.0 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def record_wakeups(run, latencies_us):
    run.measured("wakeup_latency_us_median", median(latencies_us) or 0.0)
    run.measured("wakeup_latency_us_p99", percentile(latencies_us, 99.0) or 0.0)


def event_outcome(events, seed):
    """What `event`'s trace shows (`EventOutcome::from_events`)."""

    def position(worker, what):
        for i, e in enumerate(events):
            if e["worker"] == worker and e["what"] == what:
                return i
        return None

    set_at = position("flag", "countdown begun")
    set_at = len(events) + 1 if set_at is None else set_at
    clearing_at = position("flag", "clearing")
    cleared_at = position("flag", "cleared")
    stopped_at = position("ops", "stopped")
    ops_events = [(i, e) for i, e in enumerate(events) if e["worker"] == "ops"]
    draws = []
    for i, e in ops_events:
        if e["what"] == "drew" and e["detail"] is not None and e["detail"].isdigit():
            draws.append((i, int(e["detail"])))
    numbers = [n for _, n in draws]
    announced = all(
        (this["what"] == "drew" and this["detail"] == "13") == (nxt["what"] == "13!")
        for (_, this), (_, nxt) in zip(ops_events, ops_events[1:])
    ) and (not ops_events or ops_events[0][1]["what"] != "13!")
    stopped_in_time = (
        clearing_at is not None and cleared_at is not None and stopped_at is not None
        and clearing_at < stopped_at
        and sum(1 for i, _ in draws if i > cleared_at) <= 1
    )
    return {
        "seed": seed,
        "draws_before_set": sum(1 for i, _ in draws if i < set_at),
        "draws_follow_seed": numbers == Draws.first(seed, len(numbers)),
        "draws_about_ten": abs(len(numbers) - 10) <= 1,
        "thirteens_announced": announced,
        "stopped_within_one_tick": stopped_in_time,
    }


# cpu: count the primes below n in chunks, by trial division; the sieve gives the answer.


def is_prime(k):
    if k < 2:
        return False
    if k < 4:
        return True
    if k % 2 == 0:
        return False
    d = 3
    while d * d <= k:
        if k % d == 0:
            return False
        d += 2
    return True


def count_primes(start, end):
    return sum(1 for k in range(start, end) if is_prime(k))


def prime_chunks(worker, workers, n):
    return [(n * i // CPU_CHUNKS, n * (i + 1) // CPU_CHUNKS)
            for i in range(worker, CPU_CHUNKS, workers)]


def count_prime_chunks(out, chunks):
    out.emit("counting", f"{len(chunks)} chunks")
    return sum(count_primes(start, end) for start, end in chunks)


def primes_below_by_sieve(n):
    composite = bytearray(max(n, 2))
    composite[0] = composite[1] = 1
    k = 2
    while k * k < n:
        if not composite[k]:
            composite[k * k::k] = b"\x01" * len(range(k * k, n, k))
        k += 1
    return n - sum(composite[:n]) if n >= 2 else 0


def default_workers():
    """The cores this process may use, as Rust's `available_parallelism` counts them:
    the affinity mask, capped by a cgroup v2 CPU quota."""
    cores = len(os.sched_getaffinity(0))
    try:
        with open("/proc/self/cgroup") as f:
            path = next(line.split(":", 2)[2].strip() for line in f if line.startswith("0::"))
        with open(f"/sys/fs/cgroup{path}/cpu.max") as f:
            quota, period = f.read().split()
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, StopIteration, ValueError):
        pass
    return max(cores, 1)


def record_cpu_pass(run, outcome, workers, primes, wall_s):
    outcome["passes"].append([workers, primes])
    run.measured(f"wall_s_{workers}_workers", wall_s)
    one_worker_s = run.measured_value("wall_s_1_workers") or wall_s
    run.measured(f"speedup_{workers}_workers", one_worker_s / wall_s)
    run.main_says("counted", f"{primes} primes with {workers} workers")


# crash: one worker of four dies; the others sleep and finish.


def crash_sleeper(out, seconds, doomed):
    out.emit("sleeping", f"for {format_seconds(seconds)} s")
    if doomed is not None:
        out.emit("dying", f"by {doomed}")
        die(doomed)
    time.sleep(seconds)
    out.emit("finished")


def die(fault):
    import resource
    import signal

    if fault == "panic":
        raise WorkerPanic("the doomed worker panics")
    if fault == "abort":
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.abort()
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("SIGKILL cannot be caught")


def survivors_said(round_):
    """What the main flow says once a round is over: the survivors, or the whole program."""
    if round_["program_survived"]:
        return " ".join(round_["survivors"])
    how = {"panic": "a panic", "abort": "SIGABRT", "kill": "SIGKILL"}[round_["fault"]]
    return f"none: the whole program died of {how}: every thread with it"


def crash_round(fault, joins):
    """A round's outcome from the joins of its workers, in start order: each None (it
    finished) or a WorkerDied."""
    round_ = {"fault": fault, "doomed": worker_from_one(CRASH_DOOMED), "seen": "",
              "survivors": [], "program_survived": True}
    for index, died in enumerate(joins):
        if died is None:
            round_["survivors"].append(worker_from_one(index))
        elif index == CRASH_DOOMED:
            round_["seen"] = died.how
        else:
            raise died
    return round_


def signal_name(number):
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# spawn and channel: timing loops, messages, and the figures they record.


def time_each(count, op):
    micros = []
    for _ in range(count):
        started = time.perf_counter()
        op()
        micros.append((time.perf_counter() - started) * 1e6)
    return micros


def time_alternately(count, first, second):
    first_us, second_us = [], []
    for _ in range(count):
        first_us.extend(time_each(1, first))
        second_us.extend(time_each(1, second))
    return first_us, second_us


def touch_memory(mib):
    memory = bytearray(mib << 20)
    memory[::4096] = b"\x01" * len(range(0, mib << 20, 4096))
    return memory


def record_spawn_costs(run, through_workers_us, raw_us):
    workers, raw = median(through_workers_us) or 0.0, median(raw_us) or 0.0
    run.measured("worker_start_join_us", workers)
    run.measured("raw_os_us", raw)
    if raw > 0:
        run.measured("worker_over_raw", workers / raw)


def record_spawn_costs_on_one_core(run, through_workers_us, raw_us):
    """spawn's costs with the main flow pinned to one core, where its workers start too."""
    run.measured("worker_start_join_one_core_us", median(through_workers_us) or 0.0)
    run.measured("raw_os_one_core_us", median(raw_us) or 0.0)


def placements():
    """Where a round trip's two ends are placed on purpose, as the Rust contract places them
    (contract::bench::Placement): both on the first CPU this thread may use, then (with two
    CPUs) the main flow's on the first and the peer's on the second."""
    cpus = sorted(os.sched_getaffinity(0))
    if not cpus:
        return []
    if len(cpus) == 1:
        return [("one_core", cpus[0], cpus[0])]
    return [("one_core", cpus[0], cpus[0]), ("two_cores", cpus[0], cpus[1])]


def one_core():
    """The CPU a measurement "on one core" runs on: the first this thread may use."""
    places = placements()
    return places[0][1] if places else None


def on_cpu(cpu, work):
    """Runs `work` with the calling thread pinned to `cpu`, then gives it back its CPUs."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        return work()
    finally:
        os.sched_setaffinity(0, before)


def record_method_costs(run, method, workers_us, raw_us=None):
    run.measured(f"{method}_worker_start_join_us", median(workers_us) or 0.0)
    if raw_us is not None:
        run.measured(f"{method}_raw_os_us", median(raw_us) or 0.0)
    spawn, fork = (run.measured_value("spawn_worker_start_join_us"),
                   run.measured_value("fork_worker_start_join_us"))
    if spawn and fork:
        run.measured("spawn_over_fork", spawn / fork)


def record_touched_cost(run, mib, raw_us):
    cost = median(raw_us) or 0.0
    run.measured(f"raw_os_us_touched_{mib}_mib", cost)
    if run.args.touched_mib == mib:
        run.measured("raw_os_us_touched", cost)
    untouched = run.measured_value("raw_os_us_touched_0_mib")
    if mib > 0 and untouched is not None:
        run.measured("raw_os_us_per_touched_mib", (cost - untouched) / mib)
    run.main_says("measured", f"start and join after touching {mib} MiB")


def message(index, size):
    n = min(size, 8)
    return (index & MASK64).to_bytes(8, "little")[:n] + bytes([index & 0xFF]) * (size - n)


GO = b"go"


def message_counts(count, size):
    """As many messages as carry the bytes of count/20 64 KiB ones, count at most, and 20
    (or count) at least."""
    same_bytes_as_large = count * LARGE_BYTES // (LARGE_DIVISOR * max(size, 1))
    messages = min(max(same_bytes_as_large, min(FEWEST_MESSAGES, count)), count)
    return messages, max(messages // ROUND_TRIP_DIVISOR, 1)


def message_sizes(run):
    """--message-size alone, or 8 B and 64 KiB."""
    size = run.args.message_size
    return [size] if size is not None else [SMALL_BYTES, LARGE_BYTES]


def touched_mib(run):
    """--touched-mib N gives 0 and N, else 0, 64 and 256 MiB."""
    mib = run.args.touched_mib
    if mib is None:
        return list(TOUCHED_MIB)
    return [0] if mib == 0 else [0, mib]


def touched_starts(run):
    return max(run.count() // 10, 5)


def record_all_at_once(run, workers, pass_us):
    run.measured("all_at_once_us_per_worker", (median(pass_us) or 0.0) / workers)
    run.main_says("started and joined", f"{workers} workers at once, {len(pass_us)} times")


def size_label(size):
    if size and size % (1 << 20) == 0:
        return f"{size >> 20}mib"
    if size and size % 1024 == 0:
        return f"{size // 1024}kib"
    return f"{size}b"


def peer(ends, messages, size, round_trips):
    """The peer: waits for "go", streams its messages, then echoes; first where the scheduler
    puts it, then once more in each of the placements."""
    def phase():
        ends.receive(len(GO))
        for index in range(messages):
            ends.send(message(index, size))
        for _ in range(round_trips):
            ends.send(ends.receive(size))

    phase()
    for _, _, peer_cpu in placements():
        on_cpu(peer_cpu, phase)


def main_side(ends, messages, size, round_trips):
    """The main flow: receives, checks and times the stream, then the round trips; first
    where the scheduler puts it, then in each of the placements."""
    def phase():
        started = time.perf_counter()
        ends.send(GO)
        intact = 0
        for index in range(messages):
            intact += ends.receive(size) == message(index, size)
        seconds = time.perf_counter() - started
        micros, round_trips_intact = [], 0
        for index in range(round_trips):
            sent = message(index, size)
            began = time.perf_counter()
            ends.send(sent)
            echoed = ends.receive(size)
            micros.append((time.perf_counter() - began) * 1e6)
            round_trips_intact += echoed == sent
        return seconds, intact, micros, round_trips_intact

    seconds, intact, micros, round_trips_intact = phase()
    placed = {}
    for place, main_cpu, _ in placements():
        placed_seconds, placed_intact, placed_micros, placed_echoes = on_cpu(main_cpu, phase)
        if placed_intact != messages or placed_echoes != round_trips:
            raise RuntimeError(
                f"with the ends on {place.replace('_', ' ')}: {placed_intact} of {messages} "
                f"messages and {placed_echoes} of {round_trips} echoes came intact")
        placed[place] = {"seconds": placed_seconds,
                         "round_trip_us_median": median(placed_micros) or 0.0}
    return {"messages": messages, "intact": intact, "seconds": seconds,
            "round_trips": round_trips, "round_trips_intact": round_trips_intact,
            "round_trip_us_median": median(micros) or 0.0, "placed": placed}


def record_figures(run, path, size, figures):
    label = size_label(size)
    per_second = figures["messages"] / figures["seconds"]
    # --message-size: the figures under names without the size too, the ones a sweep draws.
    for name in ([path] if run.args.message_size == size else []) + [f"{path}_{label}"]:
        run.measured(f"{name}_msgs_per_s", per_second)
        run.measured(f"{name}_mb_per_s", per_second * size / 1e6)
        run.measured(f"{name}_round_trip_us", figures["round_trip_us_median"])
        for place, placed in figures.get("placed", {}).items():
            placed_per_second = figures["messages"] / placed["seconds"]
            run.measured(f"{name}_{place}_msgs_per_s", placed_per_second)
            run.measured(f"{name}_{place}_mb_per_s", placed_per_second * size / 1e6)
            run.measured(f"{name}_{place}_round_trip_us", placed["round_trip_us_median"])
    run.main_says("measured", f"{path} {label}: {figures['messages']} messages, "
                              f"{figures['round_trips']} round trips")


def record_path(run, outcome, path, size, figures):
    record_figures(run, path, size, figures)
    label = size_label(size)
    outcome["paths"].append([f"{path} {label}", figures["messages"], figures["intact"]])
    outcome["paths"].append([f"{path} {label} round trips", figures["round_trips"],
                             figures["round_trips_intact"]])


def record_channel_over_raw(run, size):
    label = size_label(size)
    get = run.measured_value
    raw, channel = get(f"raw_{label}_msgs_per_s"), get(f"channel_{label}_msgs_per_s")
    if raw and channel:
        run.measured(f"throughput_raw_over_channel_{label}", raw / channel)
    channel_rt, raw_rt = get(f"channel_{label}_round_trip_us"), get(f"raw_{label}_round_trip_us")
    if channel_rt and raw_rt:
        run.measured(f"round_trip_channel_over_raw_{label}", channel_rt / raw_rt)


class StreamEnds:
    """A connected stream socket as a peer's ends: whole messages of a known size."""

    def __init__(self, sock):
        self.sock = sock

    def send(self, data):
        self.sock.sendall(data)

    def receive(self, size):
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            n = self.sock.recv_into(view[got:])
            if n == 0:
                raise DemoFailed("the peer closed the socket")
            got += n
        return bytes(buffer)


def sleeps_overlapped(events):
    last_sleeping = max((e["t_s"] for e in events if e["what"] == "sleeping"),
                        default=float("-inf"))
    first_finished = min((e["t_s"] for e in events if e["what"] == "finished"),
                         default=float("inf"))
    return last_sleeping < first_finished


def start_outcome(events):
    """start: the order of every event, `worker what`."""
    return {"order": [f"{e['worker']} {e['what']}" for e in events]}


def join_workers(args):
    """join: how many sleepers this run starts: --workers, or five as in the notebook."""
    return args.workers or JOIN_WORKERS


def join_outcome(workers, events):
    """join: how many started, who finished, and whether every sleep began before the first
    ended."""
    return {"workers": workers,
            "finished": sorted(e["worker"] for e in events if e["what"] == "finished"),
            "overlapped": sleeps_overlapped(events)}


def run_hooks_outcome(events):
    """run-hooks: each worker's events in order, and whether the sleeps overlapped."""
    per_worker = {}
    for e in events:
        if e["worker"] != MAIN:
            per_worker.setdefault(e["worker"], []).append(e["what"])
    return {"per_worker": per_worker, "overlapped": sleeps_overlapped(events)}

# --- the checks of the outcomes (as the Rust contract's; compare runs those again) ----


def expected_start_order():
    return ["t1 sleeping"] + ["main hello"] * HELLOS + ["t1 finished"]


def expected_crash(worker, isolated, fault):
    others = [worker_from_one(i) for i in range(CRASH_WORKERS) if i != CRASH_DOOMED]
    panic_seen = "panicked" if worker == "thread" else "exited with code 101"
    if fault == "panic":
        return others, True, panic_seen
    seen = "SIGABRT" if fault == "abort" else "SIGKILL"
    return (others, True, seen) if isolated else ([], False, seen)


def tally_consistent(t, made, max_delta=4):
    if t["updates"] + t["lost_updates"] != made:
        return f"{t['updates']} updates kept + {t['lost_updates']} lost is not the {made} made"
    if t["lost_updates"] == 0 and t["value"] != 0:
        return f"no update lost, yet the value is {t['value']}"
    if abs(t["value"]) > max_delta * t["lost_updates"]:
        return f"value {t['value']} is further from 0 than {t['lost_updates']} lost updates allow"
    return None


def check_outcome(demo, o, kind):
    """None when the outcome is what the contract says; otherwise the first difference."""
    problem = _check(demo, o, kind)
    return None if problem is None else f"{demo}: {problem}"


def _check(demo, o, kind):
    if demo == "start":
        expected = expected_start_order()
        return None if o["order"] == expected else f"order {o['order']}, expected {expected}"
    if demo in ("join", "run-hooks"):
        names = sorted(worker_from_zero(i) for i in range(o["workers"])) if demo == "join" \
            else sorted(worker_from_one(i) for i in range(HOOKS_WORKERS))
        seen = o["finished"] if demo == "join" else sorted(o["per_worker"])
        if seen != names:
            return f"workers {seen}, expected {names}"
        if demo == "run-hooks":
            for worker, whats in o["per_worker"].items():
                if whats != ["started", "sleeping", "finished", "done"]:
                    return f"{worker} did {whats}"
        return None if o["overlapped"] else "a worker finished before all had started sleeping"
    if demo == "custom-init":
        workers = len(o["values"])
        expected = {str(k): double(k - 1, CUSTOM_CYCLES) for k in range(1, workers + 1)}
        return None if workers and o["values"] == expected else f"values {o['values']}, expected {expected}"
    if demo == "lock":
        made = o["count"] * len(LOCK_DELTAS)
        if o["locked"] != {"value": 0, "updates": made, "lost_updates": 0}:
            return f"locked counter {o['locked']}, expected 0 after {made} updates"
        problem = tally_consistent(o["unlocked"], made)
        if problem is not None:
            return f"unlocked counter: {problem}"
        problem = plain_problem(o["plain"], o["count"])
        return None if problem is None else f"plain counter: {problem}"
    if demo == "queue":
        for name, expected in (("fifo", [0, 1, 2, 3, 4]), ("lifo", [4, 3, 2, 1, 0]),
                               ("priority", [1, 2, 3, 4]),
                               ("priority_pairs", [f"Priority {n}" for n in range(1, 5)])):
            if o[name] != expected:
                return f"{name} got {o[name]}, expected {expected}"
        if o["timed_returned"] != o["count"]:
            return f"the timed pass got {o['timed_returned']} of {o['count']} items back"
        if o["join_order"] != expected_join_order():
            return f"join: {o['join_order']}, expected {expected_join_order()}"
        return None
    if demo == "event":
        for ok, problem in ((o["draws_before_set"] == 0, "ops drew before the event was set"),
                            (o["draws_follow_seed"], "the draws are not the seeded sequence"),
                            (o["draws_about_ten"], "ops did not draw 10 ± 1 times"),
                            (o["thirteens_announced"], "a 13 was not announced"),
                            (o["stopped_within_one_tick"], "ops did not stop within one draw")):
            if not ok:
                return problem
        return None
    if demo == "download":
        return check_download(o)
    if demo == "cpu":
        if not o["passes"]:
            return "no pass ran"
        for workers, primes in o["passes"]:
            if primes != o["expected"]:
                return f"{workers} workers counted {primes} primes, expected {o['expected']}"
        return None
    if demo == "crash":
        if (o["worker"], o["isolated"]) != (kind["worker"], kind["isolated"]):
            return "the outcome does not state the backend's kind"
        for r in o["rounds"]:
            survivors, survived, seen = expected_crash(o["worker"], o["isolated"], r["fault"])
            if r["survivors"] != survivors or r["program_survived"] != survived \
                    or seen not in r["seen"]:
                return f"{r['fault']}: survivors {r['survivors']} and {r['seen']!r}, " \
                       f"expected {survivors} and {seen!r}"
        return None if o["rounds"] else "no round ran"
    if demo == "spawn":
        ok = o["started"] > 0 and o["joined"] == o["started"]
        return None if ok else f"{o['started']} started, {o['joined']} joined"
    if demo == "channel":
        for path, sent, intact in o["paths"]:
            if sent != intact or sent == 0:
                return f"{path}: {sent} sent, {intact} arrived intact and in order"
        return None if o["paths"] else "nothing was measured"
    raise AssertionError(demo)


def check_download(o):
    for name in ("sequential", "concurrent"):
        failed = [f"{i['name']} failed: {i['fetched']['failed']['reason']}"
                  for i in o[name]["images"] if "failed" in i["fetched"]]
        if failed:
            return f"{name}: {len(failed)} of {len(o[name]['images'])} failed: " + "; ".join(failed)
        if o[name]["stray_files"]:
            return f"{name}: stray files in the folder: {o[name]['stray_files']}"

    def saved(pass_):
        return [(i["name"], i["fetched"]["saved"]["length"], i["fetched"]["saved"]["sha256"])
                for i in pass_["images"]]

    if o["expected"] is not None:
        expected = [(e["name"], e["length"], e["sha256"]) for e in o["expected"]]
        passes = ("sequential", "concurrent")
    else:
        expected, passes = saved(o["sequential"]), ("concurrent",)
    for name in passes:
        if saved(o[name]) != expected:
            return f"{name}: the files differ from what was expected"
    return None
