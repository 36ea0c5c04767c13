"""Keras callbacks of a run: step timing, the step / time budget, and the
task's own validation metric (best epoch, solved, time to solve)."""

import math
import time

import keras
import numpy as np

from zoo.runner.evaluation import evaluate

WARMUP_STEPS = 2  # steps left out of the timing (tracing, compilation, caches)


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
    logs get `val_loss` and `val_task_<metric>`. With `patience`, training
    goes on for that many validations after the first that counts as solved
    (None: to the end of the budget), so the score kept is the best of them,
    not the first over the threshold. `steps` and
    `train_seconds` say, for each score, after how many training steps and
    seconds of training (validation time left out) it was taken: the curve
    that time-to-accuracy is read from.
    """

    def __init__(self, task, validation, batch_size, started, patience=0):
        super().__init__()
        self.task, self.validation, self.batch_size = task, validation, batch_size
        self.patience = patience
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
        if self.solved_epoch is not None and self.patience is not None \
                and epoch - self.solved_epoch >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
