"""Start the Keras backend without the framework's C++ start-up lines.

TensorFlow writes log lines to the process's stderr from C++ as it loads and
first touches the devices (`oneDNN custom operations are on`, `Could not find
cuda drivers`, a cuInit "error" on machines without a GPU), some of them
past `TF_CPP_MIN_LOG_LEVEL`. A command that trains calls `start()` first:
Keras is imported and the devices listed with file descriptor 2 pointed at
/dev/null, then stderr is restored, so what the zoo prints is all there is.
A Python error while importing still surfaces (after stderr is back).

Keras imports TensorFlow under every backend where it is installed (its
`set_random_seed` asks whether TensorFlow is there), so `start()` imports it
quietly then too. A process that sets `STARTUP_LOG_VARIABLE` gets what was
silenced in that file instead of /dev/null: a sweep's worker that dies while
its backend starts (a C++ abort prints nothing else) is then reported with
the framework's own last line (`startup_failure`); a start that succeeds
removes the file.
"""

import importlib.util
import os
import sys

STARTUP_LOG_VARIABLE = "ZOO_STARTUP_LOG"


def start():
    """Import Keras (and its backend) quietly; returns the backend's name."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    sys.stderr.flush()
    log = os.environ.get(STARTUP_LOG_VARIABLE) or os.devnull
    saved, null = os.dup(2), os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 2)
    try:
        import keras

        name = keras.backend.backend()
        if name == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the device probe logs here
            tf.constant(0.0) + 0.0  # and the first op initialises the runtime
        elif name == "jax":
            import jax

            jax.devices()
        if name != "tensorflow" and importlib.util.find_spec("tensorflow") is not None:
            import tensorflow  # noqa: F401 (Keras imports it at the first seed)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    if log != os.devnull:  # started: the file would only ever hold a failed start
        os.unlink(log)
    return name


def startup_failure(log_path):
    """The last line a backend wrote to `log_path` while starting (its fatal
    error when the process died there), or None."""
    try:
        with open(log_path, errors="replace") as log:
            lines = [line.strip() for line in log if line.strip()]
    except OSError:
        return None
    return lines[-1] if lines else None
