"""`python-threads`: every demo with `threading` and `queue`, as the notebook writes them.

A thread shares the interpreter's memory: a worker's events go straight into the trace, its
result is the value its target returns, and the shared state (a counter, queues, an event)
is an ordinary object both threads hold. Under the GIL only one thread runs Python bytecode
at a time, which is what `cpu` shows. Mirrors `processes_backend.py` demo by demo; only the
mechanism differs.
"""

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

from . import contract, download, runner
from .contract import DemoFailed, WorkerDied, WorkerPanic

NAME = "python-threads"


# --- workers ----------------------------------------------------------------------


class ThreadSink:
    """Where a thread's events go: into the shared trace, under its lock."""

    def __init__(self, worker, trace, fault, changed):
        self.worker = worker
        self.trace = trace
        self.fault = fault
        self.changed = changed
        self.first_event_at = None

    def emit(self, what, detail=None):
        t_s = self.trace.emit(self.worker, what, detail)
        if self.first_event_at is None:
            with self.changed:
                self.first_event_at = t_s
                self.changed.notify_all()
            if self.fault == "kill-worker":
                raise WorkerPanic("injected fault kill-worker (a thread cannot be killed alone, "
                                  "so it raises instead)")
            if self.fault == "panic-worker":
                raise WorkerPanic("injected fault panic-worker")


class Worker:
    def __init__(self, name, sink):
        self.name = name
        self.sink = sink
        self.ended = False
        self.result = None
        self.error = None
        self.joined = False


class Workers:
    """Threads with the interface of `processes_backend.Workers`: `start` returns once the
    worker's first event is recorded (as `Thread.start` waits for the thread to run), `join`
    and `join_all` return results or raise at the first worker that died. A thread cannot be
    killed: on an error the others are left to end on their own (they are daemon threads,
    and every wait they may be in has a time limit)."""

    def __init__(self, run, deaths_expected=False):
        self.run = run
        self.workers = []
        self.changed = threading.Condition()
        # crash: a worker's death is the lesson, and each is joined on its own.
        self.deaths_expected = deaths_expected

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def start(self, name, target, *args):
        index = len(self.workers)
        sink = ThreadSink(name, self.run.trace, self.run.fault_for(index), self.changed)
        worker = Worker(name, sink)
        asked_at = self.run.trace.now_s()

        def body():
            try:
                worker.result = target(sink, *args)
            except BaseException as e:  # a worker's uncaught exception is its panic
                worker.error = e
            finally:
                with self.changed:
                    worker.ended = True
                    self.changed.notify_all()

        thread = threading.Thread(target=body, name=name, daemon=True)
        self.workers.append(worker)
        thread.start()
        self.run.count_worker()
        self.run.set_figure("results_via", "the target's return value (shared memory)")
        with self.changed:
            while sink.first_event_at is None and not worker.ended:
                self.changed.wait(0.1)
                self.stop_at_a_death()
        first = sink.first_event_at
        if first is not None:
            self.run.first_event_after((first - asked_at) * 1e6)
        return index

    def stop_at_a_death(self):
        """A worker that died is reported, not waited for: a new worker may be waiting on
        something the dead one was to do."""
        if not self.deaths_expected:
            for worker in self.workers:
                if worker.ended and worker.error is not None and not worker.joined:
                    self._reap(worker)

    def join(self, index):
        with self.changed:
            while not self.workers[index].ended:
                self.changed.wait(0.1)
        return self._reap(self.workers[index])

    def join_all(self):
        waiting = [w for w in self.workers if not w.joined]
        results = {}
        while waiting:
            with self.changed:
                while not any(w.ended for w in waiting):
                    self.changed.wait(0.1)
            for worker in [w for w in waiting if w.ended]:
                results[worker.name] = self._reap(worker)
                waiting.remove(worker)
        return [results[w.name] for w in self.workers if w.name in results]

    def alive(self, index):
        return not self.workers[index].ended

    @staticmethod
    def _reap(worker):
        worker.joined = True
        if isinstance(worker.error, DemoFailed):
            raise DemoFailed(str(worker.error))
        if worker.error is not None:
            raise WorkerDied(worker.name, f"panicked: {worker.error}")
        return worker.result


# --- the demos, in catalogue order --------------------------------------------------


def start(run):
    with Workers(run) as workers:
        t1 = workers.start("t1", contract.sleeper, run.seconds(contract.START_SLEEP_S))
        for _ in range(contract.HELLOS):
            run.main_says("hello")
        # The notebook relies on Python waiting for non-daemon threads at exit; wait explicitly.
        workers.join(t1)
    return contract.start_outcome(run.trace.sorted_events())


def join(run):
    count = contract.join_workers(run.args)
    with Workers(run) as workers:
        for index in range(count):
            name = contract.worker_from_zero(index)
            workers.start(name, contract.sleeper, run.seconds(contract.JOIN_SLEEP_S))
            run.main_says("started", name)
        workers.join_all()
    run.main_says("joined", f"all {count}")
    return contract.join_outcome(count, run.trace.sorted_events())


def run_hooks(run):
    with Workers(run) as workers:
        for index in range(contract.HOOKS_WORKERS):
            workers.start(contract.worker_from_one(index), contract.hooked_sleeper,
                          run.seconds(contract.HOOKS_SLEEP_S))
        workers.join_all()
    return contract.run_hooks_outcome(run.trace.sorted_events())


def custom_init(run):
    with Workers(run) as workers:
        for number in range(1, (run.args.workers or contract.CUSTOM_WORKERS) + 1):
            workers.start(f"t{number}", contract.numbered_task, number, contract.CUSTOM_CYCLES)
        # Each (number, value) comes back as the thread's return value: no copy, no encoding.
        values = workers.join_all()
    return {"values": {str(number): value for number, value in values}}


LOCK_SHARED_VIA = ("the interpreter's own memory: a one-element list as the counter, "
                   "threading.Lock as the lock")


def lock(run):
    run.set_figure("shared_via", LOCK_SHARED_VIA)
    run.note("not_possible_in_python",
             "a poisoned lock: a thread that raises inside `with lock` releases it, and the "
             "others go on with a counter that may be half-updated")
    count = run.count()
    locked = lock_locked(run, count)
    unlocked = lock_unlocked(run, count)
    plain = lock_plain(run, count)
    return {"count": count, "locked": locked, "unlocked": unlocked, "plain": plain}


def locked_loop(out, counter, the_lock, delta, count):
    with the_lock:
        out.emit("acquired", f"{contract.signed(delta)} × {count}")
        started = time.perf_counter_ns()
        for _ in range(count):
            counter[0] = contract.updated(counter[0], delta)
        nanos = time.perf_counter_ns() - started
        out.emit("done")
    return nanos


def lock_locked(run, count):
    counter = [0]
    the_lock = threading.Lock()
    with Workers(run) as workers:
        for index, delta in enumerate(contract.LOCK_DELTAS):
            workers.start(contract.worker_from_one(index), locked_loop, counter, the_lock,
                          delta, count)
        loops = workers.join_all()
    return report_tally(run, "locked", counter[0], loops, count)


def unlocked_loop(out, counter, start_line, delta, count):
    out.emit("adding", f"{contract.signed(delta)} × {count}, no lock")
    if not start_line.wait(contract.START_LINE_LIMIT_S):
        raise DemoFailed("a worker stopped, yet none died: the start line never opened")
    started = time.perf_counter_ns()
    for _ in range(count):
        # A separate load and store: another thread may run between them.
        word = counter[0]
        counter[0] = contract.updated(word, delta)
    nanos = time.perf_counter_ns() - started
    out.emit("done")
    return nanos


def lock_unlocked(run, count):
    counter = [0]
    start_line = threading.Event()
    with Workers(run) as workers:
        for index, delta in enumerate(contract.LOCK_DELTAS):
            workers.start(contract.worker_from_one(index), unlocked_loop, counter, start_line,
                          delta, count)
        run.main_says("go", "all four loops at once")
        start_line.set()
        loops = workers.join_all()
    return report_tally(run, "unlocked", counter[0], loops, count)


# The plain counter: a module global, as the notebook's `x`. Threads share it.
PLAIN_COUNTER = 0


def plain_loop(out, delta, count):
    global PLAIN_COUNTER
    out.emit("adding", f"{contract.signed(delta)} × {count}, plain counter")
    mine = 0
    for _ in range(count):
        # The notebook's `x += 2` on a global: a load and a store another thread may split.
        PLAIN_COUNTER = contract.updated(PLAIN_COUNTER, delta)
        mine = contract.updated(mine, delta)
    out.emit("done")
    return mine


def lock_plain(run, count):
    global PLAIN_COUNTER
    PLAIN_COUNTER = 0
    with Workers(run) as workers:
        for index, delta in enumerate(contract.LOCK_DELTAS):
            workers.start(contract.worker_from_one(index), plain_loop, delta, count)
        own = workers.join_all()
    # Every thread updated the one global: the parent sees their total, updates lost or not.
    plain = contract.plain_counter(run.kind["worker"], True, PLAIN_COUNTER, own, count)
    run.main_says("plain total", contract.describe_plain(plain))
    return plain


def report_tally(run, variant, word, loops, count):
    made = count * len(contract.LOCK_DELTAS)
    tally = contract.tally(word, made)
    run.measured(f"ns_per_update_{variant}", sum(loops) / made)
    run.main_says(f"{variant} total", contract.describe_tally(tally))
    return tally


QUEUE_SHARED_VIA = ("the interpreter's own memory: queue.Queue, LifoQueue and PriorityQueue "
                    "(a lock and conditions to sleep on while empty)")


def queue_demo(run):
    run.set_figure("shared_via", QUEUE_SHARED_VIA)
    timeout = contract.GET_TIMEOUT_S
    got = produce_and_consume(run, timeout)
    tasks_joined(run, timeout)
    timed_returned = timed_pass(run, timeout)
    raw_round_trips(run)
    return contract.queue_outcome(got, timed_returned, run.count(),
                                  contract.join_order(run.trace.sorted_events()))


def make_queues():
    return {"fifo": queue.Queue(), "lifo": queue.LifoQueue(), "priority": queue.PriorityQueue(),
            "priority-pairs": queue.PriorityQueue(), "ready": queue.Queue()}


def produce_and_consume(run, timeout):
    queues = make_queues()
    with Workers(run) as workers:
        workers.start("producer", contract.produce, queues)
        consumer = workers.start("consumer", contract.consume, queues, timeout)
        results = workers.join_all()
    return results[consumer]


def tasks_joined(run, timeout):
    """The notebook's `q.join()`: the tasker joins, the helper calls `task_done` per task."""
    tasks = queue.Queue()
    with Workers(run) as workers:
        workers.start(contract.TASKER, contract.give_tasks_and_join, tasks, contract.TASKS)
        workers.start(contract.HELPER, contract.do_tasks, tasks, contract.TASKS, timeout)
        workers.join_all()


def timed_worker(out, the_queue, count, timeout):
    out.emit("timing", f"{count} × (put, get)")
    return contract.timed_put_get(the_queue, count, timeout)


def timed_pass(run, timeout):
    count = run.count()
    with Workers(run) as workers:
        workers.start("timer", timed_worker, queue.Queue(), count, timeout)
        ns = workers.join_all()[0]
    run.measured("ns_per_put_get", ns)
    return count


def raw_round_trips(run):
    with Workers(run) as workers:
        workers.start("baseline", contract.raw_round_trips, run.count())
        in_memory, pipe = workers.join_all()[0]
    run.measured("ns_per_simplequeue_round_trip", in_memory)
    run.measured("ns_per_pipe_round_trip", pipe)


EVENT_SHARED_VIA = ("the interpreter's own memory: threading.Event (a flag and a Condition "
                    "to sleep on)")


class SetTime:
    """When the main flow set `go`: a value both threads read."""

    def __init__(self):
        self.ns = 0

    def put(self, ns):
        self.ns = ns

    def get(self):
        return self.ns


def event(run):
    run.set_figure("shared_via", EVENT_SHARED_VIA)
    flag_and_ops(run)
    outcome = contract.event_outcome(run.trace.sorted_events(), run.seed())
    wake_up_trials(run)
    return outcome


def flag_and_ops(run):
    the_event = threading.Event()
    set_after, clear_after = run.seconds(contract.SET_AFTER_S), run.seconds(contract.CLEAR_AFTER_S)
    with Workers(run) as workers:
        workers.start("flag", contract.flag, the_event, set_after, clear_after)
        ops = workers.start("ops", contract.ops, the_event, run.seed(),
                            run.seconds(contract.DRAW_EVERY_S), contract.wait_limit_s(set_after))
        results = workers.join_all()
    _, wait_cpu_us, wait_wall_us = results[ops]
    run.measured("ops_wait_cpu_us", wait_cpu_us)
    run.measured("ops_wait_wall_us", wait_wall_us)


def wake_up_trials(run):
    go, done, set_at = threading.Event(), threading.Event(), SetTime()
    trials = run.trials()
    with Workers(run) as workers:
        waiter = workers.start("ops", contract.wake_up_waiter, go, done, set_at, trials)
        setter = contract.wake_up_setter(go, done, set_at, trials,
                                         lambda: workers.alive(waiter))
        # A waiter that died is the first thing to report; then a setter that gave up.
        latencies_us = workers.join_all()[0]
    if setter is not None:
        raise setter
    contract.record_wakeups(run, latencies_us)



def download_demo(run):
    # The local image server runs as its own process, stopped when the plan stops.
    plan = download.Plan(run)
    try:
        baseline = baseline_pass(run, plan) if run.args.baseline else None
        manifest, sequential = sequential_pass(run, plan)
        concurrent = concurrent_pass(run, plan)
        return plan.finish(run, manifest, sequential, concurrent, baseline)
    finally:
        plan.stop()


def sequential_pass(run, plan):
    folder = plan.pass_folder("sequential")
    run.main_says("pass", "sequential, 1 worker")
    started = time.perf_counter()
    with Workers(run) as workers:
        seq = workers.start("seq", download.fetch_in_turn, plan.urls, plan.settings,
                            plan.manifest_base, folder)
        manifest, downloads = workers.join(seq)
    return manifest, (downloads, time.perf_counter() - started)


def fetch_from_queue(out, urls, folder, settings):
    """A worker of the concurrent pass: its own client; URLs from the shared FIFO queue
    until it is empty (get_nowait: the queue was filled before any worker started)."""
    opener = settings.opener()
    out.emit("ready")
    downloads = []
    while True:
        try:
            url, name = urls.get_nowait()
        except queue.Empty:
            return downloads
        downloads.append(download.fetch_one(out, opener, url, name, folder, settings))


def concurrent_pass(run, plan):
    folder = plan.pass_folder("concurrent")
    # The queue lives in memory every thread reads: filled before the workers start.
    urls = queue.Queue()
    for url in plan.urls:
        urls.put(url)
    run.main_says("pass", f"concurrent, {plan.workers} workers")
    started = time.perf_counter()
    with Workers(run) as workers:
        for index in range(plan.workers):
            workers.start(contract.worker_from_zero(index), fetch_from_queue, urls, folder,
                          plan.settings)
        downloads = [d for result in workers.join_all() for d in result]
    run.set_figure("results_via", "each thread writes its files; the parent reads them back")
    return downloads, time.perf_counter() - started


def baseline_pass(run, plan):
    started = time.perf_counter()
    with Workers(run) as workers:
        baseline = workers.start("baseline", download.fetch_into_memory, plan.urls,
                                 plan.settings)
        total = workers.join(baseline)
    return total, time.perf_counter() - started


def cpu(run):
    n = run.args.n or contract.CPU_DEFAULT_N
    most_workers = run.args.workers or contract.default_workers()
    if runner.gil_state().startswith("enabled"):
        run.note("not_possible_in_python",
                 "CPU-bound threads in parallel: the GIL lets one thread run bytecode at a time")
    outcome = {"n": n, "expected": contract.primes_below_by_sieve(n), "passes": []}
    for worker_count in range(1, most_workers + 1):
        started = time.perf_counter()
        with Workers(run) as workers:
            for index in range(worker_count):
                chunks = contract.prime_chunks(index, worker_count, n)
                workers.start(contract.worker_from_zero(index), contract.count_prime_chunks,
                              chunks)
            primes = sum(workers.join_all())
        contract.record_cpu_pass(run, outcome, worker_count, primes,
                                 time.perf_counter() - started)
    return outcome


def crash(run):
    faults = [run.args.fault] if run.args.fault else list(contract.CRASH_FAULTS)
    run.note("not_possible_in_python",
             "killing one thread: nothing stops a thread from outside, and abort() or a "
             "SIGKILL ends the whole process, so those rounds run in a copy of the program")
    rounds = []
    doomed = contract.worker_from_one(contract.CRASH_DOOMED)
    for fault in faults:
        run.main_says("round", f"{doomed} dies by {fault}")
        if fault == "panic" or getattr(run, "is_crash_copy", False):
            round_ = round_here(run, fault)
        else:
            round_ = round_in_a_copy(run, fault)
        run.main_says("survivors", contract.survivors_said(round_))
        rounds.append(round_)
    return {"worker": run.kind["worker"], "isolated": run.kind["isolated"], "rounds": rounds}


def round_here(run, fault):
    seconds = run.seconds(contract.CRASH_SLEEP_S)
    with Workers(run, deaths_expected=True) as workers:
        started = [workers.start(contract.worker_from_one(index), contract.crash_sleeper, seconds,
                                 fault if index == contract.CRASH_DOOMED else None)
                   for index in range(contract.CRASH_WORKERS)]
        joins = []
        for index in started:
            try:
                workers.join(index)
                joins.append(None)
            except WorkerDied as died:
                joins.append(died)
    return contract.crash_round(fault, joins)


def round_in_a_copy(run, fault):
    """Runs the round in a copy of this program, watched from outside as a parent process
    would: abort() or SIGKILL in a thread ends the whole copy."""
    started_at = run.trace.now_s()
    command = [sys.executable, os.path.abspath(sys.argv[0]), "crash", "--crash-copy",
               str(os.getpid()), "--fault", fault, "--scale", repr(run.scale)]
    copy = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            text=True)
    survivors = []
    try:
        for line in copy.stdout:
            event_ = runner.Event(json.loads(line))
            event_["t_s"] += started_at
            if event_["what"] == "finished":
                survivors.append(event_["worker"])
            if event_["worker"] != contract.MAIN:
                run.trace.record(event_)
        status = copy.wait()
    finally:
        if copy.poll() is None:
            copy.kill()
        copy.wait()
        copy.stdout.close()
    if status < 0:
        seen = f"the whole program was killed by signal {contract.signal_name(-status)}"
    else:
        seen = f"the whole program exited with code {status}"
    return {"fault": fault, "doomed": contract.worker_from_one(contract.CRASH_DOOMED),
            "seen": seen, "survivors": sorted(survivors), "program_survived": status == 0}


def nothing(out):
    """spawn's job: nothing at all."""


def bare_start_and_join():
    """The bare cost: a threading.Thread of an empty function, started and joined."""
    thread = threading.Thread(target=nothing, args=(None,))
    thread.start()
    thread.join()


def spawn(run):
    count = run.count()
    joined = 0
    with Workers(run) as workers:
        def through_workers():
            nonlocal joined
            workers.join(workers.start("t0", nothing))
            joined += 1

        through, raw = contract.time_alternately(count, through_workers, bare_start_and_join)
        contract.record_spawn_costs(run, through, raw)
        joined_in_the_run = joined
        # The same with this thread pinned to one core, where each new thread starts too.
        cpu = contract.one_core()
        if cpu is not None:
            through, raw = contract.on_cpu(cpu, lambda: contract.time_alternately(
                count, through_workers, bare_start_and_join))
            contract.record_spawn_costs_on_one_core(run, through, raw)
        joined = joined_in_the_run
        run.main_says("started and joined", f"{joined} workers, one after another")
        # --workers N: N threads alive at once before the first is joined.
        if run.args.workers:
            def all_at_once():
                for index in range(run.args.workers):
                    workers.start(f"t{index}", nothing)
                workers.join_all()

            passes = contract.time_each(contract.ALL_AT_ONCE_PASSES, all_at_once)
            contract.record_all_at_once(run, run.args.workers, passes)
    # A new thread shares the interpreter's memory: how much of it is touched should not matter.
    for mib in contract.touched_mib(run):
        memory = contract.touch_memory(mib)
        raw = contract.time_each(contract.touched_starts(run), bare_start_and_join)
        del memory
        contract.record_touched_cost(run, mib, raw)
    return {"started": count, "joined": joined}


class QueueEnds:
    """One end of a pair of in-memory queues between threads: messages move as objects. A
    receive notices a peer that died (a queue has no end of its own)."""

    def __init__(self, outbox, inbox):
        self.outbox, self.inbox = outbox, inbox
        self.peer_alive = None

    def send(self, data):
        self.outbox.put(data)

    def receive(self, size):
        while True:
            try:
                return self.inbox.get(timeout=1.0)
            except queue.Empty:
                if self.peer_alive is not None and not self.peer_alive():
                    raise DemoFailed("the peer: it ended before sending everything")


def queue_ends(kind):
    to_peer, to_main = kind(), kind()
    return QueueEnds(to_main, to_peer), QueueEnds(to_peer, to_main)


def socketpair_ends():
    peer_socket, main_socket = socket.socketpair()
    return contract.StreamEnds(peer_socket), contract.StreamEnds(main_socket)


def channel(run):
    count = run.count()
    outcome = {"paths": []}
    for size in contract.message_sizes(run):
        peer_ends, main_ends = queue_ends(queue.Queue)
        contract.record_path(run, outcome, "channel", size,
                             measure(run, count, size, peer_ends, main_ends))
        peer_ends, main_ends = queue_ends(queue.SimpleQueue)
        contract.record_path(run, outcome, "raw", size,
                             measure(run, count, size, peer_ends, main_ends))
        contract.record_channel_over_raw(run, size)
        peer_ends, main_ends = socketpair_ends()
        contract.record_figures(run, "socketpair", size,
                                measure(run, count, size, peer_ends, main_ends))
    run.note("paths", "channel: queue.Queue; raw: queue.SimpleQueue (C, no Condition); "
                      "socketpair: socket.socketpair")
    return outcome


def peer_worker(out, ends, messages, size, round_trips):
    try:
        out.emit("ready")
        contract.peer(ends, messages, size, round_trips)
    finally:
        # A socket's end closes with its peer, as a dead process's would.
        if isinstance(ends, contract.StreamEnds):
            ends.sock.close()


def measure(run, count, size, peer_ends, main_ends):
    messages, round_trips = contract.message_counts(count, size)
    with Workers(run) as workers:
        peer = workers.start("peer", peer_worker, peer_ends, messages, size, round_trips)
        main_ends.peer_alive = lambda: workers.alive(peer)
        try:
            figures = contract.main_side(main_ends, messages, size, round_trips)
        except DemoFailed as failed:
            figures = failed
        # Closing our ends ends a peer that still waits for us; a peer that died is
        # reported as such, before what its death did to the main flow.
        for ends in (peer_ends, main_ends):
            if isinstance(ends, contract.StreamEnds):
                ends.sock.close()
        workers.join(peer)
    if isinstance(figures, DemoFailed):
        raise figures
    return figures


DEMOS = {
    "start": start, "join": join, "run-hooks": run_hooks, "custom-init": custom_init,
    "lock": lock, "queue": queue_demo, "event": event, "download": download_demo, "cpu": cpu,
    "crash": crash, "spawn": spawn, "channel": channel,
}

BACKEND = runner.Backend(NAME, "thread", False, (), DEMOS, contract.check_outcome)
