"""Train one model on one task and record what happened.

    from zoo.runner import Run, train_and_evaluate
    record = train_and_evaluate(Run("lstm_small", "copying", {"sequence_length": 50}), "runs/demo")

A run writes its own folder `workdir/<run_id>/`: `config.json` (the resolved
run), `history.csv` (per-epoch Keras logs) and, last, `metrics.json` (the
record). `metrics.json` is written atomically, so a folder that has one holds
a finished run and a killed run leaves none.
"""

import collections
import csv
import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import keras
import numpy as np

import zoo.models
import zoo.tasks
from zoo import backend_adapter, environment, flops, pretraining, probes
from zoo.tasks.base import Split

RECORD_FILE = "metrics.json"
WARMUP_STEPS = 2  # steps left out of the timing (tracing, compilation, caches)
EVAL_CHUNK_BYTES = 256 * 2**20  # predictions held at once while scoring a split
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "bfloat16")
JIT_CHOICES = ("auto", True, False)
DISTRIBUTIONS = (None, "data_parallel")
WARMUP_FRACTION = 0.1  # of the steps, for the warmup_cosine schedule


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
    probes: names from `zoo.probes.PROBES` measured on the model and
        recorded under `record["probes"]` (`"gradients"` also at
        initialisation).
    pretrain_steps: when set, the model first self-pretrains for this many
        steps with a masked-token objective on the task's training inputs
        (`zoo.pretraining`), is saved to `pretrained.keras` in the run's
        folder and loaded back from it, then trains on the task.
    pretrain_mask_rate: the share of tokens masked in pretraining.

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

    def __post_init__(self):
        # JSON gives lists; a tuple keeps the run hashable and its id stable
        if isinstance(self.probes, (list, tuple)):
            object.__setattr__(self, "probes", tuple(self.probes))

    def to_dict(self):
        """The run as JSON would give it back (`probes` a list)."""
        values = dataclasses.asdict(self)
        values["probes"] = list(self.probes)
        return values

    @classmethod
    def from_dict(cls, values):
        """The run a `to_dict()` (or a record's `"run"`) describes."""
        fields = {f.name for f in dataclasses.fields(cls)}
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
        task = zoo.tasks.get(self.task, **self.task_knobs)
        config = zoo.models.config(self.model, **self.model_overrides)
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

    def _invalid(self, name, value, expected):
        raise ValueError(
            f"Received an invalid value for `{name}` of run {self.model} on {self.task}, "
            f"expected {expected}. Received: {name}={value!r}"
        )


class StepTimer(keras.callbacks.Callback):
    """Wall time of every training step (Keras calls back after each batch).

    The step's loss is read as a Python number before the clock is, which
    waits for the device to finish the step (asynchronous backends return
    before the work is done).
    """

    def __init__(self):
        super().__init__()
        self.durations = []
        self._start = None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if logs and "loss" in logs:
            float(keras.ops.convert_to_numpy(logs["loss"]))  # synchronise
        self.durations.append(time.perf_counter() - self._start)

    def median_step_seconds(self):
        timed = self.durations[WARMUP_STEPS:] or self.durations
        return float(np.median(timed)) if timed else float("nan")


class Budget(keras.callbacks.Callback):
    """Stops training after `steps` optimizer steps or `max_seconds` of training."""

    def __init__(self, steps=None, max_seconds=None):
        super().__init__()
        self.steps, self.max_seconds = steps, max_seconds
        self.taken, self.started, self.exhausted = 0, None, None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.taken += 1
        if self.steps is not None and self.taken >= self.steps:
            self.exhausted, self.model.stop_training = "steps", True
        elif self.max_seconds is not None and \
                time.perf_counter() - self.started >= self.max_seconds:
            self.exhausted, self.model.stop_training = "max_seconds", True


class TaskMonitor(keras.callbacks.Callback):
    """Scores the validation split with the task's own metric after each epoch.

    Keras's metrics can disagree with the task's (copying's accuracy counts
    only the answer steps), so the best epoch and "solved" are judged here:
    the best weights are kept and restored at the end, and training stops at
    the first epoch whose validation score counts as solved. The epoch's
    logs get `val_loss` and `val_task_<metric>`. `steps` and
    `train_seconds` say, for each score, after how many training steps and
    seconds of training (validation time left out) it was taken: the curve
    that time-to-accuracy is read from.
    """

    def __init__(self, task, validation, batch_size, started):
        super().__init__()
        self.task, self.validation, self.batch_size = task, validation, batch_size
        self.started = started
        self.scores, self.best_epoch, self.best_weights = [], None, None
        self.solved_epoch = self.solved_seconds = None
        self.steps, self.train_seconds, self.taken, self.validating = [], [], 0, 0.0

    def on_train_batch_end(self, batch, logs=None):
        self.taken += 1

    def _better(self, value, best):
        if best is None:
            return math.isfinite(value)
        return value > best if self.task.spec.higher_is_better else value < best

    def on_epoch_end(self, epoch, logs=None):
        spec = self.task.spec
        began = time.perf_counter()
        self.steps.append(self.taken)
        self.train_seconds.append(began - self.started - self.validating)
        result = evaluate(self.model, self.task, self.validation, self.batch_size)
        self.validating += time.perf_counter() - began
        value = result[spec.metric]
        self.scores.append(value)
        if logs is not None:
            if "loss" in result:
                logs["val_loss"] = result["loss"]
            logs[f"val_task_{spec.metric}"] = value
        best = None if self.best_epoch is None else self.scores[self.best_epoch]
        if self._better(value, best):
            self.best_epoch, self.best_weights = epoch, self.model.get_weights()
        if spec.solved(value) and self.solved_epoch is None:
            self.solved_epoch = epoch
            self.solved_seconds = time.perf_counter() - self.started
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _predict(model, task, split, batch_size):
    if task.spec.output_kind == "sequence":
        return zoo.models.greedy_decode(
            model, split.inputs["encoder_inputs"], task.spec.target_length, batch_size
        )
    return model.predict(split.inputs, batch_size=batch_size, verbose=0)


def evaluate(model, task, split, batch_size, slices=None):
    """`task.evaluate` of the model's predictions on `split`, scored in chunks.

    Predictions are made and reduced to per-example scores a chunk at a
    time, so a split whose logits would not fit in memory (a large
    vocabulary at every position) is scored all the same.
    """
    split = Split(*split)
    total = split.num_examples
    parts, start, chunk = [], 0, min(batch_size, total)
    while start < total:
        part = split.take(start, start + chunk)
        predictions = _predict(model, task, part, batch_size)
        parts.append(task.example_scores(predictions, part))
        if start == 0:  # size the other chunks from the first batch's predictions
            per_example = max(1, np.asarray(predictions).nbytes // part.num_examples)
            chunk = max(batch_size, EVAL_CHUNK_BYTES // per_example // batch_size * batch_size)
        start += part.num_examples
    scores = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return task.summarize(scores, slices)


def inference_samples_per_second(model, task, split, batch_size, repeats=5):
    """Examples per second of prediction on full batches (median of `repeats`
    timed batches after one warm-up; predictions come back as NumPy, which
    synchronises the device)."""
    split = Split(*split)
    batch = split.take(0, min(batch_size, split.num_examples))
    count = batch.num_examples

    def once():
        if task.spec.output_kind == "sequence":
            return _predict(model, task, batch, batch_size)
        return keras.ops.convert_to_numpy(model.predict_on_batch(batch.inputs))

    once()
    durations = []
    for _ in range(repeats):
        began = time.perf_counter()
        once()
        durations.append(time.perf_counter() - began)
    return count / float(np.median(durations))


def make_optimizer(run, total_steps):
    """The optimizer and learning-rate schedule `run` asks for."""
    rate = run.learning_rate
    if run.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(run.learning_rate, max(1, total_steps))
    elif run.schedule == "warmup_cosine":
        warmup = max(1, int(WARMUP_FRACTION * total_steps))
        rate = keras.optimizers.schedules.CosineDecay(
            0.0, max(1, total_steps - warmup), warmup_target=run.learning_rate,
            warmup_steps=warmup,
        )
    options = {"learning_rate": rate}
    if run.clipnorm is not None:
        options["clipnorm"] = run.clipnorm
    if run.weight_decay and run.optimizer != "adamw":
        options["weight_decay"] = run.weight_decay
    if run.optimizer == "adam":
        return keras.optimizers.Adam(**options)
    if run.optimizer == "adamw":
        return keras.optimizers.AdamW(weight_decay=run.weight_decay, **options)
    if run.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=0.9, **options)
    return keras.optimizers.RMSprop(**options)


def input_length(spec):
    """Sequence length the model sees: `T`, or `{"encoder", "decoder"}` for seq2seq."""
    if spec.output_kind == "sequence":
        return {"encoder": spec.sequence_length, "decoder": spec.target_length}
    return spec.sequence_length


def _verbosity():
    return 1 if sys.stdout.isatty() else 2  # no \r / \b progress bars in logs


def _write_json_atomically(path, payload):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_jsonable))
    os.replace(tmp, path)


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def _write_history(path, history):
    keys = list(history)
    rows = zip(*(history[k] for k in keys))
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch"] + keys)
        for epoch, row in enumerate(rows):
            writer.writerow([epoch] + [float(v) for v in row])


_BUILT = collections.OrderedDict()  # (task, knobs, seed) -> TaskData, most recent last
BUILT_KEPT = 4  # datasets kept for the next runs of a sweep (e.g. one per seed)


def build_data(task, seed):
    """`task.build(seed)`, kept for the next runs of this process.

    Runs of a sweep that differ only in the model share their data; a
    generator such as listops' takes minutes to draw it, so the last
    `BUILT_KEPT` datasets are kept (nothing writes into their arrays).
    """
    key = (task.name, json.dumps(task.knobs(), sort_keys=True, default=str), int(seed))
    if key in _BUILT:
        _BUILT.move_to_end(key)
        return _BUILT[key]
    data = task.build(seed=seed)
    _BUILT[key] = data
    while len(_BUILT) > BUILT_KEPT:
        _BUILT.popitem(last=False)
    return data


def train_and_evaluate(run: Run, workdir: Optional[str] = None, verbose: Optional[int] = None):
    """Train `run`, score it on the test split, and return its record.

    After each epoch the validation split is scored with the task's metric;
    training stops early once it counts as solved (or the step / time budget
    is spent), and the test split is scored with the weights of the best
    validation epoch. With a `workdir`, the run's folder holds `config.json`,
    `history.csv` and `metrics.json`. A run whose loss becomes NaN is recorded
    with status `"diverged"` instead of raising.
    """
    wall_started = time.perf_counter()
    task, _ = run.resolve()
    run_dir = None
    if workdir is not None:
        run_dir = Path(workdir) / run.run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_json_atomically(run_dir / "config.json", run.to_dict())

    num_devices = run.devices()
    data = build_data(task, run.seed)
    train = Split(*data.train)
    steps_per_epoch = math.ceil(train.num_examples / run.batch_size)
    epochs = run.epochs if run.steps is None else math.ceil(run.steps / steps_per_epoch)
    total_steps = run.steps or epochs * steps_per_epoch
    keras.utils.set_random_seed(run.seed)
    backend_adapter.reset_peak_device_memory()
    backend_adapter.reset_peak_host_memory()
    previous_policy = keras.config.dtype_policy()
    previous_distribution = keras.distribution.distribution()
    keras.config.set_dtype_policy(run.precision)
    if run.distribution == "data_parallel":
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=keras.distribution.list_devices()))
    try:
        return _train(run, task, data, train, epochs, total_steps, num_devices,
                      run_dir, wall_started, verbose)
    finally:
        keras.config.set_dtype_policy(previous_policy)
        keras.distribution.set_distribution(previous_distribution)


def _train(run, task, data, train, epochs, total_steps, num_devices, run_dir, wall_started,
           verbose):
    spec = task.spec
    pretrain_summary = None
    if run.pretrain_steps:
        model = zoo.models.get(run.model, pretraining.pretraining_spec(spec),
                               **run.model_overrides)
    else:
        model = zoo.models.get(run.model, spec, **run.model_overrides)
    at_init = probes.measure(run.probes, model, task, data, "init")
    if run.pretrain_steps:
        # without a run folder the .keras file lives only until it is loaded back
        scratch = tempfile.TemporaryDirectory(prefix="zoo-") if run_dir is None else None
        folder = run_dir if scratch is None else Path(scratch.name)
        model, pretrain_summary = pretraining.pretrain(
            model, spec, Split(*data.train).inputs, Split(*data.validation).inputs, run,
            make_optimizer(run, run.pretrain_steps), folder / "pretrained.keras",
            _verbosity() if verbose is None else verbose)
        if scratch is not None:
            scratch.cleanup()
    model.compile(
        optimizer=make_optimizer(run, total_steps),
        loss=spec.loss(),
        metrics=spec.keras_metrics(),
        jit_compile=run.jit_compile,
    )
    timer, budget = StepTimer(), Budget(run.steps, run.max_seconds)
    started = time.perf_counter()
    monitor = TaskMonitor(task, data.validation, run.batch_size, started)
    history = model.fit(
        **train.fit_kwargs(),
        epochs=epochs,
        batch_size=run.batch_size,
        callbacks=[timer, budget, keras.callbacks.TerminateOnNaN(), monitor],
        verbose=_verbosity() if verbose is None else verbose,
    )
    train_seconds = time.perf_counter() - started
    losses = history.history.get("loss", [])
    diverged = not losses or not all(math.isfinite(v) for v in losses)

    test_metrics, extra_metrics, inference_rate = {}, {}, None
    if not diverged:
        test_metrics = evaluate(model, task, data.test, run.batch_size, data.slices.get("test"))
        for name, split in data.extra_tests.items():
            extra_metrics[name] = evaluate(model, task, split, run.batch_size,
                                           data.slices.get(name))
        inference_rate = inference_samples_per_second(model, task, data.test, run.batch_size)
    probe_results = {} if diverged else probes.merge(
        at_init, probes.measure(run.probes, model, task, data, "trained"))
    step_seconds = timer.median_step_seconds()
    length = input_length(spec)
    tokens = sum(length.values()) if isinstance(length, dict) else length
    device_peak = backend_adapter.peak_device_memory_mb()
    record = {
        "run_id": run.run_id,
        "run": run.to_dict(),
        "status": "diverged" if diverged else "finished",
        "metric": spec.metric,
        "higher_is_better": spec.higher_is_better,
        "test": test_metrics,
        "extra_tests": extra_metrics,
        "solved": (not diverged) and spec.solved(test_metrics.get(spec.metric)),
        "baseline": spec.baseline,
        "solved_at": spec.solved_at,
        "validation": {spec.metric: monitor.scores},
        "validation_steps": monitor.steps,
        "validation_train_seconds": monitor.train_seconds,
        "best_epoch": monitor.best_epoch,
        "solved_epoch": monitor.solved_epoch,
        "time_to_solve_seconds": monitor.solved_seconds,
        "budget_exhausted": budget.exhausted,
        "params": zoo.models.count_params(model),
        "input_length": length,
        "flops_per_example": flops.per_example(model, length),
        "train_steps": len(timer.durations),
        "train_step_seconds_median": step_seconds,
        "train_steps_per_second": 1.0 / step_seconds,
        "train_samples_per_second": run.batch_size / step_seconds,
        "train_tokens_per_second": run.batch_size * tokens / step_seconds,
        "inference_samples_per_second": inference_rate,
        "train_seconds": train_seconds,
        "peak_memory_mb": device_peak if device_peak is not None
        else backend_adapter.peak_host_memory_mb(),
        "peak_memory_kind": "device" if device_peak is not None else "host_rss",
        "probes": probe_results,
        "pretraining": pretrain_summary,
        "environment": {
            **environment.describe(),
            "devices_requested": num_devices,
            # where the weights actually live (replicated on each device used)
            "devices_used": backend_adapter.devices_holding(model.trainable_variables[0]),
        },
    }
    record["wall_seconds"] = time.perf_counter() - wall_started
    if run_dir is not None:
        _write_history(run_dir / "history.csv", history.history)
        _write_json_atomically(run_dir / RECORD_FILE, record)
    return record


def load_record(workdir, run):
    """The record of a finished run in `workdir`, or None."""
    path = Path(workdir) / run.run_id / RECORD_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text())


def main(argv=None):
    """`python -m zoo.runner WORKDIR RUN_JSON`: one run in this process.

    The sweep starts runs this way when each run needs its own process (a
    different Keras backend, or memory measured from a clean start).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m zoo.runner")
    parser.add_argument("workdir")
    parser.add_argument("run_json", help="a Run as JSON (Run.to_dict())")
    args = parser.parse_args(argv)
    train_and_evaluate(Run.from_dict(json.loads(args.run_json)), args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
