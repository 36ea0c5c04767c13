"""The fair protocol's choice: select on validation, report on test.

An experiment may search a setting (`zoo.runner.Search`: a learning rate, a
weight decay, pre- or post-norm); its runs then name it in `run.searched`.
Runs that differ only in searched settings and the seed form one comparison
*cell*. For each value tried, the score is the mean over seeds of the
validation metric at the run's best validation epoch (the weights its test
score was taken with); a diverged seed scores the task's baseline. The value
with the best mean is chosen, and the cell's row reports test at that value.
Ties go to the smallest value (the lowest learning rate, False before
True), whatever order the records come in. Nothing here reads a test score.
Values are compared on the seeds all of them have finished.

The reports (`zoo.report.selection`) and the sweep (an experiment that
trains its further seeds at the chosen value only, `SELECT_ON_SEEDS`) both
choose with this module, so a page always shows the choice the sweep made.

    chosen = choose(groups)          # {configuration: {"tried", "selected"}}
    records = select_records(records)   # only the runs at each cell's choice
"""

import json
import math
import statistics


def as_float(value):
    """A float, or NaN for None / non-numbers."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


LOWER_IS_BETTER = ("mse", "mae", "loss")  # for records older than `higher_is_better`


def higher_is_better(record):
    value = record.get("higher_is_better")
    if value is None:
        return record.get("metric") not in LOWER_IS_BETTER
    return bool(value)


def validation_score(record):
    """The validation metric the run's test score was taken at: its best
    validation epoch's; the task's baseline for a diverged run or one with
    no finite validation score."""
    scores = (record.get("validation") or {}).get(record.get("metric")) or []
    best = record.get("best_epoch")
    if record.get("status", "finished") == "finished" and best is not None \
            and 0 <= best < len(scores) and math.isfinite(as_float(scores[best])):
        return as_float(scores[best])
    return as_float(record.get("baseline"))


def searched(run):
    """The names of the settings `run` searched (`run.searched`)."""
    return tuple(run.get("searched") or ())


def _without(run, names):
    """`run` less its seed and the `names` settings (`model_overrides.x` too)."""
    run = {k: v for k, v in run.items() if k not in ("seed",)}
    for name in names:
        group, _, key = name.partition(".")
        if key:
            run[group] = {k: v for k, v in (run.get(group) or {}).items() if k != key}
        else:
            run.pop(name, None)
    return run


def _where(record):
    environment = record.get("environment") or {}
    return {"backend": environment.get("backend"), "device": environment.get("device")}


def configuration_key(record):
    """What makes two records seeds of one configuration: the run but its
    seed, and where it ran (a CPU and a GPU measurement never share a mean)."""
    return json.dumps({"run": _without(record.get("run") or {}, ()), "where": _where(record)},
                      sort_keys=True, default=str)


def cell_key(record):
    """What makes two configurations values of one search: the configuration
    less the searched settings."""
    run = record.get("run") or {}
    return json.dumps({"run": _without(run, searched(run)), "where": _where(record)},
                      sort_keys=True, default=str)


def search_value(run):
    """`"learning_rate=0.001"`: the searched settings' values in `run`."""
    values = []
    for name in searched(run):
        group, _, key = name.partition(".")
        value = (run.get(group) or {}).get(key) if key else run.get(name)
        values.append(f"{key or name}={json.dumps(value) if not isinstance(value, str) else value}")
    return " ".join(values)


def _mean(values):
    values = [v for v in values if math.isfinite(v)]
    return statistics.fmean(values) if values else math.nan


def validation_mean(group, seeds=None):
    """Mean validation score of `group`'s records (of `seeds` only, if given)."""
    return _mean([validation_score(r) for r in group
                  if seeds is None or _seed(r) in seeds])


def _seed(record):
    return (record.get("run") or {}).get("seed")


def common_seeds(groups):
    """The seeds every one of `groups` has finished (None when they share none:
    each is then averaged over its own)."""
    shared = set.intersection(*({_seed(r) for r in group} for group in groups))
    return shared or None


def value_order(record):
    """A sort key of the searched values of `record`'s run: numbers (and
    booleans) by size, before anything else by its JSON text."""
    run = record.get("run") or {}
    order = []
    for name in searched(run):
        group, _, key = name.partition(".")
        value = (run.get(group) or {}).get(key) if key else run.get(name)
        number = float(value) if isinstance(value, bool) else as_float(value)
        order.append((0, number, "") if math.isfinite(number)
                     else (1, 0.0, json.dumps(value, sort_keys=True, default=str)))
    return tuple(order)


def choose(groups):
    """`{configuration key: {"tried": n, "selected": bool, "validation_mean": x}}`
    for `groups` (`{configuration key: [records, its seeds]}`)."""
    cells = {}
    for key, group in groups.items():
        cells.setdefault(cell_key(group[0]), []).append(key)
    chosen = {}
    for keys in cells.values():
        higher = higher_is_better(groups[keys[0]][0])
        # values compared on the same seeds, while some have more finished
        seeds = common_seeds([groups[key] for key in keys])
        means = {key: validation_mean(groups[key], seeds) for key in keys}
        best = None
        # ties: the smallest value, in any order of the records
        for key in sorted(keys, key=lambda k: (value_order(groups[k][0]), k)):
            if math.isfinite(means[key]) and (best is None or (
                    means[key] > means[best] if higher else means[key] < means[best])):
                best = key
        for key in keys:
            chosen[key] = {"tried": len(keys), "selected": key == best,
                           "validation_mean": means[key]}
    return chosen


def group_records(records):
    """`{configuration key: [records]}` in the records' order."""
    groups = {}
    for record in records:
        groups.setdefault(configuration_key(record), []).append(record)
    return groups


def select_records(records):
    """The records at each cell's chosen value (every record where nothing was
    searched)."""
    return [record for record, _ in select_records_tried(records)]


def select_records_tried(records):
    """`[(record, values tried in its cell)]` for the records at each cell's
    chosen value."""
    groups = group_records(records)
    chosen = choose(groups)
    return [(r, chosen[key]["tried"]) for key, group in groups.items()
            if chosen[key]["selected"] for r in group]


def run_key(run):
    """A run (its `to_dict()`, or a record's `run`) less its seed, as one string."""
    return json.dumps(_without(run, ()), sort_keys=True, default=str)


def run_cell(run):
    """The cell of a run: the run less its seed and its searched settings."""
    return json.dumps(_without(run, searched(run)), sort_keys=True, default=str)


def chosen_runs(records):
    """`run_key`s of the configurations each cell chose among `records`."""
    groups = group_records(records)
    chosen = choose(groups)
    return {run_key(group[0].get("run") or {}) for key, group in groups.items()
            if chosen[key]["selected"]}
