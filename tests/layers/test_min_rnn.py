"""minGRU and minLSTM: layer contract, the log-space scan against the paper's
step-by-step loop, causality, the one-step form, padding, golden values, FLOPs."""

import numpy as np
import pytest

from tests.layer_test_case import run_layer_test
from tests.layers.mixer_checks import (
    check_no_leak_from_later_steps,
    check_padding_is_skipped,
    check_step_matches_call,
    model_flops,
    numpy,
)
from zoo.layers import MinGRU, MinLSTM

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 7, 3)).astype("float32")  # (B, T, D)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def g(x):
    return np.where(x >= 0, x + 0.5, sigmoid(x))


def reference(layer, x):
    """Feng et al. 2024, Algorithms 2 and 4 (sequential mode), in NumPy."""
    kernel, bias, out_kernel, out_bias = (numpy(w) for w in layer.weights)
    h = np.zeros((x.shape[0], layer.units))
    outputs = []
    for t in range(x.shape[1]):
        parts = np.split(x[:, t] @ kernel + bias, len(kernel[0]) // layer.units, axis=-1)
        if isinstance(layer, MinGRU):
            z = sigmoid(parts[0])
            h = (1 - z) * h + z * g(parts[1])
        else:
            f, i = sigmoid(parts[0]), sigmoid(parts[1])
            h = f / (f + i) * h + i / (f + i) * g(parts[2])
        outputs.append(h @ out_kernel + out_bias)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_min_rnn_layer(tmp_path, cls):
    run_layer_test(
        cls,
        init_kwargs={"units": 5},
        input_data=INPUTS,
        expected_output_shape=(2, 7, 3),
        expected_num_trainable_weights=4,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_scan_matches_the_papers_loop(cls):
    layer = cls(units=5, output_dim=2, bias_initializer="random_normal")
    outputs = numpy(layer(INPUTS))
    assert outputs.shape == (2, 7, 2)
    np.testing.assert_allclose(outputs, reference(layer, INPUTS), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_no_leak_step_form_and_padding(cls):
    layer = cls(units=4)
    check_no_leak_from_later_steps(layer, INPUTS)
    check_step_matches_call(layer, INPUTS)
    check_padding_is_skipped(layer, INPUTS)


def test_golden_values_on_constant_weights():
    """Zero weights and biases: z = 1/2, h~ = g(0) = 0.5, so h = 0.25, 0.375,
    0.4375 (minGRU); f' = i' = 1/2 gives the same for minLSTM."""
    for cls in (MinGRU, MinLSTM):
        layer = cls(units=1, kernel_initializer="zeros")
        layer.build((None, None, 1))
        layer.output_projection.kernel.assign(np.ones((1, 1)))
        outputs = numpy(layer(np.ones((1, 3, 1), "float32")))
        np.testing.assert_allclose(outputs[0, :, 0], [0.25, 0.375, 0.4375], atol=1e-6)


@pytest.mark.parametrize("cls, gates", [(MinGRU, 2), (MinLSTM, 3)])
def test_flops_match_a_hand_count(cls, gates):
    features, units, length = 3, 4, 10
    # input projection (D x gates*U), output projection (U x D), one
    # multiply-add per unit per step for the recurrence.
    expected = 2 * length * (features * gates * units + units * features) + 2 * units * length
    assert model_flops(cls(units=units), length, features) == expected


def test_long_sequences_do_not_underflow():
    """The log-space scan keeps a decay product of 500 steps finite."""
    layer = MinGRU(units=2, bias_initializer="ones")
    outputs = numpy(layer(RNG.normal(size=(1, 500, 3)).astype("float32")))
    assert np.all(np.isfinite(outputs))
