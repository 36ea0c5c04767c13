"""zoo: compare sequence architectures on shared tasks with Keras 3.

    from zoo import Run, train_and_evaluate
    record = train_and_evaluate(Run("lstm_small", "copying", {"sequence_length": 50}), "runs/demo")

`zoo.layers`, `zoo.models` and `zoo.tasks` are the building blocks; they and
the runner are imported on first use, so `import zoo` alone loads no backend.
A saved zoo model loads with `zoo.load_model(path)` (or `import zoo.layers`
first, which registers the layers with Keras, then `keras.saving.load_model`).
"""

import importlib

__version__ = "0.1.0"

_RUNNER_NAMES = ("Run", "Search", "train_and_evaluate", "load_record")
_SUBPACKAGES = ("layers", "models", "tasks", "runner", "report", "experiments", "bench",
                "measure", "sweep", "record", "spec", "names")


def load_model(path, **kwargs):
    """`keras.saving.load_model(path, **kwargs)` with the zoo's layers registered."""
    import keras

    importlib.import_module("zoo.layers")
    return keras.saving.load_model(path, **kwargs)


def __getattr__(name):
    if name in _RUNNER_NAMES:
        return getattr(importlib.import_module("zoo.runner"), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
