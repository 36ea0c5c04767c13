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

from zoo.runner.evaluation import evaluate, inference_samples_per_second
from zoo.runner.run import DISTRIBUTIONS, JIT_CHOICES, OPTIMIZERS, SCHEDULES, Run, Search, expand
from zoo.runner.training import (
    build_data,
    input_length,
    load_record,
    make_optimizer,
    train_and_evaluate,
)

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
