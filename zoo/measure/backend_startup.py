"""Start the Keras backend without the framework's C++ start-up lines.

TensorFlow writes log lines to the process's stderr from C++ as it loads and
first touches the devices (`oneDNN custom operations are on`, `Could not find
cuda drivers`, a cuInit "error" on machines without a GPU), some of them
past `TF_CPP_MIN_LOG_LEVEL`. A command that trains calls `start()` first:
Keras is imported and the devices listed with file descriptor 2 pointed at
/dev/null, then stderr is restored, so what the zoo prints is all there is.
A Python error while importing still surfaces (after stderr is back).
"""

import os
import sys


def start():
    """Import Keras (and its backend) quietly; returns the backend's name."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
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
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    return name
