"""One run, one trainer: a lock file next to a run's record while it trains.

    keeper = LockKeeper("runs/long_range")
    lock = keeper.acquire(run.run_id)      # None: another live sweep trains it
    ...                                    # train; the runner writes metrics.json last
    keeper.release(run.run_id)

`<out>/<run_id>/trainer.lock` is created with `O_CREAT | O_EXCL`, so of two
sweeps that reach a run at once exactly one gets it. It holds the host, the
pid (and, on Linux, the pid's start time, so a reused pid is not mistaken for
the trainer), the start time and a random token naming its owner. While the
sweep lives, a thread touches its locks every `HEARTBEAT_SECONDS`.

A lock is stale, and is taken over, when its trainer is gone: on this host,
its pid is dead (or belongs to a newer process); from another host, it was
not touched for `STALE_AFTER_SECONDS`. Two sweeps that find the same stale
lock take it over one at a time (a short-lived `trainer.lock.takeover` file,
also created with `O_EXCL`), so only one of them trains the run.

The lock never decides whether a run is finished: `metrics.json` does, and
the runner writes it last and atomically, so SIGKILL at any moment loses no
finished run; a killed sweep's locks are stale at once on its own host.
"""

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from zoo.record import pid_exists

LOCK_FILE = "trainer.lock"
TAKEOVER_SUFFIX = ".takeover"
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 600.0  # a lock from another host not touched for this long is stale
TAKEOVER_STALE_SECONDS = 60.0  # a takeover file older than this was left by a killed sweep


def lock_path(out_dir, run_id):
    return Path(out_dir) / run_id / LOCK_FILE


def _process_status(pid):
    """`(state, start time in clock ticks after boot)` of process `pid` (Linux), else None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces; count the fields after it
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def process_start_time(pid):
    """The start time of process `pid` in clock ticks after boot (Linux), else None."""
    status = _process_status(pid)
    return None if status is None else status[1]


def pid_alive(pid, started=None):
    """Whether process `pid` on this host runs (not a zombie and, given
    `started`, the same process that held that pid then)."""
    if not pid_exists(pid):
        return False
    status = _process_status(pid)
    if status is None:
        return True  # no /proc: the signal said it exists
    state, start_time = status
    return state not in ("Z", "X") and (started is None or start_time == started)


def describe(holder):
    """`host:pid since HH:MM:SS` of a lock's contents."""
    return (f"{holder.get('host', '?')}:{holder.get('pid', '?')} since "
            f"{holder.get('started', '?')}")


def read_lock(path):
    """The lock's contents, `{}` for a lock being written, None when there is none."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {}  # created, its contents not yet written


def is_stale(path, holder, now=None):
    """Whether the lock at `path` with contents `holder` was left by a trainer
    that is gone."""
    now = time.time() if now is None else now
    try:
        age = now - Path(path).stat().st_mtime
    except FileNotFoundError:
        return True
    if not holder or holder.get("host") != socket.gethostname():
        # another host (or contents never written): only its age tells
        return age > STALE_AFTER_SECONDS
    return not pid_alive(holder["pid"], holder.get("pid_started"))


def _create_exclusively(path, payload):
    """Create `path` holding `payload`; False when it already exists."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as f:
        f.write(json.dumps(payload))
    return True


class LockKeeper:
    """The locks one sweep holds in `out_dir`, kept fresh by a heartbeat thread."""

    def __init__(self, out_dir, heartbeat_seconds=HEARTBEAT_SECONDS):
        self.out_dir = Path(out_dir)
        self.held = {}  # run_id -> token
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, args=(heartbeat_seconds,), daemon=True, name="zoo-lock-heartbeat")
        self._heartbeat.start()

    def _payload(self, token):
        pid = os.getpid()
        return {"host": socket.gethostname(), "pid": pid, "pid_started": process_start_time(pid),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "token": token}

    def acquire(self, run_id):
        """Lock run `run_id` for this sweep: True, or False when a live trainer holds it."""
        path = lock_path(self.out_dir, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        if not (_create_exclusively(path, self._payload(token))
                or self._take_over(path, token)):
            return False
        with self._mutex:
            self.held[run_id] = token
        return True

    def _take_over(self, path, token):
        holder = read_lock(path)
        if holder is not None and not is_stale(path, holder):
            return False
        takeover = path.with_name(path.name + TAKEOVER_SUFFIX)
        try:
            if time.time() - takeover.stat().st_mtime > TAKEOVER_STALE_SECONDS:
                takeover.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
        if not _create_exclusively(takeover, {"pid": os.getpid()}):
            return False  # another sweep is taking it over right now
        try:
            # judged again under the takeover file: the lock may have changed hands
            current = read_lock(path)
            if current is not None:
                if current != holder or not is_stale(path, current):
                    return False
                path.unlink(missing_ok=True)
            return _create_exclusively(path, self._payload(token))
        finally:
            takeover.unlink(missing_ok=True)

    def holder(self, run_id):
        """The contents of run `run_id`'s lock, or None when it has none."""
        return read_lock(lock_path(self.out_dir, run_id))

    def is_free(self, run_id):
        """Whether run `run_id` has no lock or a stale one (it may be trained here)."""
        path = lock_path(self.out_dir, run_id)
        holder = read_lock(path)
        return holder is None or is_stale(path, holder)

    def release(self, run_id):
        """Remove this sweep's lock on `run_id` (a lock taken over by another is left)."""
        with self._mutex:
            token = self.held.pop(run_id, None)
        if token is None:
            return
        path = lock_path(self.out_dir, run_id)
        if (read_lock(path) or {}).get("token") == token:
            path.unlink(missing_ok=True)

    def release_all(self):
        self._stop.set()
        for run_id in list(self.held):
            self.release(run_id)

    def _beat(self, seconds):
        while not self._stop.wait(seconds):
            with self._mutex:
                held = list(self.held)
            for run_id in held:
                try:
                    os.utime(lock_path(self.out_dir, run_id))
                except FileNotFoundError:
                    pass
