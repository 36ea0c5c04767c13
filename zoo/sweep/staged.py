"""Choose first, then the other seeds at the chosen value only.

An experiment that sets `SELECT_ON_SEEDS = (0,)` has its searched settings
chosen on those seeds: the sweep trains every value at the selection seeds
first, picks each cell's value on validation (`zoo.choice`, as the reports
do), then trains the experiment's other seeds at that value alone. A grid of
3 learning rates x 3 seeds becomes 3 + 2 runs a cell instead of 9. Runs
that search nothing train at every seed as listed.

Where a `Search` names values `above` / `below` its grid, a cell whose
choice at the selection seeds is the grid's largest (smallest) value trains
the next value beyond it there, then chooses again (`beyond_the_grid`), and
its other seeds wait for that choice.

Cell by cell (`Pipeline`): a cell's other seeds start as soon as its own
choice is made, ahead of the other cells' grids, so a sweep cut short holds
whole cells rather than every grid and no seed 1.
"""

import json

from zoo import choice, experiments
from zoo.runner import load_record


def selection_seeds(name):
    """The experiment's `SELECT_ON_SEEDS` as a tuple, or None (every value at
    every seed)."""
    seeds = getattr(experiments.load(name), "SELECT_ON_SEEDS", None)
    if seeds is None:
        return None
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = (seeds,)
    if not isinstance(seeds, (tuple, list)) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ValueError(f"Experiment {name!r}: SELECT_ON_SEEDS must be a non-empty tuple of "
                         f"seeds (integers >= 0), e.g. (0,); got {seeds!r}")
    return tuple(seeds)


def split(plan, seeds):
    """`plan` (`[(run, backend)]`) as (the runs that choose, the runs that wait
    for the choice): a searched run at a seed outside `seeds` waits."""
    first = [(run, backend) for run, backend in plan if not run.searched or run.seed in seeds]
    later = [(run, backend) for run, backend in plan if run.searched and run.seed not in seeds]
    return first, later


def _plain(run):
    return json.loads(json.dumps(run.to_dict(), default=str))  # as a record holds it


def at_chosen_values(later, out_dir, seeds):
    """The runs of `later` at their cell's chosen value, and how many cells
    cannot choose yet (a value without a finished record at every selection
    seed in `out_dir`: one that failed, another sweep still trains, or
    `--only` left out and nobody trained)."""
    siblings = {}  # the selection runs of every value `later` tries, by id
    for run, _ in later:
        for seed in seeds:
            sibling = run.replace(seed=seed)
            siblings[sibling.run_id] = sibling
    records = [record for record in (load_record(out_dir, run) for run in siblings.values())
               if record]
    finished = {(choice.run_key(r.get("run") or {}), (r.get("run") or {}).get("seed"))
                for r in records}
    chosen = choice.chosen_runs(records)
    keys = [(choice.run_cell(plain), choice.run_key(plain))
            for plain in (_plain(run) for run, _ in later)]
    values = {}  # cell -> the values its later runs try (every value is there)
    for cell, key in keys:
        values.setdefault(cell, set()).add(key)
    ready = {cell for cell, tried in values.items()
             if all((key, seed) in finished for key in tried for seed in seeds)}
    kept = [planned for planned, (cell, key) in zip(later, keys)
            if cell in ready and key in chosen]
    return kept, len(values) - len(ready)


def _value(run, name):
    group, _, key = name.partition(".")
    return getattr(run, group)[key] if key else getattr(run, name)


def _with_value(run, name, value):
    group, _, key = name.partition(".")
    return run.replace(**({group: {**getattr(run, group), key: value}} if key else {name: value}))


def beyond_the_grid(first, out_dir, seeds):
    """`[(run, backend)]` one value past the edge of each cell of `first`
    whose choice (on validation at `seeds`, as `zoo.choice` makes it) is its
    grid's largest or smallest value tried and whose Search names a next one
    (`above` / `below`); [] when every cell chose inside its grid, cannot
    choose yet, or has no value left to try."""
    cells = {}
    for run, backend in first:
        if run.edges and run.seed in seeds:
            cells.setdefault(choice.run_cell(_plain(run)), []).append((run, backend))
    extra = []
    for planned in cells.values():
        records = [load_record(out_dir, run) for run, _ in planned]
        if not all(records):
            continue  # a value not finished at every selection seed: no choice yet
        chosen = choice.chosen_runs(records)
        name, below, above = planned[0][0].edges[0]
        tried = sorted({_value(run, name) for run, _ in planned})
        picked = {_value(run, name) for run, _ in planned
                  if choice.run_key(_plain(run)) in chosen}
        if len(tried) < 2 or len(picked) != 1:
            continue
        value = picked.pop()
        if value == tried[-1]:
            following = [v for v in above if v > value]
        elif value == tried[0]:
            following = [v for v in below if v < value]
        else:
            continue
        if following:
            template, backend = next(p for p in planned if _value(p[0], name) == value)
            extra += [(_with_value(template, name, following[0]).replace(seed=seed), backend)
                      for seed in sorted({run.seed for run, _ in planned})]
    return extra


def other_seeds(extra, later):
    """The runs of `extra` (values past a grid's edge) at the seeds `later`
    trains their cell at, which then wait for the choice like the others."""
    seeds = {}
    for run, _ in later:
        seeds.setdefault(choice.run_cell(_plain(run)), set()).add(run.seed)
    return [(run.replace(seed=seed), backend) for run, backend in extra
            for seed in sorted(seeds.get(choice.run_cell(_plain(run)), ()))]


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


class Pipeline:
    """The runs a staged sweep adds as records appear: past a cell's edge as
    soon as it chose one, then its other seeds at the value it chose.

    `ready()` (the sweep's `follow_up`) reads the records in `out_dir` and
    returns the runs newly ready; `extras` lists the past-the-edge runs and
    their other seeds in the order they were found; `summary()` is the line
    the sweep ends with.
    """

    def __init__(self, first, later, out_dir, seeds, echo):
        self.first, self.later = list(first), list(later)
        self.out_dir, self.seeds, self.echo = out_dir, seeds, echo
        self.extras, self.released = [], set()

    def ready(self):
        new = []
        while True:  # past the edge, and again where the next value is chosen in turn
            listed = {run.run_id for run, _ in self.first}
            extra = [planned for planned in beyond_the_grid(self.first, self.out_dir, self.seeds)
                     if planned[0].run_id not in listed]
            if not extra:
                break
            self.echo(f"Beyond the grid: {_plural(len(extra), 'run')} at the next value where a "
                      "cell chose the largest or smallest value tried")
            waiting = other_seeds(extra, self.later)
            self.first += extra
            self.later += waiting
            self.extras += extra + waiting
            new += extra
        kept, _ = at_chosen_values(self.later, self.out_dir, self.seeds)
        kept = [planned for planned in kept if planned[0].run_id not in self.released]
        if kept:
            self.released.update(run.run_id for run, _ in kept)
            cells = {choice.run_cell(_plain(run)) for run, _ in kept}
            self.echo(f"Chosen on {self._seeds()}: {_plural(len(cells), 'cell')}, "
                      f"{_plural(len(kept), 'run')} at other seeds join the sweep")
        return new + kept

    def _seeds(self):
        return f"seed{'s' if len(self.seeds) > 1 else ''} {', '.join(map(str, self.seeds))}"

    def summary(self):
        kept, waiting = at_chosen_values(self.later, self.out_dir, self.seeds)
        return (f"Chosen on {self._seeds()}: {len(kept)} of the {len(self.later)} runs at "
                "other seeds are at a chosen value" + (
                    f"; {waiting} cells cannot choose yet (a value has no finished run at "
                    "every selection seed) and wait for the next sweep" if waiting else ""))
