"""Checks shared by the tests of the sequence mixers (LRU, min-RNNs, Mamba,
linear attention): causality, the one-step form, padding, FLOPs."""

import keras
import numpy as np
from keras import ops

from zoo.measure import flops


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def check_no_leak_from_later_steps(layer, inputs, step=3):
    """Changing step `step` changes no output before it (and does change it)."""
    changed = inputs.copy()
    changed[:, step] += 10.0
    before, after = numpy(layer(inputs)), numpy(layer(changed))
    np.testing.assert_allclose(after[:, :step], before[:, :step], atol=1e-6)
    assert not np.allclose(after[:, step], before[:, step])


def check_step_matches_call(layer, inputs, atol=1e-5):
    """Running `step` over the sequence gives the parallel form's outputs."""
    expected = numpy(layer(inputs))
    state = layer.initial_state(inputs.shape[0])
    outputs = []
    for t in range(inputs.shape[1]):
        y, state = layer.step(inputs[:, t], state)
        outputs.append(numpy(y))
    np.testing.assert_allclose(np.stack(outputs, axis=1), expected, atol=atol, rtol=1e-4)


def check_padding_is_skipped(layer, inputs, real_steps=4):
    """Right padding: the real steps' outputs equal those of the unpadded
    sequence; left padding: the outputs after the padding equal them too."""
    batch, length = inputs.shape[:2]
    pad = length - real_steps
    real = inputs[:, :real_steps]
    expected = numpy(layer(real))

    right = inputs.copy()
    right[:, real_steps:] = 100.0
    mask = np.array([[True] * real_steps + [False] * pad] * batch)
    np.testing.assert_allclose(numpy(layer(right, mask=mask))[:, :real_steps], expected,
                               atol=1e-5, rtol=1e-4)

    left = np.concatenate([np.zeros_like(inputs[:, :pad]), real], axis=1)
    mask = np.array([[False] * pad + [True] * real_steps] * batch)
    np.testing.assert_allclose(numpy(layer(left, mask=mask))[:, pad:], expected,
                               atol=1e-5, rtol=1e-4)


def model_flops(layer, length, features):
    """`zoo.flops.per_example` of a model that is only `layer`."""
    inputs = keras.Input((None, features))
    model = keras.Model(inputs, layer(inputs))
    return flops.per_example(model, length)
