"""Run every run of an experiment once; finished runs are never repeated.

    from zoo import sweep
    records = sweep.run_experiment("long_range", "runs/long_range", seeds=3)

A run is finished when its folder holds `metrics.json`, which the runner
writes last and atomically, so a sweep killed at any moment loses no
finished run and resumes at the first unfinished one.
"""

import fnmatch
import json
import os
import subprocess
import sys
import time

import keras

from zoo import backend_adapter, experiments
from zoo.runner import load_record, train_and_evaluate

PROFILES = ("quick", "full")
BACKENDS = ("tensorflow", "jax", "torch")


def default_profile():
    """`"full"` when an accelerator is present, else `"quick"`."""
    return "quick" if backend_adapter.accelerator()[0] == "cpu" else "full"


def apply_profile(run, profile):
    """The run with the settings of `profile`.

    quick: the run as the experiment lists it.
    full: compiled steps (XLA / jit) and, on an accelerator, mixed bfloat16.
    """
    if profile not in PROFILES:
        raise ValueError(f"Unknown profile {profile!r}; valid: {list(PROFILES)}")
    if profile == "quick":
        return run
    on_accelerator = backend_adapter.accelerator()[0] != "cpu"
    return run.replace(
        jit_compile=True,
        precision="mixed_bfloat16" if on_accelerator else run.precision,
    )


def with_seeds(runs, seeds):
    """Each distinct configuration of `runs` once per seed `0 .. seeds-1`."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"--seeds must be a positive integer; got {seeds!r}")
    configurations, seen = [], set()
    for run in runs:
        key = run.replace(seed=0).run_id
        if key not in seen:
            seen.add(key)
            configurations.append(run)
    return [run.replace(seed=seed) for run in configurations for seed in range(seeds)]


def select(name, only=None, seeds=None, profile=None, distribution=None):
    """The runs of experiment `name` after `--only`, `--seeds`, `--profile`
    and `--distribution`."""
    profile = profile or default_profile()
    selected = experiments.runs(name, profile=profile)
    if seeds is not None:
        selected = with_seeds(selected, seeds)
    selected = [apply_profile(run, profile) for run in selected]
    if distribution is not None:
        selected = [run.replace(distribution=distribution) for run in selected]
        for run in selected[:1]:
            run.resolve()  # an unknown distribution fails here, named
    if only:
        matched = [r for r in selected if fnmatch.fnmatchcase(r.run_id, only)]
        if not matched:
            raise ValueError(
                f"--only {only!r} matches no run of experiment {name!r}; "
                f"run ids look like {selected[0].run_id!r}"
            )
        selected = matched
    return selected


def backend_plan(runs, backend=None, fastest=None):
    """The Keras backend of each run: the current one, a named one, or, with
    `"auto"`, the fastest for the model's family (`fastest`: family -> backend,
    from `zoo bench`)."""
    current = keras.backend.backend()
    if backend in (None, current):
        return [current] * len(runs)
    if backend == "auto":
        fastest = fastest or {}
        return [fastest.get(run.model.rsplit("_", 1)[0]) or current for run in runs]
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; valid: {list(BACKENDS) + ['auto']}")
    return [backend] * len(runs)


def train_in_subprocess(run, out_dir, backend):
    """Train `run` in a fresh Python process on `backend`; its record."""
    environment = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, "-m", "zoo.runner", str(out_dir), json.dumps(run.to_dict())]
    finished = subprocess.run(command, env=environment)
    record = load_record(out_dir, run)
    if finished.returncode != 0 or record is None:
        raise RuntimeError(
            f"Run {run.run_id} failed in its own process on backend {backend!r} "
            f"(exit status {finished.returncode}); its output is above."
        )
    return record


def run_experiment(name, out_dir, only=None, echo=print, seeds=None, profile=None,
                   backend=None, isolate=False, fastest=None, distribution=None):
    """Train the runs of experiment `name` not yet finished in `out_dir`.

    only: a shell-style pattern on run ids (`"lstm_*"`).
    seeds: run every configuration with seeds 0 .. seeds-1 instead of the
        experiment's own seeds.
    profile: `"quick"` or `"full"` (default: full when an accelerator is seen).
    backend: a Keras backend name, or `"auto"` (the family's fastest per
        `fastest`); runs on another backend than this process's train in
        their own process, as do all runs with `isolate`.
    distribution: `"data_parallel"` trains every run over all local devices.
    Returns the records of all selected runs, in the experiment's order.
    Every run is checked before the first one trains.
    """
    selected = select(name, only, seeds, profile, distribution)
    backends = backend_plan(selected, backend, fastest)
    current = keras.backend.backend()
    for run, run_backend in zip(selected, backends):
        if run_backend == current:
            run.devices()  # data_parallel off JAX or a batch the devices cannot split
    records, started, trained = [], time.perf_counter(), 0
    for index, (run, run_backend) in enumerate(zip(selected, backends), start=1):
        record = load_record(out_dir, run)
        if record is not None:
            echo(f"[{index}/{len(selected)}] {run.run_id}: done before, skipped")
        else:
            left = len(selected) - index + 1
            eta = ""
            if trained:
                per_run = (time.perf_counter() - started) / trained
                eta = f", {left} left, about {per_run * left / 60:.1f} min"
            knobs = " ".join(
                f"{k}={v}" for k, v in run.task_knobs.items() if not k.startswith("num_")
            )
            where = "" if run_backend == current else f" [{run_backend}]"
            echo(f"[{index}/{len(selected)}] {run.model} on {run.task} {knobs} "
                 f"seed {run.seed}{where}{eta}")
            sys.stdout.flush()
            if isolate or run_backend != current:
                record = train_in_subprocess(run, out_dir, run_backend)
            else:
                record = train_and_evaluate(run, out_dir)
            trained += 1
        records.append(record)
    return records
