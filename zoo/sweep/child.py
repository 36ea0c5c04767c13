"""`python -m zoo.sweep.child`: a worker process that trains the runs it is sent.

Each line on stdin is `{"run": Run.to_dict(), "out": folder}`; the worker
trains the run into `folder` (the runner writes the record there, last and
atomically) and answers with one line `MARKER {"run_id": ..., "error": ...}`
on stdout, between Keras's own log lines. It keeps training the next runs
until stdin closes, so runs on the same data share it (the runner's data
cache), and it dies with the sweep that started it (Linux), so a killed
sweep leaves no worker training a run that nobody holds.

Its share of the cores comes in the environment: `ZOO_WORKER_THREADS`
threads, on the cores listed in `ZOO_WORKER_CORES` (comma-separated).
"""

import json
import os
import signal
import sys
import traceback

from zoo.sweep import backend_threads
from zoo.sweep.workers import MARKER


def die_with_parent():
    """Have the kernel SIGKILL this process when the sweep that started it dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main():
    die_with_parent()
    threads = int(os.environ.get("ZOO_WORKER_THREADS", "0"))
    cores = [int(c) for c in os.environ.get("ZOO_WORKER_CORES", "").split(",") if c]
    backend_threads.pin_to_cores(cores)
    # imported once the process is on its cores, without the framework's
    # C++ start-up lines (its thread pools sized by the environment)
    from zoo.measure import backend_startup

    backend_startup.start()
    import keras

    from zoo.runner import Run, train_and_evaluate

    experiment_file = os.environ.get("ZOO_EXPERIMENT_FILE")
    if experiment_file:  # a user's file may register its own tasks or models
        from zoo import experiments

        experiments.load(experiment_file)

    if threads:
        backend_threads.limit_threads(keras.backend.backend(), threads)
    for line in sys.stdin:
        if not line.strip():
            continue
        order = json.loads(line)
        run = Run.from_dict(order["run"])
        error = None
        try:
            train_and_evaluate(run, order["out"])
        except Exception as failure:  # noqa: BLE001 (reported to the sweep; the next run trains)
            traceback.print_exc(file=sys.stdout)
            error = f"{type(failure).__name__}: {failure}"
        print(f"{MARKER} {json.dumps({'run_id': run.run_id, 'error': error})}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
