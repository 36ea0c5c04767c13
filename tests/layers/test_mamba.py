"""Mamba: layer contract, the scan against a step-by-step loop of the paper's
equations, causality, the one-step form, padding, golden values, FLOPs."""

import math

import numpy as np

from tests.layer_test_case import run_layer_test
from tests.layers.mixer_checks import (
    check_no_leak_from_later_steps,
    check_padding_is_skipped,
    check_step_matches_call,
    model_flops,
    numpy,
)
from zoo.layers import Mamba

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 7, 4)).astype("float32")  # (B, T, D)


def silu(x):
    return x / (1 + np.exp(-x))


def softplus(x):
    return np.log1p(np.exp(x))


def reference_mamba(layer, u):
    """Gu & Dao 2023, Algorithm 2 and Figure 3, one step at a time in NumPy."""
    w_in = numpy(layer.input_projection.kernel)
    conv_kernel, conv_bias = numpy(layer.conv_kernel_weight), numpy(layer.conv_bias)
    w_x = numpy(layer.x_projection.kernel)
    w_dt, b_dt = numpy(layer.dt_projection.kernel), numpy(layer.dt_projection.bias)
    a = -np.exp(numpy(layer.A_log))  # (E*D, N)
    d, w_out = numpy(layer.D), numpy(layer.output_projection.kernel)
    inner, n, k = layer.inner_dim, layer.state_dim, layer.conv_kernel
    batch, length = u.shape[:2]
    xz = u @ w_in
    x_all, z_all = xz[..., :inner], xz[..., inner:]
    h = np.zeros((batch, inner, n))
    outputs = []
    for t in range(length):
        window = [x_all[:, s] if s >= 0 else np.zeros((batch, inner)) for s in range(t - k + 1, t + 1)]
        x = silu(sum(w * conv_kernel[j] for j, w in enumerate(window)) + conv_bias)
        dbc = x @ w_x
        dt, b, c = dbc[:, :layer.rank], dbc[:, layer.rank:layer.rank + n], dbc[:, layer.rank + n:]
        delta = softplus(dt @ w_dt + b_dt)  # (B, E*D)
        h = np.exp(delta[..., None] * a) * h + delta[..., None] * b[:, None, :] * x[..., None]
        y = np.einsum("bdn,bn->bd", h, c) + d * x
        outputs.append((y * silu(z_all[:, t])) @ w_out)
    return np.stack(outputs, axis=1)


def test_mamba_layer(tmp_path):
    run_layer_test(
        Mamba,
        init_kwargs={"state_dim": 3, "expand": 2, "conv_kernel": 3},
        input_data=INPUTS,
        expected_output_shape=(2, 7, 4),
        expected_num_trainable_weights=9,
        tmp_path=tmp_path,
    )


def test_scan_matches_the_papers_loop():
    layer = Mamba(state_dim=3, conv_kernel=3, dt_min=0.05, dt_max=0.5)
    np.testing.assert_allclose(numpy(layer(INPUTS)), reference_mamba(layer, INPUTS),
                               atol=1e-5, rtol=1e-4)


def test_initialisation():
    layer = Mamba(state_dim=4, dt_min=0.01, dt_max=0.02)
    layer.build((None, None, 32))
    np.testing.assert_allclose(numpy(layer.A_log)[5], np.log([1, 2, 3, 4]), rtol=1e-6)
    assert layer.rank == 2 and layer.inner_dim == 64
    dt = softplus(numpy(layer.dt_projection.bias))
    assert dt.min() >= 0.01 - 1e-6 and dt.max() <= 0.02 + 1e-6


def test_no_leak_step_form_and_padding():
    layer = Mamba(state_dim=3, conv_kernel=3)
    check_no_leak_from_later_steps(layer, INPUTS)
    check_step_matches_call(layer, INPUTS)
    check_padding_is_skipped(layer, INPUTS)


def test_golden_values_on_constant_weights():
    """D = 1 feature, E = 1, N = 1, K = 1, every weight 1 except A_log = 0
    (A = -1), dt bias = log(e - 1) so delta = softplus(1 * dt + log(e - 1))."""
    layer = Mamba(state_dim=1, expand=1, conv_kernel=1, dt_rank=1)
    layer.build((None, None, 1))
    ones = np.ones((1, 1))
    layer.input_projection.kernel.assign(np.ones((1, 2)))
    layer.conv_kernel_weight.assign(ones)
    layer.conv_bias.assign(np.zeros(1))
    layer.x_projection.kernel.assign(np.array([[0.0, 1.0, 1.0]]))  # dt = 0, B = C = x
    layer.dt_projection.kernel.assign(ones)
    layer.dt_projection.bias.assign(np.array([math.log(math.e - 1)]))  # delta = 1
    layer.A_log.assign(np.zeros((1, 1)))
    layer.D.assign(np.zeros(1))
    layer.output_projection.kernel.assign(ones)
    outputs = numpy(layer(np.ones((1, 2, 1), "float32")))[0, :, 0]
    s = 1 / (1 + math.exp(-1))  # x = silu(1) = sigmoid(1); gate silu(1) too
    x = s
    h1 = x * x  # delta * B * x with B = x
    h2 = math.exp(-1) * h1 + x * x
    np.testing.assert_allclose(outputs, [h1 * x * x, h2 * x * x], rtol=1e-5)


def test_flops_match_a_hand_count():
    features, n, length = 4, 3, 10
    inner, rank, k = 8, 1, 3
    per_position = (
        features * 2 * inner        # in-projection
        + k * inner                 # depthwise conv
        + inner * (rank + 2 * n)    # x-projection
        + rank * inner              # dt-projection
        + inner * n                 # delta * A (A_log is 2-D)
        + inner * features          # out-projection
    )
    expected = 2 * length * per_position + 6 * inner * n * length
    assert model_flops(Mamba(state_dim=n, conv_kernel=k), length, features) == expected
