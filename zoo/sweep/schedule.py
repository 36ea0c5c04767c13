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

    def started(self, position, number, text, worker, left, running):
        self.started_at[position] = time.perf_counter()
        line = f"[{number}/{self.total}] {text}"
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


class Sweep:
    """One pass over a plan (`[(run, backend)]`): what is pending, held by
    another sweep, finished or failed.

    `follow_up()`, if given, is asked after each run that finishes (and once
    before the first starts) for runs that have become ready to train
    (`staged.Pipeline`: another seed at a value just chosen); they join the
    plan ahead of the runs still pending, so a cell is finished before the
    next is begun.
    """

    def __init__(self, plan, out_dir, executor, echo, current_backend, follow_up=None):
        self.plan, self.out_dir, self.executor = list(plan), out_dir, executor
        self.follow_up = follow_up
        self.current_backend = current_backend
        lock = threading.Lock()

        def say(text):
            with lock:
                echo(text)

        self.say = say
        self.total = len(plan)
        self.records = [None] * self.total
        self.pending, self.elsewhere, self.failures = [], [], []
        self.counts = {"trained": 0, "before": 0, "by_others": 0}
        self.numbers = {}  # position -> its number in the progress lines
        self.keeper = None
        self.progress = Progress(self.total, executor.capacity, say)
        self.last_look = time.monotonic()

    def _number(self, position):
        """Runs are numbered in the order they are first reported, so a run
        that `follow_up` adds mid-sweep counts on from the runs before it."""
        return self.numbers.setdefault(position, len(self.numbers) + 1)

    def _tell(self, position, text):
        self.say(f"[{self._number(position)}/{self.total}] {self.plan[position][0].run_id}: {text}")

    def run(self):
        """Every run's record in the plan's order; RuntimeError listing the
        runs that failed, after the others trained."""
        for position, (run, _) in enumerate(self.plan):
            self.records[position] = load_record(self.out_dir, run)
            if self.records[position] is None:
                self.pending.append(position)
            else:
                self.counts["before"] += 1
                self._tell(position, "done before, skipped")
        self._follow()
        self.keeper = locks.LockKeeper(self.out_dir)
        self.in_training = {}  # position -> run id, started and not yet collected
        try:
            while self.pending or self.executor.running() or self.elsewhere:
                self._start_what_fits()
                self._collect(POLL_SECONDS)
                if self.elsewhere:
                    self._look_at_held_runs()
        except KeyboardInterrupt:
            # the CLI's one line names the runs that were training
            raise KeyboardInterrupt(*sorted(self.in_training.values())) from None
        finally:
            self.executor.close()
            self.keeper.release_all()
        self._summarize()
        return self.records

    def _start_what_fits(self):
        executor = self.executor
        while self.pending and executor.running() < executor.capacity:
            candidates = [(p, *self.plan[p]) for p in self.pending]
            position = self.pending.pop(executor.choose(candidates))
            run, backend = self.plan[position]
            if not self.keeper.acquire(run.run_id):
                holder = locks.describe(self.keeper.holder(run.run_id) or {})
                self._tell(position, f"being trained by {holder}, skipped for now")
                self.elsewhere.append(position)
                continue
            self.records[position] = load_record(self.out_dir, run)  # finished as we looked
            if self.records[position] is not None:
                self.keeper.release(run.run_id)
                self.counts["by_others"] += 1
                self._tell(position, "trained by another sweep")
                continue
            text = describe_run(run, backend, self.current_backend)
            self.progress.started(position, self._number(position), text,
                                  executor.next_worker(), len(self.pending), executor.running())
            self.in_training[position] = run.run_id
            executor.start(position, run, backend)
            self.progress.show_running(executor.running_runs())

    def _follow(self):
        """Add the runs `follow_up` says are ready, ahead of those pending."""
        if self.follow_up is None:
            return
        listed = {run.run_id for run, _ in self.plan}
        ready = []
        for run, backend in self.follow_up():
            if run.run_id in listed:
                continue
            listed.add(run.run_id)
            position = len(self.plan)
            self.plan.append((run, backend))
            self.records.append(load_record(self.out_dir, run))
            self.total = self.progress.total = len(self.plan)
            if self.records[position] is None:
                ready.append(position)
            else:
                self.counts["before"] += 1
                self._tell(position, "done before, skipped")
        self.pending[:0] = ready

    def _collect(self, timeout):
        finished = False
        for position, record, error in self.executor.wait(timeout=timeout):
            self.in_training.pop(position, None)
            run = self.plan[position][0]
            self.keeper.release(run.run_id)
            self.progress.finished(position)
            if error is None:
                self.records[position] = record
                self.counts["trained"] += 1
                finished = True
            else:
                self.failures.append((run, error))
                self._tell(position, f"FAILED: {error}")
        if finished:
            self._follow()

    def _look_at_held_runs(self):
        """Read the records of runs another sweep finished; take back the ones
        it let go of (or whose trainer is gone)."""
        idle = not (self.pending or self.executor.running())
        if not idle and time.monotonic() - self.last_look < POLL_SECONDS:
            return
        if idle:
            time.sleep(POLL_SECONDS)
        self.last_look = time.monotonic()
        for position in list(self.elsewhere):
            run = self.plan[position][0]
            self.records[position] = load_record(self.out_dir, run)
            if self.records[position] is not None:
                self.elsewhere.remove(position)
                self.counts["by_others"] += 1
                self._tell(position, "trained by another sweep")
                self._follow()
            elif self.keeper.is_free(run.run_id):
                self.elsewhere.remove(position)
                self.pending.insert(0, position)

    def _summarize(self):
        counts = self.counts
        self.say(f"Sweep: {self.total} runs: {counts['trained']} trained here, "
                 f"{counts['before']} finished before, {counts['by_others']} by another "
                 f"sweep, {len(self.failures)} failed; wall time "
                 f"{self.progress.wall_seconds():.1f} s, {self.executor.capacity} at a time")
        if self.failures:
            listed = "; ".join(f"{run.run_id} ({error})" for run, error in self.failures)
            raise RuntimeError(
                f"{len(self.failures)} of {self.total} runs failed: {listed}. Their folders "
                "hold no record; the same `zoo run` trains them again (and only them).")


def drive(plan, out_dir, executor, echo, current_backend, follow_up=None):
    """Train the unfinished runs of `plan` (`[(run, backend)]`) with `executor`,
    and those `follow_up()` adds as runs finish (see `Sweep`).

    Returns every run's record in `plan`'s order, then the added runs' in the
    order they were added. Runs that failed are reported together at the end
    (RuntimeError) after the others trained.
    """
    return Sweep(plan, out_dir, executor, echo, current_backend, follow_up).run()
