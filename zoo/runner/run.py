"""`Run`: one training run, as a frozen, hashable, JSON-round-tripping config.

    from zoo.runner import Run
    run = Run("lstm_small", "copying", {"sequence_length": 50}, steps=500)
    run.run_id          # 'lstm_small--copying--s0--1a2b3c4d': its folder name
    run.resolve()       # the task and model config; any bad value raises now
"""

import dataclasses
import hashlib
import itertools
import json
import os
from typing import TYPE_CHECKING, Optional

import zoo.models
import zoo.tasks
from zoo import lazy
from zoo.names import PRECISIONS

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): a Run is made and checked without a backend
    import keras

    from zoo.runner import pretraining, probes
else:
    keras = lazy.module("keras")
    pretraining = lazy.module("zoo.runner.pretraining")
    probes = lazy.module("zoo.runner.probes")

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
NOT_SEARCHABLE = ("model", "task", "seed", "searched")
SCHEDULES = ("constant", "cosine", "warmup_cosine")
JIT_CHOICES = ("auto", True, False)
DISTRIBUTIONS = (None, "data_parallel")


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run: model preset + overrides, task + knobs, budget, optimizer, seed.

    model: a registered model name, e.g. `"lstm_small"`.
    task: a registered task name, e.g. `"copying"`.
    task_knobs: knobs of the task (`{"sequence_length": 200}`).
    model_overrides: hyperparameters replacing the preset's (`{"num_heads": 1}`).
    Budget (training stops at whichever comes first, or once solved):
        epochs: passes over the training split.
        steps: optimizer steps in total; when given, replaces `epochs`
            (the training split is cycled as often as needed).
        max_seconds: wall-clock seconds of training.
    Optimizer:
        optimizer: one of `OPTIMIZERS`; learning_rate; weight_decay (adamw,
            and decoupled decay for the others when > 0); clipnorm.
        schedule: `"constant"`, `"cosine"` (decay to 0 over the step budget)
            or `"warmup_cosine"` (linear warm-up over 10 % of it, then cosine).
    batch_size: examples per step.
    jit_compile: passed to `model.compile` (`"auto"`, True = XLA / jit).
    precision: the Keras dtype policy (`"mixed_bfloat16"` on GPUs).
    distribution: None (one device) or `"data_parallel"`: Keras's
        `DataParallel` over every local device (JAX backend), each batch
        split evenly across them.
    seed: seeds the data (`task.build(seed)`) and the weights.
    probes: names from `zoo.runner.probes.PROBES` measured on the model and
        recorded under `record["probes"]` (`"gradients"` also at
        initialisation).
    pretrain_steps: when set, the model first self-pretrains for this many
        steps with a masked-token objective on the task's training inputs
        (`zoo.runner.pretraining`), is saved to `pretrained.keras` in the run's
        folder and loaded back from it, then trains on the task.
    pretrain_mask_rate: the share of tokens masked in pretraining.

    patience: validations to keep training after the validation score first
        counts as solved (0: stop there; None: never stop early, train the
        whole budget). The test split is scored with the best validation
        epoch's weights either way.
    searched: the settings of this run that an experiment searched
        (`Search`), e.g. `("learning_rate",)` or
        `("model_overrides.normalize_first",)`; set by `expand`. Reports
        group runs that differ only in these and pick on validation.

    Fields left at their defaults do not enter `run_id`, so adding a field
    later keeps the ids (and the finished runs) of existing experiments.
    """

    model: str
    task: str
    task_knobs: dict = dataclasses.field(default_factory=dict)
    model_overrides: dict = dataclasses.field(default_factory=dict)
    epochs: int = 1
    steps: Optional[int] = None
    max_seconds: Optional[float] = None
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    weight_decay: float = 0.0
    clipnorm: Optional[float] = None
    jit_compile: object = "auto"
    precision: str = "float32"
    distribution: Optional[str] = None
    seed: int = 0
    probes: tuple = ()
    pretrain_steps: Optional[int] = None
    pretrain_mask_rate: float = 0.15
    patience: Optional[int] = 0
    searched: tuple = ()
    # (setting, values below, values above) of a Search's `below` / `above`,
    # set by `expand`: the values a sweep tries next where this run's cell
    # chose the edge of its grid (`zoo.sweep.staged.beyond_the_grid`). Not part
    # of the run's record or id: the runs it leads to have their own.
    edges: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def __post_init__(self):
        # JSON gives lists; a tuple keeps the run hashable and its id stable
        for name in ("probes", "searched"):
            if isinstance(getattr(self, name), (list, tuple)):
                object.__setattr__(self, name, tuple(getattr(self, name)))

    def to_dict(self):
        """The run as JSON would give it back (`probes` a list)."""
        if self.searches():
            raise ValueError(
                f"Run {self.model} on {self.task} still has settings to search "
                f"({', '.join(self.searches())}); `expand(run)` makes one run per value.")
        values = dataclasses.asdict(self)
        del values["edges"]
        values["probes"] = list(self.probes)
        values["searched"] = list(self.searched)
        return values

    def searches(self):
        """`{setting: Search}` of the settings still to search, e.g.
        `{"learning_rate": Search(3e-4, 1e-3, 3e-3)}`."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                 if isinstance(getattr(self, f.name), Search)}
        for group in ("model_overrides", "task_knobs"):
            found.update({f"{group}.{k}": v for k, v in getattr(self, group).items()
                          if isinstance(v, Search)})
        return found

    @classmethod
    def from_dict(cls, values):
        """The run a `to_dict()` (or a record's `"run"`) describes."""
        fields = {f.name for f in dataclasses.fields(cls)} - {"edges"}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"Unknown Run fields {unknown}; valid: {sorted(fields)}")
        return cls(**values)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    @property
    def run_id(self):
        """A folder name that says what ran and is unique to the configuration."""
        defaults = type(self)(model=self.model, task=self.task).to_dict()
        identity = {k: v for k, v in self.to_dict().items()
                    if k in ("model", "task") or v != defaults[k]}
        digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.model}--{self.task}--s{self.seed}--{digest}"

    def resolve(self):
        """The task and the model config, raising any configuration error now.

        Call before training starts so that a bad name, knob or override
        fails at once, not after other runs have trained.
        """
        self.to_dict()  # a run with settings still to search is refused, named
        task = zoo.tasks.get(self.task, **self.task_knobs)
        config = zoo.models.config(self.model, **self.model_overrides)
        zoo.models.check_fits(self.model, task.spec, **self.model_overrides)
        for name in ("epochs", "batch_size", "steps", "pretrain_steps"):
            value = getattr(self, name)
            if name in ("steps", "pretrain_steps") and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                self._invalid(name, value, "a positive integer")
        for name in ("learning_rate", "max_seconds", "clipnorm"):
            value = getattr(self, name)
            if value is None and name != "learning_rate":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                self._invalid(name, value, "a positive number")
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, (int, float)) \
                or self.weight_decay < 0:
            self._invalid("weight_decay", self.weight_decay, "a number >= 0")
        for name, valid in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                            ("precision", PRECISIONS), ("jit_compile", JIT_CHOICES),
                            ("distribution", DISTRIBUTIONS)):
            value = getattr(self, name)
            if not any(value is v or (isinstance(v, str) and value == v) for v in valid):
                self._invalid(name, value, f"one of {list(valid)}")
        if self.seed != int(self.seed) or isinstance(self.seed, bool):
            self._invalid("seed", self.seed, "an integer")
        if isinstance(self.pretrain_mask_rate, bool) or not isinstance(
                self.pretrain_mask_rate, (int, float)) or not 0 < self.pretrain_mask_rate < 1:
            self._invalid("pretrain_mask_rate", self.pretrain_mask_rate, "a number in (0, 1)")
        if self.patience is not None and (isinstance(self.patience, bool)
                                          or not isinstance(self.patience, int) or self.patience < 0):
            self._invalid("patience", self.patience, "an integer >= 0, or None (no early stop)")
        if not isinstance(self.probes, tuple):
            self._invalid("probes", self.probes, f"a list of names from {list(probes.PROBES)}")
        probes.check(self.probes, self.model, task)
        if self.pretrain_steps is not None:
            pretraining.pretraining_spec(task.spec)  # token inputs only
        return task, config

    def devices(self):
        """The devices this run trains on (several with data_parallel)."""
        if self.distribution is None:
            return 1
        if keras.backend.backend() != "jax":
            raise ValueError(
                f"distribution={self.distribution!r} uses keras.distribution, which "
                f"needs the JAX backend; this process runs {keras.backend.backend()!r}. "
                "Set KERAS_BACKEND=jax (or `zoo run --backend jax`)."
            )
        count = len(keras.distribution.list_devices())
        if self.batch_size % count:
            self._invalid("batch_size", self.batch_size,
                          f"a multiple of the {count} devices data_parallel splits it over")
        return count

    def check_resources(self):
        """What this machine must have to train the run, checked now: the
        task's data files (found, or downloaded where allowed, and verified)
        and enough memory for its data. `zoo run` checks every run so before
        the first trains; listing an experiment's runs does not need them."""
        task = zoo.tasks.get(self.task, **self.task_knobs)
        task.check_files()
        self._check_memory(task)

    def _check_memory(self, task):
        """Refuse data that cannot fit in this machine's memory."""
        needed = task.estimated_bytes()
        if needed is None or not hasattr(os, "sysconf"):
            return
        try:
            available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            return
        if needed > available:
            raise ValueError(
                f"Run {self.model} on {self.task} {self.task_knobs} needs about "
                f"{needed / 2**30:,.1f} GiB for its data alone; this machine has "
                f"{available / 2**30:,.1f} GiB. Use a shorter sequence_length or fewer "
                "examples (num_train, num_validation, num_test).")

    def _invalid(self, name, value, expected):
        raise ValueError(
            f"Received an invalid value for `{name}` of run {self.model} on {self.task}, "
            f"expected {expected}. Received: {name}={value!r}"
        )


class Search:
    """Values of one setting to search, one run each:

        Run("lstm_small", "adding", learning_rate=Search(3e-4, 1e-3, 3e-3))
        Run("transformer_small", "adding", {"normalize_first": Search(False, True)})

    Any field of a `Run` but its model, task and seed, and any model override
    or task knob, can be searched. `expand` (which `zoo run` applies) makes
    the runs; reports then compare them on validation and show test at the
    value chosen (`zoo.report.selection`).

    A numeric grid may name where to go when a cell chooses its edge:

        Search(3e-4, 1e-3, 3e-3, 1e-2, above=(3e-2, 1e-1), below=(1e-4,))

    A sweep that chose the largest value tried trains the next of `above`
    (the smallest: the next of `below`), at the seeds it chooses on, and
    chooses again, until the choice is inside the grid or the list is spent
    (`zoo.sweep.staged.beyond_the_grid`; tuning playbooks' rule: a best value
    on the boundary of the search space means the space was too small).
    """

    def __init__(self, *values, above=(), below=()):
        if not values or len(set(map(repr, values))) != len(values):
            raise ValueError(f"Search needs one or more distinct values; got {values!r}")
        self.values = tuple(values)
        self.above, self.below = tuple(above), tuple(below)
        if self.above or self.below:
            every = self.values + self.above + self.below
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in every):
                raise ValueError(f"Search above/below need numbers; got {self!r}")
            if self.above and list(self.above) != sorted(self.above) or \
                    self.above and self.above[0] <= max(self.values):
                raise ValueError(f"Search above= must rise from past the largest value "
                                 f"{max(self.values)!r}; got {self.above!r}")
            if self.below and list(self.below) != sorted(self.below, reverse=True) or \
                    self.below and self.below[0] >= min(self.values):
                raise ValueError(f"Search below= must fall from under the smallest value "
                                 f"{min(self.values)!r}; got {self.below!r}")

    def __repr__(self):
        extra = "".join(f", {name}={getattr(self, name)!r}" for name in ("above", "below")
                        if getattr(self, name))
        return f"Search{self.values!r}"[:-1] + extra + ")" if extra else f"Search{self.values!r}"

    def __eq__(self, other):
        return isinstance(other, Search) and (self.values, self.above, self.below) == (
            other.values, other.above, other.below)

    def __hash__(self):
        return hash((self.values, self.above, self.below))


def expand(run):
    """The runs of `run`, one per combination of its searched values (in the
    order given), each naming what was searched in `searched`; `[run]` when
    nothing is searched."""
    searches = run.searches()
    bad = sorted(set(searches) & set(NOT_SEARCHABLE))
    if bad:
        raise ValueError(f"Received a Search for {bad} of run {run.model} on {run.task}; "
                         f"every other setting can be searched, not {list(NOT_SEARCHABLE)}")
    if not searches:
        return [run]
    names = sorted(searches)
    edges = tuple((name, search.below, search.above) for name, search in sorted(searches.items())
                  if search.below or search.above)
    if edges and len(names) > 1:
        raise ValueError(f"Run {run.model} on {run.task} searches {names}: a Search with "
                         "above/below must be the run's only one (its edge is then one value)")
    runs = []
    for combination in itertools.product(*(searches[name].values for name in names)):
        changes = {"searched": tuple(names), "edges": edges}
        for name, value in zip(names, combination):
            group, _, key = name.partition(".")
            if key:
                changes[group] = {**changes.get(group, getattr(run, group)), key: value}
            else:
                changes[name] = value
        runs.append(run.replace(**changes))
    return runs
