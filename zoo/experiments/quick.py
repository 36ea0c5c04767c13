"""quick: the four families, small presets, on adding and copying, in minutes on a CPU.

A smoke-sized comparison (300 training steps each), not a verdict: it shows
the pipeline end to end and how far each family gets on a short budget. With
no room for a learning-rate search, each family trains at its recommended
settings (`zoo.models.recommended`: the rate and schedule measured at this
budget, with where each came from); `long_range` searches the rate per model instead.
"""

from zoo.models import recommended
from zoo.runner import Run

DESCRIPTION = ("rnn/lstm/gru/transformer small on adding (T=50) and copying (T=10), 300 steps "
               "each, at each family's recommended learning rate")

FAMILIES = ("rnn", "lstm", "gru", "transformer")
EPOCHS, BATCH_SIZE = 3, 64  # 100 steps an epoch: 300 steps
TASKS = {
    "adding": {"sequence_length": 50, "num_train": 6400, "num_validation": 256, "num_test": 512},
    "copying": {"sequence_length": 10, "num_train": 6400, "num_validation": 256, "num_test": 512},
}


def runs():
    return [
        Run(
            model=f"{family}_small",
            task=task,
            task_knobs=knobs,
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            seed=0,
            **recommended(family).settings(),
        )
        for task, knobs in TASKS.items()
        for family in FAMILIES
    ]
