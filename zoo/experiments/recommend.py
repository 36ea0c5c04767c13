"""recommend: where `zoo run quick`'s learning rates come from.

`quick` has no room for a search, so each of its families trains at its
recommended settings (`zoo.models.recommended`). This experiment measures
them: quick's families, tasks, knobs and budget (1,000 steps of 64), with the
zoo's one schedule (warm-up + cosine, as in `long_range` and the claims), the
learning rate searched at every seed (no selection on one seed: a rate that
wins on seed 0 and fails on seeds 1-2 is what a recommendation must avoid).
A family's recommended rate is the one it does best with on both of quick's
tasks (`chosen_rates`): on each task, the rates tried on both are ranked by
their mean validation score over the three seeds (ties share a rank), and the
rate with the lowest mean rank is recommended (a tie: the smaller rate). No
test score is read. The first rule, fixed before the first sweep, ranked on
adding alone; at 1,000 steps it chose 1e-2 for the transformer, which copies
T=10 on 2 of 3 seeds there (seed 0: 0.13) but on 3 of 3 at 3e-4 to 3e-3, so
quick's one seed would have shown the transformer failing copying for a
reason this sweep measured. `zoo report recommend` shows every rate of both
tasks, and a test keeps the table in `zoo/models/recommended.py` equal to
what `chosen_rates` makes of the committed records
(`results/runs/recommend/`).
"""

import json
import math

from zoo import choice
from zoo.experiments import quick
from zoo.names import split_model_name
from zoo.runner import Search

DESCRIPTION = ("quick's families, tasks and 1,000-step budget with the learning rate searched "
               "at 3 seeds: the measurement behind each family's recommended rate")

FAMILIES = quick.FAMILIES
TASKS = quick.TASKS
SEEDS = (0, 1, 2)
SCHEDULE = "warmup_cosine"
LEARNING_RATES = Search(3e-4, 1e-3, 3e-3, 1e-2, above=(3e-2, 1e-1), below=(1e-4,))


def runs():
    return [quick.run(family, task, learning_rate=LEARNING_RATES, schedule=SCHEDULE, seed=seed)
            for seed in SEEDS for task in TASKS for family in FAMILIES]


def chosen_rates(records):
    """`{family: learning rate}` from an experiment's `records`: per family, of
    the rates tried in every cell (a task with its knobs: recommend's two
    tasks, long_range's tasks at each length), the one with the lowest mean
    rank of its mean validation score over the cells (average ranks for ties;
    a tie of mean ranks goes to the smaller rate). The means are over the
    seeds every rate of a cell has finished (`choice.choose`). Test scores are
    never read."""
    groups = choice.group_records(records)
    means = choice.choose(groups)
    scores, higher = {}, {}  # family -> cell -> rate -> mean validation; cell -> bool
    for key, group in groups.items():
        run = group[0]["run"]
        family, _ = split_model_name(run["model"])
        cell = (run["task"], json.dumps(run.get("task_knobs", {}), sort_keys=True))
        higher[cell] = choice.higher_is_better(group[0])
        mean = means[key]["validation_mean"]
        if not math.isfinite(mean):  # no finite validation score: the worst
            mean = -math.inf if higher[cell] else math.inf
        scores.setdefault(family, {}).setdefault(cell, {})[run["learning_rate"]] = mean
    rates = {}
    for family, cells in scores.items():
        common = sorted(set.intersection(*(set(by_rate) for by_rate in cells.values())))

        def rank(cell, rate, cells=cells, common=common):
            sign = 1 if higher[cell] else -1
            mine = sign * cells[cell][rate]
            better = sum(sign * cells[cell][other] > mine for other in common)
            tied = sum(sign * cells[cell][other] == mine for other in common) - 1
            return 1 + better + tied / 2

        if common:
            rates[family] = min(common, key=lambda rate: sum(rank(c, rate) for c in cells))
    return rates
