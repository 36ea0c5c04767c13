"""Scoring a trained model on a split with the task's metric, and its
inference throughput."""

import time

import keras
import numpy as np

import zoo.models
from zoo.tasks.base import Split

EVAL_CHUNK_BYTES = 256 * 2**20  # predictions held at once while scoring a split


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
