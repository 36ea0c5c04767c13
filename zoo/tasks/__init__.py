"""Shared data pipelines: every model trains and is scored on the same arrays.

    import zoo.tasks
    zoo.tasks.names()                               # ['adding', 'copying', ...]
    task = zoo.tasks.get("copying", sequence_length=200)
    task.spec                                       # what a model must accept/emit
    data = task.build(seed=0)                       # .train / .validation / .test
    model.fit(**data.train.fit_kwargs())          # inputs, targets, sample weights
"""

from zoo.tasks import (  # noqa: F401  (registers)
    datasets,
    language_model,
    listops,
    long_range,
    scan,
    seq2seq,
    synthetic,  # noqa: F401  (registers the tasks)
)
from zoo.tasks.base import (
    SPLITS,
    START_TOKEN,
    Split,
    SyntheticTask,
    Task,
    TaskData,
    TaskSpec,
    get,
    knobs,
    names,
    register,
)

__all__ = [
    "SPLITS",
    "START_TOKEN",
    "Split",
    "SyntheticTask",
    "Task",
    "TaskData",
    "TaskSpec",
    "get",
    "knobs",
    "names",
    "register",
]
