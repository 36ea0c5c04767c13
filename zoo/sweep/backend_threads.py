"""A worker process's share of the cores, for each Keras backend.

The environment a worker starts with (`thread_environment`) caps the thread
pools that are sized at start-up: OpenMP, MKL, OpenBLAS, TensorFlow's
intra/inter-op pools and, for JAX with one thread, XLA's Eigen pool (XLA
sizes its pool by the process's core affinity). `limit_threads` then tells
the backend itself, for the pools a library sizes when first used. The core
affinity (`pin_to_cores`) keeps the worker's threads on its own cores, so two
workers never time-share one core while another idles.

The backends are imported only inside `limit_threads`, in the worker.
"""

import os

BLAS_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def available_cores():
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def thread_environment(backend, threads, environment=None):
    """`environment` (default: this process's) with the Keras backend set and
    every thread pool capped at `threads`."""
    environment = dict(os.environ if environment is None else environment)
    environment["KERAS_BACKEND"] = backend
    count = str(threads)
    for name in BLAS_VARIABLES:
        environment[name] = count
    environment["TF_NUM_INTRAOP_THREADS"] = count
    environment["TF_NUM_INTEROP_THREADS"] = count
    if backend == "jax" and threads == 1:
        # XLA sizes its CPU pool by the cores the process may run on (its
        # affinity, `pin_to_cores`); one thread also turns Eigen's pool off
        flags = environment.get("XLA_FLAGS", "")
        environment["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
    return environment


def pin_to_cores(cores):
    """Run this process (and the threads it starts later) on `cores` only,
    where the platform allows it; whether it did."""
    if not cores or not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, set(cores))
    return True


def limit_threads(backend, threads):
    """Tell `backend` to use `threads` threads; call before the first
    operation (a pool already started keeps its size)."""
    if backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # the runtime already started: the environment set its pools
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass  # only settable before the first inter-op parallel work
    # jax: XLA reads XLA_FLAGS (thread_environment) when its CPU client starts
