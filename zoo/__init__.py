"""zoo: compare sequence architectures on shared tasks with Keras 3.

    from zoo import Run, train_and_evaluate
    record = train_and_evaluate(Run("lstm_small", "copying", {"sequence_length": 50}), "runs/demo")

`zoo.layers`, `zoo.models` and `zoo.tasks` are the building blocks; the
runner is imported on first use, so `import zoo` alone loads no backend.
"""

__version__ = "0.1.0"

_RUNNER_NAMES = ("Run", "train_and_evaluate", "load_record")


def __getattr__(name):
    if name in _RUNNER_NAMES:
        from zoo import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
