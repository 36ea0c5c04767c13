"""The task interface every data pipeline shares.

A task is a frozen dataclass of knobs, registered under a name. It tells a
model what to accept and emit through its `spec`, and `build(seed)` makes the
data: NumPy arrays ready for `model.fit(*data.train)`, plus per-example slice
metadata (distance, length, ...) to read accuracy as a function of difficulty.

Seeds: each split draws from `numpy.random.SeedSequence(seed)` spawned by split,
so the train and evaluation streams are different by construction and can
never overlap, whatever seeds a user picks.
"""

import dataclasses
import difflib
from typing import Any, Optional

import numpy as np

from zoo.spec import INPUT_KINDS, OUTPUT_KINDS, START_TOKEN, TaskSpec  # noqa: F401 (tasks' names)
from zoo.tasks import metrics
from zoo.tasks.seeds import split_rng, stream_rng  # noqa: F401 (the tasks' names)

SPLITS = ("train", "validation", "test")


class Split(tuple):
    """`(inputs, targets)` or `(inputs, targets, sample_weights)` of one split.

    A plain tuple, plus names for its parts. `model.fit(*split)` works for a
    pair, but Keras's third positional argument is `batch_size`, so with
    sample weights use `model.fit(**split.fit_kwargs())`, which works for both.
    """

    def __new__(cls, inputs, targets, sample_weights=None):
        parts = (inputs, targets) if sample_weights is None else (inputs, targets, sample_weights)
        return super().__new__(cls, parts)

    @property
    def inputs(self):
        return self[0]

    @property
    def targets(self):
        return self[1]

    @property
    def sample_weights(self):
        return self[2] if len(self) > 2 else None

    @property
    def num_examples(self):
        first = self[0]
        if isinstance(first, dict):
            first = next(iter(first.values()))
        return len(first)

    def take(self, start, stop):
        """Examples `start:stop` of every part, as a `Split`."""
        def cut(part):
            if part is None:
                return None
            if isinstance(part, dict):
                return {key: value[start:stop] for key, value in part.items()}
            return part[start:stop]

        return Split(cut(self.inputs), cut(self.targets), cut(self.sample_weights))

    def fit_kwargs(self):
        """`{"x": ..., "y": ..., "sample_weight": ...}` for `fit` / `evaluate`."""
        return {"x": self.inputs, "y": self.targets, "sample_weight": self.sample_weights}


@dataclasses.dataclass
class TaskData:
    """The arrays of one `build(seed)`.

    `train`, `validation` and `test` are `Split`s: `(inputs, targets)` or
    `(inputs, targets, sample_weights)` tuples. `slices[split]` maps a slice
    name (e.g. `"distance"`) to one value per example of that split.
    `extra_tests[name]` holds further test splits (e.g. the same task at
    longer lengths), scored by the runner beside `test`; their slices are in
    `slices[name]`.
    """

    train: tuple
    validation: tuple
    test: tuple
    slices: dict = dataclasses.field(default_factory=dict)
    extra_tests: dict = dataclasses.field(default_factory=dict)

    def split(self, name):
        if name in self.extra_tests:
            return self.extra_tests[name]
        if name not in SPLITS:
            raise KeyError(
                f"Unknown split {name!r}; valid: {list(SPLITS) + list(self.extra_tests)}"
            )
        return getattr(self, name)


_REGISTRY: dict = {}


def register(name):
    """Class decorator: register a task dataclass under `name`."""

    def wrap(cls):
        if name in _REGISTRY:
            raise ValueError(f"Task {name!r} is registered twice.")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def names():
    """The registered task names, sorted."""
    return sorted(_REGISTRY)


def get_class(name):
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise KeyError(f"Unknown task {name!r}.{hint} Valid tasks: {names()}")
    return _REGISTRY[name]


def knobs(name):
    """`{knob: default}` of a registered task."""
    cls = get_class(name)
    return {
        f.name: f.default
        for f in dataclasses.fields(cls)
        if f.init and f.default is not dataclasses.MISSING
    }


def get(name, **knob_values):
    """An instance of task `name` with `knob_values` set.

    Raises `KeyError` for an unknown task and `ValueError` for an unknown
    knob or a bad knob value, each listing the valid choices.
    """
    cls = get_class(name)
    valid = knobs(name)
    unknown = sorted(set(knob_values) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown knob(s) {unknown} for task {name!r}. Valid knobs and "
            f"defaults: {valid}"
        )
    # JSON (a run's record, a worker's job) writes a tuple as a list: read
    # back, a tuple-valued knob gets its tuple again.
    knob_values = {k: tuple(v) if isinstance(v, list) and isinstance(valid[k], tuple) else v
                   for k, v in knob_values.items()}
    return cls(**knob_values)


def check_knob(task, name, value, valid, condition):
    """Raise a clear error for a knob value outside `valid` (a description)."""
    if not condition:
        raise ValueError(
            f"Received an invalid value for knob `{name}` of task "
            f"{task!r}, expected {valid}. Received: {name}={value!r}"
        )


def check_int(task, name, value, minimum=1):
    """Refuse a knob that is not an integer >= `minimum`."""
    check_knob(task, name, value, f"an integer >= {minimum}",
               isinstance(value, (int, np.integer)) and not isinstance(value, bool)
               and value >= minimum)


def check_sizes(task):
    for name in ("num_train", "num_validation", "num_test"):
        check_int(task.name, name, getattr(task, name))


class Task:
    """Base of every task. Subclasses are frozen dataclasses with knobs."""

    name: str = "task"

    @property
    def spec(self) -> TaskSpec:
        raise NotImplementedError

    def build(self, seed: int = 0) -> TaskData:
        raise NotImplementedError

    def knobs(self) -> dict:
        return dataclasses.asdict(self)

    def check_files(self):
        """Refuse now a data file the task would miss later (real datasets)."""

    def estimated_bytes(self):
        """About how much memory the built splits take: inputs and targets
        of every example, 4 bytes a value (None when the task cannot tell)."""
        sizes = [getattr(self, f"num_{split}", None) for split in SPLITS]
        if any(not isinstance(n, int) for n in sizes):
            return None
        spec = self.spec
        per_step = spec.feature_dim or 1
        if spec.input_kind == "image":
            per_step = int(np.prod(spec.image_shape)) // max(1, spec.sequence_length)
        values = spec.sequence_length * per_step + (spec.target_length or spec.sequence_length)
        return 4 * sum(sizes) * values

    def metric_weights(self, split_data):
        """Which positions the metric counts: the sample weights by default."""
        return Split(*split_data).sample_weights

    def evaluate(self, predictions: Any, split_data: tuple, slices: Optional[dict] = None):
        """Metrics of `predictions` (raw model outputs) on one split.

        Returns `{"<metric>": value, "loss": value, "by_<slice>": {...}}`:
        the spec's headline metric, the loss (cross-entropy in nats or MSE,
        weighted by the sample weights as in training), and the headline
        metric per slice value for every slice given. Equal to
        `summarize(example_scores(predictions, split_data), slices)`; the
        runner uses those two to score a large split in chunks.
        """
        return self.summarize(self.example_scores(predictions, split_data), slices)

    def example_scores(self, predictions: Any, split_data: tuple) -> dict:
        """One value per example of every metric: `{"<metric>": (N,), "loss": (N,)}`.

        Scores of consecutive chunks of a split can be concatenated and
        handed to `summarize`, which gives what `evaluate` gives on the whole.
        """
        split_data = Split(*split_data)
        targets, train_weights = split_data.targets, split_data.sample_weights
        # One pass over the predictions; the metric and the loss may count
        # different positions (copying scores only its answer steps).
        scores, losses = metrics.per_position(self.spec, predictions, targets)
        return {
            self.spec.metric: metrics.reduce_per_example(
                self.spec, scores, self.metric_weights(split_data)),
            "loss": metrics.reduce_per_example(self.spec, losses, train_weights),
        }

    def summarize(self, scores: dict, slices: Optional[dict] = None) -> dict:
        """Means of per-example `scores` (names starting with `_` are not
        reported), and the headline metric per slice value."""
        result = {name: float(np.mean(values)) for name, values in scores.items()
                  if not name.startswith("_")}
        for slice_name, values in (slices or {}).items():
            result[f"by_{slice_name}"] = metrics.slice_means(scores[self.spec.metric], values)
        return result


class SyntheticTask(Task):
    """A task generated from a rule; every split is drawn fresh from its seed.

    Subclasses implement `generate(rng, num_examples)` returning
    `(inputs, targets, sample_weights or None, slices)`.
    """

    def generate(self, rng, num_examples):
        raise NotImplementedError

    def _make_split(self, seed, split, num_examples):
        inputs, targets, weights, slices = self.generate(split_rng(seed, split), num_examples)
        return Split(inputs, targets, weights), slices

    def build(self, seed=0):
        parts, slices = {}, {}
        for split in SPLITS:
            parts[split], slices[split] = self._make_split(
                seed, split, getattr(self, f"num_{split}")
            )
        return TaskData(slices=slices, **parts)

    def stream(self, seed=0, batch_size=32, steps_per_epoch=100):
        """A `keras.utils.PyDataset` of fresh training batches, for long training."""
        from zoo.tasks.streaming import SyntheticStream

        return SyntheticStream(self, seed, batch_size, steps_per_epoch)
