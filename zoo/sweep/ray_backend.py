"""Ray: each run a Ray task, on this machine or on a cluster, no shared filesystem.

    zoo run long_range --ray                 # a local Ray instance (or RAY_ADDRESS)
    zoo run long_range --ray HEAD:6379       # the cluster `ray start --head` started

A task trains its run on the node Ray picks, in a scratch folder there, in a
`python -m zoo.sweep.child` process that its Ray worker keeps for its next
tasks (no import per run; data drawn for one run serves the next on it), and
returns the run folder's files (config, history, metrics: a few kB) as bytes. The driver writes them into
`--out`, the record last and atomically, so nodes share no filesystem and a
driver killed at any moment loses no finished run. Each task asks Ray for the
resources of one run of the profile (`resources`). Ray is an optional extra:
`pip install 'zoo[ray]'`; every node needs zoo installed.
"""

import json
import os
import socket
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

from zoo import record as records
from zoo.runner import load_record
from zoo.sweep import backend_threads
from zoo.sweep.workers import MARKER, start_child

EXTRA = "pip install 'zoo[ray]'"
RETURNED_BYTES = 16 * 2**20  # files of a run folder larger than this stay on the node
CONNECT_SECONDS = 5.0


def require_ray():
    """The `ray` module; ValueError naming the extra when it is not installed."""
    try:
        import ray
    except ImportError as error:
        raise ValueError(f"--ray needs Ray, which is not installed: {EXTRA}") from error
    return ray


def check_reachable(address):
    """ValueError when nothing listens at `host:port` (or `ray://host:port`)."""
    host_port = address.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"--ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, the head "
            "node's `ray start --head` address), ray://HOST:PORT or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as error:
        raise ValueError(
            f"No Ray cluster reachable at {address!r} ({error}); start one with "
            "`ray start --head` on the head node, or give `--ray` no address to "
            "start one here") from error


def connect(address=None):
    """Connect to the cluster at `address` (None: Ray's default, a local
    instance); whether this call started Ray (and so should shut it down)."""
    ray = require_ray()
    if address not in (None, "auto"):
        check_reachable(address)
    if ray.is_initialized():
        return False
    if not sys.stdout.isatty():
        # Ray colours the `(train_remotely pid=...)` prefix of every forwarded
        # line; in a log file that is escape codes. A user's choice stands.
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    try:
        ray.init(address=address, log_to_driver=True)
    except (ConnectionError, RuntimeError) as error:
        raise ValueError(f"Cannot connect to Ray at {address!r}: {error}") from error
    return True


def resources(profile, cluster):
    """Ray resources of one run: one CPU (`quick`, the CPU-sized runs); with
    `full`, one GPU too where the cluster has GPUs."""
    wanted = {"num_cpus": 1}
    if profile == "full" and cluster.get("GPU", 0) >= 1:
        wanted["num_gpus"] = 1
    return wanted


_CHILDREN = {}  # in a Ray worker process: (backend, threads, GPUs) -> its zoo.sweep.child


def _child(backend, threads):
    """This Ray worker's training process for `backend`, started on first use
    and kept for its next tasks (their data stays cached; no import per run)."""
    key = (backend, threads, os.environ.get("CUDA_VISIBLE_DEVICES"))
    child = _CHILDREN.get(key)
    if child is None or child.poll() is not None:
        environment = backend_threads.thread_environment(backend, threads)
        environment["ZOO_WORKER_THREADS"] = str(threads)
        child = start_child(environment)
        _CHILDREN[key] = child
    return child


def train_remotely(run_dict, backend, threads):
    """A Ray task's body: train one run in this node's training process, in a
    scratch folder; the run folder's files as bytes (`{"files", "error", "host"}`)."""
    child = _child(backend, threads)
    with tempfile.TemporaryDirectory(prefix="zoo-ray-") as scratch:
        child.stdin.write(json.dumps({"run": run_dict, "out": scratch}) + "\n")
        child.stdin.flush()
        error, tail, answered = None, deque(maxlen=20), False
        for line in child.stdout:
            if line.startswith(MARKER):
                error, answered = json.loads(line[len(MARKER):])["error"], True
                break
            print(line, end="", flush=True)  # Ray forwards it to the driver
            tail.append(line)
        if not answered:
            error = (f"its process exited with status {child.wait()}: "
                     f"{''.join(tail)[-2000:]}")
        files = {}
        for folder in Path(scratch).iterdir():
            for path in folder.iterdir():
                if path.is_file() and path.stat().st_size <= RETURNED_BYTES:
                    files[path.name] = path.read_bytes()
    return {"files": files, "error": error, "host": socket.gethostname()}


def write_run_files(out_dir, run_id, files):
    """Write a run's returned files into `out_dir/run_id/`, each atomically,
    the record last."""
    folder = Path(out_dir) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(files, key=lambda name: name == records.RECORD_FILE)
    for name in names:
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(files[name])
        os.replace(tmp, folder / name)


class RayTasks:
    """The sweep's executor for `--ray`: as many runs in flight as the
    cluster has room for, each a Ray task."""

    def __init__(self, address, out_dir, profile, echo):
        self.started_ray = connect(None if address in (None, True, "") else address)
        self.ray = require_ray()
        cluster = self.ray.cluster_resources()
        self.resources = resources(profile, cluster)
        room = cluster.get("CPU", 1) // self.resources["num_cpus"]
        if "num_gpus" in self.resources:
            room = min(room, cluster.get("GPU", 1) // self.resources["num_gpus"])
        self.capacity = max(1, int(room))
        self.out_dir, self.echo = out_dir, echo
        self.task = self.ray.remote(max_retries=1)(train_remotely).options(**self.resources)
        self.in_flight = {}  # object ref -> (position, run, time started)
        echo(f"Ray: {int(cluster.get('CPU', 0))} CPUs, {int(cluster.get('GPU', 0))} GPUs; "
             f"{self.resources} per run, up to {self.capacity} at once")

    def running(self):
        return len(self.in_flight)

    def choose(self, candidates):
        return 0

    def next_worker(self):
        return "ray"

    def start(self, position, run, backend):
        reference = self.task.remote(run.to_dict(), backend, int(self.resources["num_cpus"]))
        self.in_flight[reference] = (position, run, time.monotonic())

    def running_runs(self):
        now = time.monotonic()
        return [("ray", run, now - began) for _, run, began in self.in_flight.values()]

    def wait(self, timeout):
        if not self.in_flight:
            return []
        ready, _ = self.ray.wait(list(self.in_flight), num_returns=1, timeout=timeout)
        if ready:  # and whatever else is done by now
            ready, _ = self.ray.wait(list(self.in_flight), num_returns=len(self.in_flight),
                                     timeout=0)
        outcomes = []
        for reference in ready:
            position, run, began = self.in_flight.pop(reference)
            try:
                result = self.ray.get(reference)
            except Exception as failure:  # noqa: BLE001 (the task failed: its node died, ...)
                outcomes.append((position, None, f"Ray task failed: {failure}"))
                continue
            if result["error"] is None and records.RECORD_FILE in result["files"]:
                write_run_files(self.out_dir, run.run_id, result["files"])
                self.echo(f"[ray] finished {run.run_id} on {result['host']} in "
                          f"{time.monotonic() - began:.1f} s")
                outcomes.append((position, load_record(self.out_dir, run), None))
            else:
                outcomes.append((position, None, result["error"] or "no record came back"))
        return outcomes

    def close(self):
        for reference in self.in_flight:
            self.ray.cancel(reference, force=True)
        self.in_flight.clear()
        if self.started_ray:
            self.ray.shutdown()
