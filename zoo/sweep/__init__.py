"""Run every run of an experiment once; finished runs are never repeated.

    from zoo import sweep
    records = sweep.run_experiment("long_range", "runs/long_range", seeds=3)
    records = sweep.run_experiment("long_range", "runs/long_range", workers="auto")
    records = sweep.run_experiment("long_range", "runs/long_range", ray="10.0.0.5:6379")

A run is finished when its folder holds `metrics.json`, which the runner
writes last and atomically, so a sweep killed at any moment loses no
finished run and resumes at the first unfinished one. While a run trains,
a lock file beside it (`locks`) keeps a second sweep on the same folder
from training it too.

    selection.py       which runs: --only, --seeds, --profile, --backend
    schedule.py        the loop: locks, progress, failures, runs held elsewhere
    workers.py         --workers: local worker processes, a share of the cores each
    child.py           the worker process (`python -m zoo.sweep.child`)
    backend_threads.py a worker's thread pools and cores, per Keras backend
    ray_backend.py     --ray: one Ray task per run, records returned to the driver
    staged.py          SELECT_ON_SEEDS: choose on some seeds, train the others at the choice
    locks.py           one run, one trainer
"""

import os

import keras

from zoo.runner import load_record, train_and_evaluate
from zoo.sweep import schedule, staged
from zoo.sweep import workers as local_workers
from zoo.sweep.selection import (
    BACKENDS,
    PROFILES,
    apply_profile,
    backend_plan,
    default_profile,
    select,
    with_seeds,
)

EXPERIMENT_FILE_VARIABLE = "ZOO_EXPERIMENT_FILE"  # read by zoo.sweep.child

__all__ = ["BACKENDS", "PROFILES", "apply_profile", "backend_plan", "default_profile",
           "run_experiment", "select", "with_seeds"]


def _executor(plan, out_dir, echo, profile, workers, ray, isolate):
    """What trains the runs: Ray tasks, local workers, or this process."""
    current = keras.backend.backend()
    if ray is not None:
        from zoo.sweep import ray_backend

        return ray_backend.RayTasks(ray, out_dir, profile, echo)
    if workers is not None:
        if workers == "auto":
            from zoo.measure import backend as measured_backend

            on_accelerator = measured_backend.accelerator()[0] != "cpu"
            unfinished = sum(1 for run, _ in plan if load_record(out_dir, run) is None)
            workers = local_workers.auto_workers(unfinished, on_accelerator)
        return local_workers.LocalWorkers(workers, out_dir, echo,
                                          runs_per_process=1 if isolate else None)
    if isolate or any(backend != current for _, backend in plan):
        return local_workers.LocalWorkers(1, out_dir, echo, runs_per_process=1)
    # looked up when called, so a test can stand in for train_and_evaluate
    return schedule.InProcess(lambda run: train_and_evaluate(run, out_dir))


def run_experiment(name, out_dir, only=None, echo=print, seeds=None, profile=None,
                   backend=None, isolate=False, fastest=None, distribution=None,
                   workers=None, ray=None):
    """Train the runs of experiment `name` not yet finished in `out_dir`.

    only: a shell-style pattern on run ids (`"lstm_*"`).
    seeds: run every configuration with seeds 0 .. seeds-1 instead of the
        experiment's own seeds.
    profile: `"quick"` or `"full"` (default: full when an accelerator is seen).
    backend: a Keras backend name, or `"auto"` (the family's fastest per
        `fastest`); runs on another backend than this process's train in
        their own process, as do all runs with `isolate`.
    distribution: `"data_parallel"` trains every run over all local devices.
    workers: train this many runs at once, each in its own process on its
        share of the cores (`"auto"`: one per core, at most one per run).
    ray: train each run as a Ray task: True for a local Ray instance (or the
        one `RAY_ADDRESS` names), or a cluster's address (`"HOST:6379"`).
    Returns the records of all selected runs, in the experiment's order (with
    `SELECT_ON_SEEDS`, `staged`: of those it trained, the other seeds at the
    chosen values only).
    Every run is checked, and every setting, before the first one trains. A
    run that fails in a worker or a Ray task is reported at the end
    (RuntimeError) after the other runs trained.
    """
    workers = local_workers.parse_workers(workers)
    if workers is not None and ray is not None:
        raise ValueError("--workers and --ray both say where runs train; give one of them")
    if ray is not None:
        from zoo.sweep import ray_backend

        ray_backend.require_ray()
    profile = profile or default_profile()
    selected = select(name, only, seeds, profile, distribution)
    stage_seeds = staged.selection_seeds(name)
    for run in selected:  # data files and memory, before the first run trains
        run.check_resources()
    backends = backend_plan(selected, backend, fastest)
    current = keras.backend.backend()
    for run, run_backend in zip(selected, backends):
        if run_backend == current:
            run.devices()  # data_parallel off JAX or a batch the devices cannot split
    plan = list(zip(selected, backends))
    if str(name).endswith(".py"):  # worker processes load the file too (its own tasks)
        os.environ[EXPERIMENT_FILE_VARIABLE] = os.path.abspath(name)

    def drive(part, follow_up=None):
        executor = _executor(plan, out_dir, echo, profile, workers, ray, isolate)
        return schedule.drive(part, out_dir, executor, echo, current, follow_up)

    if stage_seeds is None and any(run.edges for run, _ in plan):
        stage_seeds = tuple(sorted({run.seed for run, _ in plan}))  # every seed chooses
    if stage_seeds is None:
        return drive(plan)
    first, later = staged.split(plan, stage_seeds)
    pipeline = staged.Pipeline(first, later, out_dir, stage_seeds, echo)
    records = drive(first, follow_up=pipeline.ready)
    if later:
        echo(pipeline.summary())
    by_id = {record["run_id"]: record for record in records if record}
    # the listed runs, then those past a grid's edge (in the order found)
    return [by_id[run.run_id] for run, _ in plan + pipeline.extras if run.run_id in by_id]
