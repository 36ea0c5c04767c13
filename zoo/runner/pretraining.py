"""Self-pretraining with a masked-token objective (Amos, Berant & Gupta 2023,
"Never Train from Scratch"): before fine-tuning on its task, a model learns
to fill in masked tokens of the task's own training inputs.

The runner does this when `Run.pretrain_steps` is set: the model is built
with one extra token id (the mask, `vocabulary_size`), its per-position
states get a token head, that model trains for `pretrain_steps` on inputs
with `pretrain_mask_rate` of their (non-padding) tokens replaced by the
mask, and the model (without the token head) is saved to a `.keras` file
and loaded back from it for fine-tuning.
"""

import dataclasses
import math
import time

import keras
import numpy as np

from zoo.tasks.seeds import split_rng


def pretraining_spec(spec):
    """The task's spec with one more token id, the mask."""
    if spec.input_kind != "tokens":
        raise ValueError(
            f"Masked-token pretraining needs token inputs; input_kind={spec.input_kind!r} "
            "(valid: 'tokens')")
    return dataclasses.replace(spec, vocabulary_size=spec.vocabulary_size + 1)


def token_states(model):
    """The per-position states the head reads: the input of `pooling` (or of
    `head` for per-position tasks)."""
    names = [layer.name for layer in model.layers]
    for name in ("pooling", "head"):
        if name in names:
            states = model.get_layer(name).input
            return states[0] if isinstance(states, (list, tuple)) else states
    raise ValueError(f"Model {model.name!r} has no 'pooling' or 'head' layer; its layers: {names}")


def masked_token_model(model, vocabulary_size):
    """`model`'s trunk with a token head over every position (shared weights)."""
    logits = keras.layers.Dense(vocabulary_size, dtype="float32", name="mlm_head")(
        token_states(model))
    return keras.Model(model.input, logits, name=f"{model.name}_mlm")


def mask_tokens(rng, inputs, mask_id, rate, padding):
    """`(masked inputs, targets, weights)`: `rate` of the non-padding tokens
    (at least one per row) replaced by `mask_id`; weights mark them."""
    inputs = np.asarray(inputs)
    real = inputs != 0 if padding else np.ones(inputs.shape, dtype=bool)
    chosen = (rng.random(inputs.shape) < rate) & real
    # at least one masked token per row that has any
    scores = np.where(real, rng.random(inputs.shape), -1.0)
    chosen[np.arange(len(inputs)), scores.argmax(axis=1)] |= real.any(axis=1)
    masked = np.where(chosen, mask_id, inputs).astype(inputs.dtype)
    return masked, inputs.copy(), chosen.astype("float32")


class MaskedBatches(keras.utils.PyDataset):
    """`steps` batches of freshly masked training inputs (cycling the split)."""

    def __init__(self, inputs, batch_size, steps, mask_id, rate, padding, seed):
        super().__init__()
        self.inputs, self.batch_size, self.steps = inputs, batch_size, steps
        self.mask_id, self.rate, self.padding, self.seed = mask_id, rate, padding, seed

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        rng = split_rng(self.seed, "pretrain", index)
        rows = np.arange(index * self.batch_size, (index + 1) * self.batch_size) % len(self.inputs)
        return mask_tokens(rng, self.inputs[rows], self.mask_id, self.rate, self.padding)


def pretrain(model, spec, train_inputs, validation_inputs, run, optimizer, path, verbose):
    """Pretrain `model` (built from `pretraining_spec(spec)`), save it to
    `path` (`.keras`) and return `(the model loaded back, summary)`."""
    mask_id = spec.vocabulary_size  # the extra id
    mlm = masked_token_model(model, mask_id + 1)
    mlm.compile(optimizer=optimizer,
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                jit_compile=run.jit_compile)
    batches = MaskedBatches(np.asarray(train_inputs), run.batch_size, run.pretrain_steps,
                            mask_id, run.pretrain_mask_rate, spec.mask_zero, run.seed)
    started = time.perf_counter()
    history = mlm.fit(batches, epochs=1, verbose=verbose)
    seconds = time.perf_counter() - started
    masked, targets, weights = mask_tokens(
        split_rng(run.seed, "pretrain_validation"), validation_inputs, mask_id,
        run.pretrain_mask_rate, spec.mask_zero)
    scores = mlm.evaluate(masked, targets, sample_weight=weights,
                          batch_size=run.batch_size, verbose=0, return_dict=True)
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    summary = {
        "steps": run.pretrain_steps,
        "mask_rate": run.pretrain_mask_rate,
        "validation_masked_accuracy": float(scores["accuracy"]),
        "chance_accuracy": 1.0 / max(1, spec.vocabulary_size - int(spec.mask_zero)),
        "seconds": seconds,
        "file": str(path.name) if hasattr(path, "name") else str(path),
        "finite": bool(math.isfinite(history.history["loss"][-1])),
    }
    return loaded, summary
