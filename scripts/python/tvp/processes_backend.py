"""`python-processes`: every demo with `multiprocessing`, started by fork, spawn or forkserver.

A worker process shares nothing with its parent unless it is sent or put in shared memory:
its events and its result are pickled and sent over a pipe of its own
(`multiprocessing.Pipe`), the counter is a `multiprocessing.Value` with its lock, the queues
live in a manager's server process, the event is a `multiprocessing.Event`. The parent
watches every child's pipe and its sentinel, so a child that dies is reported (exit code or
signal) instead of waited for, and kills and reaps every child on every path. Mirrors
`threads_backend.py` demo by demo; only the mechanism differs.
"""

import multiprocessing
import multiprocessing.connection
import multiprocessing.managers
import os
import pickle
import queue
import signal
import socket
import sys
import time

from . import contract, download, oslib, runner
from .contract import DemoFailed, WorkerDied, WorkerPanic

NAME = "python-processes"
START_METHODS = ("fork", "spawn", "forkserver")
# The exit code of a worker whose target raised: the code the Rust backends give a worker
# that panicked, so that the parent's report reads the same.
EXIT_PANICKED = 101
EXIT_PARENT_GONE = 102


# --- workers ----------------------------------------------------------------------


class PipeSink:
    """Where a child's events go: one pickled message each over its pipe, stamped on the
    system-wide monotonic clock from the parent's origin."""

    def __init__(self, worker, writer, origin_ns, fault):
        self.worker = worker
        self.writer = writer
        self.origin_ns = origin_ns
        self.fault = fault
        self.first = True

    def emit(self, what, detail=None):
        t_s = (time.monotonic_ns() - self.origin_ns) / 1e9
        self.writer.send_bytes(pickle.dumps(("event", t_s, what, detail)))
        if self.first:
            self.first = False
            if self.fault == "kill-worker":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.fault == "panic-worker":
                raise WorkerPanic("injected fault panic-worker")


def child_main(target, args, writer, name, origin_ns, fault, parent_pid):
    """A worker process: it dies with its parent, leaves Ctrl-C to the parent, runs its
    target, and sends its result. A target that raises ends the process with code 101."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not oslib.die_with_parent(parent_pid):
        os._exit(EXIT_PARENT_GONE)
    sink = PipeSink(name, writer, origin_ns, fault)
    try:
        result = ("result", target(sink, *args))
    except DemoFailed as e:
        result = ("failed", str(e))
    except BaseException as e:  # a worker's uncaught exception is its panic
        print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        os._exit(EXIT_PANICKED)
    writer.send_bytes(pickle.dumps(result))
    writer.close()
    # Returning lets multiprocessing flush what the target left in a Queue's buffer.


class Child:
    def __init__(self, name, process, reader):
        self.name = name
        self.process = process
        self.reader = reader
        self.first_event_at = None
        self.outcome = None
        self.ended = False
        self.joined = False


class Workers:
    """Child processes with the interface of `threads_backend.Workers`. A context manager:
    on leaving it, on success, an error or Ctrl-C, every child still alive is killed, and
    every child is reaped."""

    def __init__(self, run, method=None, deaths_expected=False):
        self.run = run
        self.method = method or run.kind["start_method"]
        self.context = multiprocessing.get_context(self.method)
        self.children = []
        # crash: a worker's death is the lesson, and each is joined on its own.
        self.deaths_expected = deaths_expected

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for child in self.children:
            if child.process.is_alive():
                child.process.kill()
            child.process.join()
            child.process.close()
            child.reader.close()
        return False

    def start(self, name, target, *args):
        index = len(self.children)
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=child_main, name=name,
            args=(target, args, writer, name, self.run.trace.origin_ns,
                  self.run.fault_for(index),
                  None if self.method == "forkserver" else os.getpid()))
        asked_at = self.run.trace.now_s()
        sys.stdout.flush()  # a forked child must not inherit unwritten output
        process.start()
        # The parent's copy of the child's end closes: the child holds the only one.
        writer.close()
        child = Child(name, process, reader)
        self.children.append(child)
        self.run.count_worker()
        self.run.set_figure("results_via",
                            f"pickled over the worker's pipe (multiprocessing.Pipe, "
                            f"started by {self.method})")
        while child.first_event_at is None and not child.ended:
            self.pump(0.1)
            self.stop_at_a_death()
        first = child.first_event_at
        if first is not None:
            self.run.first_event_after((first - asked_at) * 1e6)
        return index

    def pump(self, timeout):
        """Records what the children sent, and notices those that ended, waiting at most
        `timeout` for something to happen."""
        live = [c for c in self.children if not c.ended]
        handles = [c.reader for c in live] + [c.process.sentinel for c in live]
        ready = multiprocessing.connection.wait(handles, timeout)
        for child in live:
            if child.reader in ready:
                self.receive(child)
            if child.process.sentinel in ready:
                # Everything it sent before it ended is in its pipe: read it all first.
                while self.receive(child):
                    pass
                child.process.join()
                child.ended = True

    def receive(self, child):
        """Reads one message of `child` if one is there; False when none is."""
        try:
            if not child.reader.poll(0):
                return False
            payload = child.reader.recv_bytes()
        except (EOFError, OSError):
            return False
        self.run.count_ipc_message(len(payload))
        message = pickle.loads(payload)
        if message[0] == "event":
            _, t_s, what, detail = message
            self.run.trace.record(runner.Event(t_s=t_s, worker=child.name, what=what,
                                               detail=detail))
            if child.first_event_at is None:
                child.first_event_at = t_s
        else:
            child.outcome = message
        return True

    def stop_at_a_death(self):
        """A worker that died is reported, not waited for: a new worker may be waiting on
        something the dead one held (a lock)."""
        if not self.deaths_expected:
            for child in self.children:
                if child.ended and child.outcome is None and not child.joined:
                    self._reap(child)

    def join(self, index):
        child = self.children[index]
        while not child.ended:
            self.pump(0.1)
        return self._reap(child)

    def join_all(self):
        """Every result in start order; at the first child that died, raises (the others are
        killed and reaped on leaving the `with`)."""
        waiting = [c for c in self.children if not c.joined]
        results = {}
        while waiting:
            if not any(c.ended for c in waiting):
                self.pump(0.1)
            for child in [c for c in waiting if c.ended]:
                results[child.name] = self._reap(child)
                waiting.remove(child)
        return [results[c.name] for c in self.children if c.name in results]

    def alive(self, index):
        self.pump(0)
        return not self.children[index].ended

    @staticmethod
    def _reap(child):
        child.joined = True
        if child.outcome is not None:
            kind, value = child.outcome
            if kind == "failed":
                raise DemoFailed(value)
            return value
        code = child.process.exitcode
        if code == EXIT_PANICKED:
            raise WorkerDied(child.name, f"exited with code {EXIT_PANICKED} (it panicked)")
        if code is not None and code < 0:
            raise WorkerDied(child.name, f"was killed by signal {contract.signal_name(-code)}")
        if code:
            raise WorkerDied(child.name, f"exited with code {code}")
        raise WorkerDied(child.name, "exited without sending its result")


# --- the demos, in catalogue order --------------------------------------------------


def start(run):
    with Workers(run) as workers:
        t1 = workers.start("t1", contract.sleeper, run.seconds(contract.START_SLEEP_S))
        for _ in range(contract.HELLOS):
            run.main_says("hello")
        # The notebook relies on Python waiting for its children at exit; wait explicitly.
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
        # Each (number, value) is computed in the child, pickled and sent over its pipe.
        values = workers.join_all()
    return {"values": {str(number): value for number, value in values}}


LOCK_SHARED_VIA = ("shared memory: multiprocessing.Value('Q') as the counter, its own lock "
                   "(a process-shared POSIX semaphore) around each loop")


def lock(run):
    run.set_figure("shared_via", LOCK_SHARED_VIA)
    run.note("not_possible_in_python",
             "a robust lock: a worker killed holding the Value's lock never releases it "
             "(a POSIX semaphore has no owner-died state), so the parent kills the others")
    count = run.count()
    locked = lock_locked(run, count)
    unlocked = lock_unlocked(run, count)
    plain = lock_plain(run, count)
    return {"count": count, "locked": locked, "unlocked": unlocked, "plain": plain}


def locked_loop(out, counter, delta, count):
    with counter.get_lock():
        out.emit("acquired", f"{contract.signed(delta)} × {count}")
        raw = counter.get_obj()
        started = time.perf_counter_ns()
        for _ in range(count):
            raw.value = contract.updated(raw.value, delta)
        nanos = time.perf_counter_ns() - started
        out.emit("done")
    return nanos


def lock_locked(run, count):
    with Workers(run) as workers:
        counter = workers.context.Value("Q", 0)
        for index, delta in enumerate(contract.LOCK_DELTAS):
            workers.start(contract.worker_from_one(index), locked_loop, counter, delta, count)
        loops = workers.join_all()
    # Every worker has ended: the parent reads the counter in the shared memory.
    return report_tally(run, "locked", counter.value, loops, count)


def unlocked_loop(out, counter, start_line, delta, count):
    out.emit("adding", f"{contract.signed(delta)} × {count}, no lock")
    if not start_line.wait(contract.START_LINE_LIMIT_S):
        raise DemoFailed("a worker stopped, yet none died: the start line never opened")
    started = time.perf_counter_ns()
    for _ in range(count):
        # A separate load and store: another process may write between them.
        word = counter.value
        counter.value = contract.updated(word, delta)
    nanos = time.perf_counter_ns() - started
    out.emit("done")
    return nanos


def lock_unlocked(run, count):
    with Workers(run) as workers:
        counter = workers.context.Value("Q", 0, lock=False)
        start_line = workers.context.Event()
        for index, delta in enumerate(contract.LOCK_DELTAS):
            workers.start(contract.worker_from_one(index), unlocked_loop, counter, start_line,
                          delta, count)
        run.main_says("go", "all four loops at once")
        start_line.set()
        loops = workers.join_all()
    return report_tally(run, "unlocked", counter.value, loops, count)


# The plain counter: a module global, as the notebook's `x`. Each child has its own: a forked
# one a copy of the parent's, a spawned one a fresh import of this module.
PLAIN_COUNTER = 0


def plain_loop(out, delta, count):
    global PLAIN_COUNTER
    out.emit("adding", f"{contract.signed(delta)} × {count}, plain counter")
    for _ in range(count):
        PLAIN_COUNTER = contract.updated(PLAIN_COUNTER, delta)
    out.emit("done")
    return PLAIN_COUNTER


def lock_plain(run, count):
    with Workers(run) as workers:
        for index, delta in enumerate(contract.LOCK_DELTAS):
            workers.start(contract.worker_from_one(index), plain_loop, delta, count)
        own = workers.join_all()
    # Each child counted in its own copy of the global: the parent's was never touched.
    plain = contract.plain_counter(run.kind["worker"], False, PLAIN_COUNTER, own, count)
    run.main_says("plain total", contract.describe_plain(plain))
    return plain


def report_tally(run, variant, word, loops, count):
    made = count * len(contract.LOCK_DELTAS)
    tally = contract.tally(word, made)
    run.measured(f"ns_per_update_{variant}", sum(loops) / made)
    run.main_says(f"{variant} total", contract.describe_tally(tally))
    return tally


QUEUE_SHARED_VIA = ("a manager's server process: queue.Queue, LifoQueue and PriorityQueue "
                    "behind proxies, each put and get a request and a reply over a socket")


class QueueManager(multiprocessing.managers.BaseManager):
    """A manager that holds the notebook's three kinds of queue in its server process."""


QueueManager.register("Queue", queue.Queue)
QueueManager.register("LifoQueue", queue.LifoQueue)
QueueManager.register("PriorityQueue", queue.PriorityQueue)


class Manager:
    """A QueueManager whose server dies with this process and is shut down on leaving."""

    def __init__(self, context):
        self.manager = QueueManager(ctx=context)

    def __enter__(self):
        self.manager.start(initializer=oslib.die_with_parent, initargs=(os.getpid(),))
        return self.manager

    def __exit__(self, *exc):
        self.manager.shutdown()
        return False


def queue_demo(run):
    run.set_figure("shared_via", QUEUE_SHARED_VIA)
    timeout = contract.GET_TIMEOUT_S
    got = produce_and_consume(run, timeout)
    tasks_joined(run, timeout)
    timed_returned = timed_pass(run, timeout)
    raw_round_trips(run)
    return contract.queue_outcome(got, timed_returned, run.count(),
                                  contract.join_order(run.trace.sorted_events()))


def make_queues(manager):
    return {"fifo": manager.Queue(), "lifo": manager.LifoQueue(),
            "priority": manager.PriorityQueue(), "priority-pairs": manager.PriorityQueue(),
            "ready": manager.Queue()}


def produce_and_consume(run, timeout):
    context = multiprocessing.get_context(run.kind["start_method"])
    with Manager(context) as manager, Workers(run) as workers:
        queues = make_queues(manager)
        workers.start("producer", contract.produce, queues)
        consumer = workers.start("consumer", contract.consume, queues, timeout)
        results = workers.join_all()
    return results[consumer]


def tasks_joined(run, timeout):
    """The notebook's `q.join()` on a manager's queue: the count of unfinished tasks lives in
    the manager's server process with the queue; the tasker joins, the helper marks each done."""
    context = multiprocessing.get_context(run.kind["start_method"])
    with Manager(context) as manager, Workers(run) as workers:
        tasks = manager.Queue()
        workers.start(contract.TASKER, contract.give_tasks_and_join, tasks, contract.TASKS)
        workers.start(contract.HELPER, contract.do_tasks, tasks, contract.TASKS, timeout)
        workers.join_all()


def timed_worker(out, managed, direct, count, timeout):
    out.emit("timing", f"{count} × (put, get)")
    ns = contract.timed_put_get(managed, count, timeout)
    ns_direct = contract.timed_put_get(direct, count, timeout)
    direct.close()
    direct.join_thread()
    return ns, ns_direct


def timed_pass(run, timeout):
    count = run.count()
    context = multiprocessing.get_context(run.kind["start_method"])
    with Manager(context) as manager, Workers(run) as workers:
        # The parent keeps its proxy: the managed queue lives while a proxy to it does, and a
        # spawned child's proxy is made only when the child unpickles its arguments.
        managed, direct = manager.Queue(), context.Queue()
        workers.start("timer", timed_worker, managed, direct, count, timeout)
        ns, ns_direct = workers.join_all()[0]
    run.measured("ns_per_put_get", ns)
    run.measured("ns_per_mp_queue_put_get", ns_direct)
    return count


def raw_round_trips(run):
    with Workers(run) as workers:
        workers.start("baseline", contract.raw_round_trips, run.count())
        in_memory, pipe = workers.join_all()[0]
    run.measured("ns_per_simplequeue_round_trip", in_memory)
    run.measured("ns_per_pipe_round_trip", pipe)


EVENT_SHARED_VIA = ("shared memory: multiprocessing.Event (a process-shared semaphore and "
                    "condition); the set time a multiprocessing.Value")


class SetTime:
    """When the main flow set `go`: a 64-bit value in shared memory."""

    def __init__(self, context):
        self.ns = context.Value("Q", 0, lock=False)

    def put(self, ns):
        self.ns.value = ns

    def get(self):
        return self.ns.value


def event(run):
    run.set_figure("shared_via", EVENT_SHARED_VIA)
    flag_and_ops(run)
    outcome = contract.event_outcome(run.trace.sorted_events(), run.seed())
    wake_up_trials(run)
    return outcome


def flag_and_ops(run):
    set_after, clear_after = run.seconds(contract.SET_AFTER_S), run.seconds(contract.CLEAR_AFTER_S)
    with Workers(run) as workers:
        the_event = workers.context.Event()
        workers.start("flag", contract.flag, the_event, set_after, clear_after)
        ops = workers.start("ops", contract.ops, the_event, run.seed(),
                            run.seconds(contract.DRAW_EVERY_S), contract.wait_limit_s(set_after))
        results = workers.join_all()
    _, wait_cpu_us, wait_wall_us = results[ops]
    run.measured("ops_wait_cpu_us", wait_cpu_us)
    run.measured("ops_wait_wall_us", wait_wall_us)


def wake_up_trials(run):
    trials = run.trials()
    with Workers(run) as workers:
        go, done, set_at = workers.context.Event(), workers.context.Event(), SetTime(
            workers.context)
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
    """A worker of the concurrent pass: its own client, built in the child; URLs from the
    shared FIFO queue until it takes the end marker the parent put there for it."""
    opener = settings.opener()
    out.emit("ready")
    downloads = []
    while (item := urls.get()) is not None:
        url, name = item
        downloads.append(download.fetch_one(out, opener, url, name, folder, settings))
    return downloads


def concurrent_pass(run, plan):
    folder = plan.pass_folder("concurrent")
    run.main_says("pass", f"concurrent, {plan.workers} workers")
    started = time.perf_counter()
    with Workers(run) as workers:
        # The queue is a pipe every child reads (multiprocessing.SimpleQueue): the URLs, then
        # one end marker per worker, all written before any worker starts.
        urls = workers.context.SimpleQueue()
        for url in plan.urls:
            urls.put(url)
        for _ in range(plan.workers):
            urls.put(None)
        for index in range(plan.workers):
            workers.start(contract.worker_from_zero(index), fetch_from_queue, urls, folder,
                          plan.settings)
        downloads = [d for result in workers.join_all() for d in result]
        urls.close()
    run.set_figure("results_via", "each child writes its files; name, length and sha256 come "
                                  "back pickled over its pipe; the parent reads the files back")
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
    outcome = {"n": n, "expected": contract.primes_below_by_sieve(n), "passes": []}
    for worker_count in range(1, most_workers + 1):
        started = time.perf_counter()
        with Workers(run) as workers:
            for index in range(worker_count):
                chunks = contract.prime_chunks(index, worker_count, n)
                workers.start(contract.worker_from_zero(index), contract.count_prime_chunks,
                              chunks)
            # Each process has its own interpreter and its own GIL: they run in parallel.
            primes = sum(workers.join_all())
        contract.record_cpu_pass(run, outcome, worker_count, primes,
                                 time.perf_counter() - started)
    return outcome


def crash(run):
    faults = [run.args.fault] if run.args.fault else list(contract.CRASH_FAULTS)
    rounds = []
    doomed = contract.worker_from_one(contract.CRASH_DOOMED)
    for fault in faults:
        run.main_says("round", f"{doomed} dies by {fault}")
        # A child dies alone: every round runs here, and the parent reads how it died.
        round_ = round_here(run, fault)
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


def nothing(out):
    """spawn's job: nothing at all."""


def bare_start_and_reap(method):
    """The bare cost. fork: `os.fork`, the child `_exit`s at once, the parent `waitpid`s.
    spawn: a fresh interpreter (`posix_spawn` of `python -c pass`), then `waitpid`."""
    if method == "fork":
        pid = os.fork()
        if pid == 0:
            os._exit(0)
    else:
        pid = os.posix_spawn(sys.executable, [sys.executable, "-c", "pass"], os.environ)
    os.waitpid(pid, 0)


def spawn(run):
    count = run.count()
    method = run.kind["start_method"]
    joined = 0
    with Workers(run) as workers:
        def through_workers():
            nonlocal joined
            workers.join(workers.start("t0", nothing))
            joined += 1

        raw_method = "spawn" if method == "spawn" else "fork"
        through, raw = contract.time_alternately(
            count, through_workers, lambda: bare_start_and_reap(raw_method))
        contract.record_spawn_costs(run, through, raw)
        contract.record_method_costs(run, method, through,
                                     raw if method != "forkserver" else None)
        joined_in_the_run = joined
        # The same with this process pinned to one core, whose children inherit it: not for
        # a forkserver's workers, which the server forks on its own CPUs.
        cpu = contract.one_core()
        if method == "forkserver":
            run.note("worker_start_join_one_core_us",
                     "not measured: a forkserver's workers start on the server's CPUs, not on "
                     "this process's one core")
        elif cpu is None:
            run.note("worker_start_join_one_core_us",
                     "not measured: the kernel did not say which CPUs this process may use")
        else:
            through, raw = contract.on_cpu(cpu, lambda: contract.time_alternately(
                count, through_workers, lambda: bare_start_and_reap(raw_method)))
            contract.record_spawn_costs_on_one_core(run, through, raw)
        joined = joined_in_the_run
        run.main_says("started and joined", f"{joined} workers, one after another")
        # --workers N: N processes alive at once before the first is reaped.
        if run.args.workers:
            def all_at_once():
                for index in range(run.args.workers):
                    workers.start(f"t{index}", nothing)
                workers.join_all()

            passes = contract.time_each(contract.ALL_AT_ONCE_PASSES, all_at_once)
            contract.record_all_at_once(run, run.args.workers, passes)

    # The other start methods, measured in this same run.
    for other in (m for m in START_METHODS if m != method):
        with Workers(run, other) as workers:
            through = contract.time_each(max(count // 10, 5),
                                         lambda: workers.join(workers.start("t0", nothing)))
        raw = None
        if other != "forkserver":
            raw = contract.time_each(max(count // 10, 5), lambda: bare_start_and_reap(other))
        contract.record_method_costs(run, other, through, raw)

    # fork copies the parent's page tables: the more memory it touched, the dearer the fork.
    for mib in contract.touched_mib(run):
        memory = contract.touch_memory(mib)
        raw = contract.time_each(contract.touched_starts(run), lambda: bare_start_and_reap("fork"))
        del memory
        contract.record_touched_cost(run, mib, raw)
    return {"started": count, "joined": joined}


class QueueEnds:
    """One end of a pair of multiprocessing.Queue: pickled, written by a feeder thread into
    a pipe. A receive notices a peer that died (a Queue has no end of its own)."""

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

    def close(self):
        for q in (self.outbox, self.inbox):
            q.close()
            q.join_thread()


class PipeEnds:
    """One end of a multiprocessing.Pipe: raw bytes (send_bytes), no pickling."""

    def __init__(self, connection):
        self.connection = connection

    def send(self, data):
        self.connection.send_bytes(data)

    def receive(self, size):
        try:
            return self.connection.recv_bytes()
        except EOFError:
            raise DemoFailed("the peer: it closed its end")

    def close(self):
        self.connection.close()


class SocketEnds(contract.StreamEnds):
    def close(self):
        self.sock.close()


def channel(run):
    count = run.count()
    outcome = {"paths": []}
    context = multiprocessing.get_context(run.kind["start_method"])
    for size in contract.message_sizes(run):
        to_peer, to_main = context.Queue(), context.Queue()
        contract.record_path(run, outcome, "channel", size,
                             measure(run, count, size, QueueEnds(to_main, to_peer),
                                     QueueEnds(to_peer, to_main)))
        peer_end, main_end = context.Pipe()
        contract.record_path(run, outcome, "raw", size,
                             measure(run, count, size, PipeEnds(peer_end), PipeEnds(main_end)))
        contract.record_channel_over_raw(run, size)
        peer_socket, main_socket = socket.socketpair()
        contract.record_figures(run, "socketpair", size,
                                measure(run, count, size, SocketEnds(peer_socket),
                                        SocketEnds(main_socket)))
    run.note("paths", "channel: multiprocessing.Queue (pickled, a feeder thread, a pipe); raw: "
                      "multiprocessing.Pipe send_bytes; socketpair: socket.socketpair")
    return outcome


def peer_worker(out, ends, messages, size, round_trips):
    out.emit("ready")
    contract.peer(ends, messages, size, round_trips)
    if isinstance(ends, QueueEnds):
        ends.close()


def measure(run, count, size, peer_ends, main_ends):
    messages, round_trips = contract.message_counts(count, size)
    with Workers(run) as workers:
        peer = workers.start("peer", peer_worker, peer_ends, messages, size, round_trips)
        # The child holds its own copy now: a peer that dies must close the last one.
        if not isinstance(peer_ends, QueueEnds):
            peer_ends.close()
        main_ends.peer_alive = lambda: workers.alive(peer)
        try:
            figures = contract.main_side(main_ends, messages, size, round_trips)
        except DemoFailed as failed:
            figures = failed
        # Closing our ends ends a peer that still waits for us; a peer that died is
        # reported as such, before what its death did to the main flow.
        main_ends.close()
        workers.join(peer)
    if isinstance(figures, DemoFailed):
        raise figures
    return figures


DEMOS = {
    "start": start, "join": join, "run-hooks": run_hooks, "custom-init": custom_init,
    "lock": lock, "queue": queue_demo, "event": event, "download": download_demo, "cpu": cpu,
    "crash": crash, "spawn": spawn, "channel": channel,
}


def stop_helpers():
    """Stops the helper processes multiprocessing may have started (the forkserver, the
    resource tracker), so that nothing outlives the run."""
    from multiprocessing import forkserver, resource_tracker

    for helper in (forkserver._forkserver, resource_tracker._resource_tracker):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            try:
                stop()
            except (OSError, ChildProcessError):
                pass


BACKEND = runner.Backend(NAME, "process", True, START_METHODS, DEMOS, contract.check_outcome,
                         finish=stop_helpers)
