"""recommend: where `zoo run quick`'s learning rates come from.

`quick` has no room for a search, so each of its families trains at its
recommended settings (`zoo.models.recommended`). This experiment measures
them: quick's families, tasks, knobs and budget (300 steps of 64), with the
zoo's one schedule (warm-up + cosine, as in `long_range` and the claims), the
learning rate searched at every seed (no selection on one seed: a rate that
wins on seed 0 and fails on seeds 1-2 is what a recommendation must avoid).
A family's recommended rate is the one with the best mean validation score
over the three seeds on `adding`, a rule fixed before the sweep ran (adding is
where a shared rate had decided who solves it). Copying at T=10 chooses other
rates for two families (lstm 3e-3, near chance at every rate; transformer
1e-3, solved at no rate in 300 steps); `zoo report recommend` shows every rate of both tasks, and a
test keeps the table in `zoo/models/recommended.py` in agreement with the
committed records (`results/runs/recommend/`).
"""

from zoo.experiments import quick
from zoo.runner import Search

DESCRIPTION = ("quick's families, tasks and 300-step budget with the learning rate searched "
               "at 3 seeds: the measurement behind each family's recommended rate")

FAMILIES = quick.FAMILIES
TASKS = quick.TASKS
DECIDING_TASK = "adding"  # the task whose choice becomes the recommendation
SEEDS = (0, 1, 2)
SCHEDULE = "warmup_cosine"
LEARNING_RATES = Search(3e-4, 1e-3, 3e-3, 1e-2, above=(3e-2, 1e-1), below=(1e-4,))


def runs():
    return [quick.run(family, task, learning_rate=LEARNING_RATES, schedule=SCHEDULE, seed=seed)
            for seed in SEEDS for task in TASKS for family in FAMILIES]
