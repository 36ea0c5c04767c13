"""The sweep's loop: hand unfinished runs to an executor, one trainer per run.

An executor trains runs (`InProcess`, `workers.LocalWorkers`,
`ray_backend.RayTasks`); this loop decides which run goes next, locks it
(`locks`), reports progress, and collects records and failures. A run that
another live sweep holds is skipped and, once this sweep's own runs are done,
waited for: its record is read when it appears, and the run is trained here
after all if that sweep lets go of it (it failed, or was killed).

Executor interface: `capacity`, `running()`, `choose(candidates)`,
`next_worker()` (the name of the one `start` uses, or None),
`start(position, run, backend)`, `wait(timeout) ->
[(position, record or None, error or None)]`, `running_runs()`, `close()`.
"""

import threading
import time

from zoo.runner import load_record
from zoo.sweep import locks

POLL_SECONDS = 2.0  # how often runs held by another sweep are looked at


class InProcess:
    """Trains each run in this process, one at a time (`train(run)` -> record)."""

    capacity = 1

    def __init__(self, train):
        self.train, self.done = train, []

    def running(self):
        return len(self.done)

    def choose(self, candidates):
        return 0

    def next_worker(self):
        return None

    def start(self, position, run, backend):
        self.done.append((position, self.train(run), None))

    def wait(self, timeout):
        done, self.done = self.done, []
        return done

    def running_runs(self):
        return []

    def close(self):
        pass


def describe_run(run, backend, current_backend):
    knobs = " ".join(f"{k}={v}" for k, v in run.task_knobs.items() if not k.startswith("num_"))
    where = "" if backend == current_backend else f" [{backend}]"
    return f"{run.model} on {run.task} {knobs} seed {run.seed}{where}"


class Progress:
    """Which run started where, how many are left, and one ETA for the sweep."""

    def __init__(self, total, capacity, echo):
        self.total, self.capacity, self.echo = total, capacity, echo
        self.durations, self.started_at = [], {}
        self.began = time.perf_counter()

    def started(self, position, text, worker, left, running):
        self.started_at[position] = time.perf_counter()
        line = f"[{position + 1}/{self.total}] {text}"
        if worker:
            line += f" -> {worker}"
        if self.durations:
            remaining = left + running + 1
            per_run = sum(self.durations) / len(self.durations)
            minutes = per_run * remaining / min(self.capacity, remaining) / 60
            line += f", {left + 1} left, about {minutes:.1f} min"
        self.echo(line)

    def show_running(self, running_runs):
        if self.capacity > 1 and len(running_runs) > 1:
            self.echo("    running: " + ", ".join(
                f"{name} {run.run_id} ({seconds:.0f} s)" for name, run, seconds in running_runs))

    def finished(self, position):
        began = self.started_at.pop(position, None)
        if began is not None:
            self.durations.append(time.perf_counter() - began)

    def wall_seconds(self):
        return time.perf_counter() - self.began


def drive(plan, out_dir, executor, echo, current_backend):
    """Train the unfinished runs of `plan` (`[(run, backend)]`) with `executor`.

    Returns every run's record in `plan`'s order. Runs that failed are
    reported together at the end (RuntimeError) after the others trained.
    """
    poll_seconds = POLL_SECONDS
    lock = threading.Lock()

    def say(text):
        with lock:
            echo(text)

    total = len(plan)
    records, pending, elsewhere, failures = [None] * total, [], [], []
    before = 0
    for position, (run, _) in enumerate(plan):
        records[position] = load_record(out_dir, run)
        if records[position] is None:
            pending.append(position)
        else:
            before += 1
            say(f"[{position + 1}/{total}] {run.run_id}: done before, skipped")
    keeper = locks.LockKeeper(out_dir)
    progress = Progress(total, executor.capacity, say)
    trained = by_others = 0
    last_look = time.monotonic()
    try:
        while pending or executor.running() or elsewhere:
            while pending and executor.running() < executor.capacity:
                candidates = [(p, *plan[p]) for p in pending]
                position = pending.pop(executor.choose(candidates))
                run, backend = plan[position]
                if not keeper.acquire(run.run_id):
                    holder = keeper.holder(run.run_id) or {}
                    say(f"[{position + 1}/{total}] {run.run_id}: being trained by "
                        f"{locks.describe(holder)}, skipped for now")
                    elsewhere.append(position)
                    continue
                records[position] = load_record(out_dir, run)  # finished as we looked
                if records[position] is not None:
                    keeper.release(run.run_id)
                    by_others += 1
                    say(f"[{position + 1}/{total}] {run.run_id}: trained by another sweep")
                    continue
                text = describe_run(run, backend, current_backend)
                progress.started(position, text, executor.next_worker(), len(pending),
                                 executor.running())
                executor.start(position, run, backend)
                progress.show_running(executor.running_runs())
            for position, record, error in executor.wait(timeout=poll_seconds):
                run = plan[position][0]
                keeper.release(run.run_id)
                progress.finished(position)
                if error is None:
                    records[position], trained = record, trained + 1
                else:
                    failures.append((run, error))
                    say(f"[{position + 1}/{total}] {run.run_id} FAILED: {error}")
            if elsewhere and (time.monotonic() - last_look >= poll_seconds or not (
                    pending or executor.running())):
                if not (pending or executor.running()):
                    time.sleep(poll_seconds)
                last_look = time.monotonic()
                for position in list(elsewhere):
                    run = plan[position][0]
                    records[position] = load_record(out_dir, run)
                    if records[position] is not None:
                        elsewhere.remove(position)
                        by_others += 1
                        say(f"[{position + 1}/{total}] {run.run_id}: trained by another sweep")
                    elif keeper.is_free(run.run_id):  # let go of, or its trainer is gone
                        elsewhere.remove(position)
                        pending.insert(0, position)
    finally:
        executor.close()
        keeper.release_all()
    say(f"Sweep: {total} runs: {trained} trained here, {before} finished before, "
        f"{by_others} by another sweep, {len(failures)} failed; "
        f"wall time {progress.wall_seconds():.1f} s, {executor.capacity} at a time")
    if failures:
        listed = "; ".join(f"{run.run_id} ({error})" for run, error in failures)
        raise RuntimeError(
            f"{len(failures)} of {total} runs failed: {listed}. Their folders hold no "
            "record; the same `zoo run` trains them again (and only them).")
    return records
