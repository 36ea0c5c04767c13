"""Train one model on one task and record what happened.

    from zoo.runner import Run, train_and_evaluate
    record = train_and_evaluate(Run("lstm_small", "copying", {"sequence_length": 50}), "runs/demo")

A run writes its own folder `workdir/<run_id>/`: `config.json` (the resolved
run), `history.csv` (per-epoch Keras logs) and, last, `metrics.json` (the
record, `zoo.record`). `metrics.json` is written atomically, so a folder that
has one holds a finished run and a killed run leaves none.

    run.py          Run: the configuration, its id, its checks
    training.py     train_and_evaluate, the optimizer, the data cache
    callbacks.py    step timing, budget, the task's validation metric
    evaluation.py   scoring a split with the task's metric; inference speed
    probes.py, diagnostics.py   measurements of the trained model
    pretraining.py  masked-token self-pretraining through a .keras file
    child.py        `python -m zoo.runner`: one run in its own process
"""

import importlib
from typing import TYPE_CHECKING

from zoo.runner.run import DISTRIBUTIONS, JIT_CHOICES, OPTIMIZERS, SCHEDULES, Run, Search, expand

# Training and evaluation load Keras; they are imported on first use, so an
# experiment file (`from zoo.runner import Run`) loads no backend to be listed.
_LAZY = {
    "evaluate": "evaluation", "inference_samples_per_second": "evaluation",
    "build_data": "training", "input_length": "training", "load_record": "training",
    "make_optimizer": "training", "train_and_evaluate": "training",
}
if TYPE_CHECKING:
    from zoo.runner.evaluation import evaluate, inference_samples_per_second
    from zoo.runner.training import (
        build_data,
        input_length,
        load_record,
        make_optimizer,
        train_and_evaluate,
    )


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"zoo.runner.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'zoo.runner' has no attribute {name!r}")

__all__ = [
    "DISTRIBUTIONS",
    "JIT_CHOICES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Run",
    "Search",
    "build_data",
    "evaluate",
    "expand",
    "inference_samples_per_second",
    "input_length",
    "load_record",
    "make_optimizer",
    "train_and_evaluate",
]
