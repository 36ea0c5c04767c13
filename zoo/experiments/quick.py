"""quick: the four families, small presets, on adding and copying, in minutes on a CPU.

A small comparison (one seed, 1,000 training steps each: long_range's budget
and schedule), not a verdict: it shows the pipeline end to end and how far
each family gets in a few minutes. With
no room for a learning-rate search, each family trains at its recommended
settings (`zoo.models.recommended`: the rate and schedule measured at this
budget, with where each came from); `long_range` searches the rate per model instead.
"""

from zoo.models import recommended
from zoo.runner import Run

DESCRIPTION = ("rnn/lstm/gru/transformer small on adding (T=50) and copying (T=10), 1,000 steps "
               "each, at each family's recommended learning rate")

FAMILIES = ("rnn", "lstm", "gru", "transformer")
# long_range's budget: 1,000 steps of 64 (a validation every 100), and 2
# validations more once solved, so a score is not the first under the threshold
STEPS, BATCH_SIZE, PATIENCE = 1000, 64, 2
TASKS = {
    "adding": {"sequence_length": 50, "num_train": 6400, "num_validation": 256, "num_test": 512},
    "copying": {"sequence_length": 10, "num_train": 6400, "num_validation": 256, "num_test": 512},
}


def run(family, task, **settings):
    """`family`'s small preset on quick's `task` at quick's budget (1,000 steps
    of 64) with `settings` (learning rate, schedule, seed)."""
    return Run(model=f"{family}_small", task=task, task_knobs=TASKS[task], steps=STEPS,
               batch_size=BATCH_SIZE, patience=PATIENCE, **settings)


def runs():
    return [run(family, task, seed=0, **recommended(family).settings())
            for task in TASKS for family in FAMILIES]
