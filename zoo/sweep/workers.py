"""Local workers: N runs at once, each in its own process with its share of the cores.

    executor = LocalWorkers(2, "runs/long_range", echo=print)

Each worker is a `python -m zoo.sweep.child` process that trains the runs it
is sent, one at a time, on its own cores (`core_shares`) with its thread pools
capped to them (`backend_threads`). A worker keeps running between runs, so a
worker that trained one seed's data trains the next run on that data when one
is left (`choose`), without generating it again. Its output reaches the sweep's
log line by line, prefixed with its name (`[w1] Epoch 3/10`). A worker that
fails or is killed loses only the run it was training: the sweep reports that
run and starts a fresh worker for the rest.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from zoo.measure import backend_startup
from zoo.runner import load_record
from zoo.sweep import backend_threads

MARKER = "\x1ezoo-sweep-done"  # starts a worker's answer line (zoo.sweep.child)
# How a worker starts: on its cores first (so every thread the framework
# starts is there), then the backend without its C++ start-up lines, and only
# then the zoo's sweep package (which imports Keras) and the child's loop.
CHILD_BOOT = (
    "import os, sys\n"
    "cores = os.environ.get('ZOO_WORKER_CORES')\n"
    "if cores and hasattr(os, 'sched_setaffinity'):\n"
    "    os.sched_setaffinity(0, {int(c) for c in cores.split(',')})\n"
    "from zoo.measure import backend_startup\n"
    "backend_startup.start()\n"
    "from zoo.sweep.child import main\n"
    "sys.exit(main())\n"
)


def parse_workers(value):
    """`--workers` as given: a positive integer, `"auto"`, or None (no workers)."""
    if value is None or value == "auto":
        return value
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"--workers must be a positive integer or 'auto'; got {value!r}")
    return int(text)


def auto_workers(pending_runs, on_accelerator=False, cores=None):
    """How many workers `auto` starts: one per core (a CPU-sized run keeps one
    core busy), never more than the runs left; one on an accelerator, which
    the runs would otherwise share."""
    if on_accelerator:
        return 1
    cores = backend_threads.available_cores() if cores is None else cores
    return max(1, min(pending_runs, len(cores)))


def core_shares(count, cores):
    """`(threads, cores)` of each of `count` workers: the cores split evenly
    (one worker alone is not pinned); more workers than cores share them
    round-robin, one thread each."""
    if count == 1:
        return [(len(cores), None)]
    if count > len(cores):
        return [(1, [cores[index % len(cores)]]) for index in range(count)]
    share = len(cores) // count
    return [(share, cores[index * share:(index + 1) * share]) for index in range(count)]


def data_key(run):
    """Runs with the same key train on the same data (task, knobs, seed)."""
    return run.task, json.dumps(run.task_knobs, sort_keys=True, default=str), run.seed


def start_child(environment):
    """A worker process (`zoo.sweep.child`, started by `CHILD_BOOT`) with
    pipes to and from it."""
    with warnings.catch_warnings():
        # JAX warns at every fork; this one execs a fresh Python at once
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called",
                                category=RuntimeWarning)
        return subprocess.Popen(
            [sys.executable, "-u", "-c", CHILD_BOOT], env=environment,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)


class Worker:
    """One worker process and the run it trains."""

    RECENT_DATA = 4  # the runner keeps this many datasets (its BUILT_KEPT)

    def __init__(self, name, backend, threads, cores, events, echo):
        self.name, self.backend = name, backend
        environment = backend_threads.thread_environment(backend, threads)
        environment["ZOO_WORKER_THREADS"] = str(threads)
        environment["ZOO_WORKER_CORES"] = ",".join(str(core) for core in cores or ())
        # what the backend writes while it starts (silenced) lands here, to be
        # shown if the worker dies there
        handle, self.startup_log = tempfile.mkstemp(prefix=f"zoo-{name}-", suffix=".log")
        os.close(handle)
        environment[backend_startup.STARTUP_LOG_VARIABLE] = self.startup_log
        self.process = start_child(environment)
        self.current, self.started, self.trained, self.recent = None, None, 0, []
        self._events, self._echo = events, echo
        where = f"cores {','.join(map(str, cores))}" if cores else "all cores"
        echo(f"[{name}] worker pid {self.process.pid} on {backend}: "
             f"{threads} thread{'s' if threads > 1 else ''}, {where}")
        threading.Thread(target=self._read, daemon=True, name=f"zoo-{name}").start()

    def _read(self):
        for line in self.process.stdout:
            if line.startswith(MARKER):
                self._events.put(("done", self, json.loads(line[len(MARKER):])))
            else:
                self._echo(f"[{self.name}] {line.rstrip()}")
        status = self.process.wait()
        reason = f"exited with status {status}"
        last = backend_startup.startup_failure(self.startup_log)
        if last:  # the file is left only by a start that failed
            reason += f" as its backend started ({last})"
        try:
            os.unlink(self.startup_log)
        except OSError:
            pass
        self._events.put(("exit", self, reason))

    def send(self, position, run, out_dir):
        self.current, self.started = (position, run), time.monotonic()
        order = {"run": run.to_dict(), "out": str(Path(out_dir).resolve())}
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        key = data_key(run)
        self.recent = ([k for k in self.recent if k != key] + [key])[-self.RECENT_DATA:]

    def finish(self):
        """Ask the worker to exit once its run is done (it reads no more runs)."""
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()


class LocalWorkers:
    """The sweep's executor for `--workers N` (and `--isolate`, `--backend`:
    one worker, a fresh process per run or per backend)."""

    def __init__(self, count, out_dir, echo, runs_per_process=None, cores=None):
        self.capacity, self.out_dir, self.echo = count, out_dir, echo
        self.runs_per_process = runs_per_process
        self.shares = core_shares(count, cores or backend_threads.available_cores())
        self.slots = [None] * count
        self.events = queue.Queue()

    def running(self):
        return sum(1 for w in self.slots if w is not None and w.current is not None)

    def _free_slot(self):
        return next(i for i, w in enumerate(self.slots) if w is None or w.current is None)

    def choose(self, candidates):
        """Index in `candidates` (`(position, run, backend)`) of the run the next
        free worker trains: the first on data it holds, else the first."""
        worker = self.slots[self._free_slot()]
        if worker is not None:
            for index, (_, run, backend) in enumerate(candidates):
                if backend == worker.backend and data_key(run) in worker.recent:
                    return index
        return 0

    def next_worker(self):
        return f"w{self._free_slot() + 1}"

    def start(self, position, run, backend):
        """Send the run to a free worker (started or replaced as needed)."""
        slot = self._free_slot()
        worker = self.slots[slot]
        if worker is not None and (worker.backend != backend or worker.process.poll() is not None):
            worker.finish()
            worker = None
        if worker is None:
            threads, cores = self.shares[slot]
            worker = Worker(f"w{slot + 1}", backend, threads, cores, self.events, self.echo)
            self.slots[slot] = worker
        try:
            worker.send(position, run, self.out_dir)
        except BrokenPipeError:  # it died between runs: a fresh one takes the run
            worker.current = None
            worker.kill()
            self.slots[slot] = None
            self.start(position, run, backend)

    def running_runs(self):
        """`(worker name, run, seconds)` of every run in training."""
        now = time.monotonic()
        return [(w.name, w.current[1], now - w.started)
                for w in self.slots if w is not None and w.current is not None]

    def wait(self, timeout):
        """The runs that ended within `timeout` seconds: `(position, record, error)`."""
        outcomes = []
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            return outcomes
        while event is not None:
            outcome = self._handle(*event)
            if outcome is not None:
                outcomes.append(outcome)
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                event = None
        return outcomes

    def _handle(self, kind, worker, detail):
        if worker.current is None:
            return None  # a worker that exited between runs, as asked
        position, run = worker.current
        seconds = time.monotonic() - worker.started
        worker.current = None
        if kind == "exit":
            if worker in self.slots:
                self.slots[self.slots.index(worker)] = None
            return position, None, (f"worker {worker.name} (pid {worker.process.pid}), "
                                    f"sent this run, {detail}")
        worker.trained += 1
        if self.runs_per_process and worker.trained >= self.runs_per_process:
            worker.finish()
        record = load_record(self.out_dir, run)
        error = detail.get("error")
        if error is None and record is None:
            error = "the worker wrote no record"
        if error is None:
            self.echo(f"[{worker.name}] finished {run.run_id} in {seconds:.1f} s")
        return position, (record if error is None else None), error

    def close(self):
        for worker in self.slots:
            if worker is not None:
                worker.finish()
        deadline = time.monotonic() + 10
        for worker in self.slots:
            if worker is None:
                continue
            if worker.current is not None:
                worker.kill()  # the sweep is stopping (an error, Ctrl-C): its run is lost
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
