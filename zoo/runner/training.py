"""`train_and_evaluate(run, workdir)`: train one run, score it, write its record.

The record's fields are listed in `zoo.record.RUN_FIELDS`; besides the
scores it carries what a report needs to read it without today's code: the
resolved model config, the task's baseline, threshold and loss floor, the
input length.
"""

import collections
import csv
import dataclasses
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import keras

import zoo.models
from zoo import record as records
from zoo.measure import backend, environment, flops
from zoo.runner import pretraining, probes
from zoo.runner.callbacks import Budget, StepTimer, TaskMonitor
from zoo.runner.evaluation import evaluate, inference_samples_per_second
from zoo.runner.run import Run
from zoo.tasks.base import Split

WARMUP_FRACTION = 0.1  # of the steps, for the warmup_cosine schedule


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
    task, config = run.resolve()
    run_dir = None
    if workdir is not None:
        run_dir = Path(workdir) / run.run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        records.remove_stale_temporaries(run_dir)  # a killed earlier attempt's
        records.write_json_atomically(run_dir / records.CONFIG_FILE, run.to_dict())

    num_devices = run.devices()
    data = build_data(task, run.seed)
    train = Split(*data.train)
    steps_per_epoch = math.ceil(train.num_examples / run.batch_size)
    epochs = run.epochs if run.steps is None else math.ceil(run.steps / steps_per_epoch)
    total_steps = run.steps or epochs * steps_per_epoch
    keras.utils.set_random_seed(run.seed)
    backend.reset_peak(backend.backend())
    previous_policy = keras.config.dtype_policy()
    previous_distribution = keras.distribution.distribution()
    keras.config.set_dtype_policy(run.precision)
    if run.distribution == "data_parallel":
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=keras.distribution.list_devices()))
    try:
        return _train(run, task, config, data, train, epochs, total_steps, num_devices,
                      run_dir, wall_started, verbose)
    finally:
        keras.config.set_dtype_policy(previous_policy)
        keras.distribution.set_distribution(previous_distribution)


def _train(run, task, config, data, train, epochs, total_steps, num_devices, run_dir,
           wall_started, verbose):
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
    monitor = TaskMonitor(task, data.validation, run.batch_size, started, run.patience)
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
    peak_mb, peak_kind = backend.peak_mb(backend.backend())
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
        "loss_floor": getattr(task, "loss_floor", None),
        "validation": {spec.metric: monitor.scores},
        "validation_steps": monitor.steps,
        "validation_train_seconds": monitor.train_seconds,
        "best_epoch": monitor.best_epoch,
        "solved_epoch": monitor.solved_epoch,
        "time_to_solve_seconds": monitor.solved_seconds,
        "budget_exhausted": budget.exhausted,
        "params": zoo.models.count_params(model),
        "model_config": dataclasses.asdict(config),
        # floats carried per sequence while generating (Zoology's state size)
        "state_size": zoo.models.state_size(run.model, spec, **run.model_overrides),
        "input_length": length,
        "flops_per_example": flops.per_example(model, length),
        "train_steps": len(timer.durations),
        "train_step_seconds_median": step_seconds,
        "train_steps_per_second": 1.0 / step_seconds,
        # a step feeds the batch, or the whole training split when it is smaller
        "train_samples_per_second": min(run.batch_size, train.num_examples) / step_seconds,
        "train_tokens_per_second": min(run.batch_size, train.num_examples) * tokens
        / step_seconds,
        "inference_samples_per_second": inference_rate,
        "train_seconds": train_seconds,
        "peak_memory_mb": peak_mb,
        "peak_memory_kind": peak_kind,
        "probes": probe_results,
        "pretraining": pretrain_summary,
        "environment": {
            **environment.describe(),
            "devices_requested": num_devices,
            # where the weights actually live (replicated on each device used)
            "devices_used": backend.devices_holding(model.trainable_variables[0]),
        },
    }
    record["wall_seconds"] = time.perf_counter() - wall_started
    if run_dir is not None:
        _write_history(run_dir / records.HISTORY_FILE, history.history)
        records.write_json_atomically(run_dir / records.RECORD_FILE, record)
    return record


def load_record(workdir, run):
    """The record of a finished run in `workdir`, or None: then the run trains.

    A record that cannot be read is moved aside (`zoo.record.finished_record`);
    so is one whose model was built from other preset values than `run`'s
    today (`metrics.json.stale`): it is kept, but it is not this run.
    """
    found = records.finished_record(workdir, run.run_id)
    if found is None or "model_config" not in found:
        return found
    config = dataclasses.asdict(zoo.models.config(run.model, **run.model_overrides))
    if json.loads(records.dumps(config)) != found["model_config"]:
        path = records.run_record_path(workdir, run.run_id)
        path.replace(path.with_name(path.name + records.STALE_SUFFIX))
        return None
    return found
