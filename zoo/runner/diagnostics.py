"""Vanishing gradients, measured: how much the loss at the output depends on
each earlier input step.

    from zoo.runner import diagnostics
    norms = diagnostics.gradient_by_distance(model, task.spec, data.test)
    # norms[k] = mean over examples of || d loss / d x_{T-1-k} ||

`x_t` is the sequence the mixer reads: the inputs themselves for feature
tasks, the output of the model's `embedding` layer for token tasks (token ids
have no gradient). The loss is the one at the last output: the single output
of a classification or regression task, the last scored position of a
per-position task. So `k` is the distance, in steps, between an input and
the output whose loss is differentiated; an RNN whose gradients vanish shows
norms falling exponentially with `k`, attention does not.

Gradients come from `zoo.measure.backend.loss_and_gradients`, so this works
on every backend.
"""

import keras
import numpy as np

from zoo.measure import backend
from zoo.tasks.base import Split


def mixer_inputs(model, spec, inputs):
    """`(model from the mixer's input on, that input as NumPy)`."""
    if spec.input_kind == "features":
        return model, np.asarray(inputs, dtype="float32")
    if spec.input_kind != "tokens":
        raise ValueError(
            f"Gradients by distance need a sequence input; input_kind={spec.input_kind!r} "
            "(valid: 'features', 'tokens')"
        )
    names = [layer.name for layer in model.layers]
    if "embedding" not in names:
        raise ValueError(
            f"Model {model.name!r} has no layer named 'embedding' to differentiate "
            f"through; its layers: {names}"
        )
    embedding = model.get_layer("embedding")
    rest = keras.Model(embedding.output, model.output, name=f"{model.name}_from_embedding")
    embedded = keras.ops.convert_to_numpy(embedding(inputs))
    return rest, embedded.astype("float32")


def last_output_weights(spec, split):
    """Sample weights that keep the loss of the last output only."""
    if spec.output_kind in ("class", "regression"):
        return None
    if spec.output_kind != "class_per_position":
        raise ValueError(
            f"Gradients by distance take one output per example or per position; "
            f"output_kind={spec.output_kind!r} (valid: 'class', 'regression', "
            "'class_per_position')"
        )
    targets = np.asarray(split.targets)
    counted = np.ones(targets.shape) if split.sample_weights is None \
        else np.asarray(split.sample_weights) > 0
    last = counted.shape[1] - 1 - np.argmax(counted[:, ::-1], axis=1)
    weights = np.zeros(targets.shape, dtype="float32")
    weights[np.arange(len(targets)), last] = 1.0
    return weights


def gradient_by_distance(model, spec, split, num_examples=64):
    """Mean gradient norm of the last output's loss per input step, indexed
    by the distance from that output: `norms[k]` for input step `T-1-k`.

    For a per-position task the last scored position is taken per example;
    steps after it (none, for the zoo's tasks) are left out.
    """
    split = Split(*split).take(0, num_examples)
    rest, x = mixer_inputs(model, spec, split.inputs)
    weights = last_output_weights(spec, split)
    _, grads = backend.loss_and_gradients(
        rest, spec.loss(), x, split.targets, weights, wrt_inputs=True)
    norms = np.linalg.norm(np.asarray(grads, dtype="float64"), axis=-1)  # (N, T)
    return norms.mean(axis=0)[::-1]
