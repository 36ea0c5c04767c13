"""LRU: layer contract, the scan against the paper's step-by-step loop,
causality, the one-step form, padding, golden values, FLOPs."""

import math

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
from zoo.layers import LRU

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 7, 3)).astype("float32")  # (B, T, H)


def test_lru_layer(tmp_path):
    run_layer_test(
        LRU,
        init_kwargs={"state_dim": 4, "r_min": 0.5, "r_max": 0.99},
        input_data=INPUTS,
        expected_output_shape=(2, 7, 3),
        expected_num_trainable_weights=8,
        tmp_path=tmp_path,
    )


def reference_lru(layer, u):
    """Orvieto et al. 2023, Appendix A, one step at a time in NumPy."""
    nu, theta, gamma_log = (numpy(w) for w in (layer.nu_log, layer.theta_log, layer.gamma_log))
    lam = np.exp(-np.exp(nu) + 1j * np.exp(theta))
    gamma = np.exp(gamma_log)
    b = (numpy(layer.input_kernel_real) + 1j * numpy(layer.input_kernel_imag)).T  # (N, H)
    c = (numpy(layer.output_kernel_real) + 1j * numpy(layer.output_kernel_imag)).T  # (H, N)
    d = numpy(layer.skip)
    x = np.zeros((u.shape[0], layer.state_dim), complex)
    ys = []
    for t in range(u.shape[1]):
        x = lam * x + gamma * (u[:, t] @ b.T)
        ys.append((x @ c.T).real + d * u[:, t])
    return np.stack(ys, axis=1)


def test_scan_matches_the_papers_loop():
    layer = LRU(state_dim=5, r_min=0.9, r_max=0.999)
    np.testing.assert_allclose(numpy(layer(INPUTS)), reference_lru(layer, INPUTS),
                               atol=1e-4, rtol=1e-4)


def test_ring_initialisation_and_gamma():
    layer = LRU(state_dim=256, r_min=0.6, r_max=0.8, max_phase=0.5)
    layer.build((None, None, 3))
    modulus = np.exp(-np.exp(numpy(layer.nu_log)))
    phase = np.exp(numpy(layer.theta_log))
    assert modulus.min() >= 0.6 - 1e-6 and modulus.max() <= 0.8 + 1e-6
    assert phase.min() >= 0 and phase.max() <= 0.5 + 1e-6
    np.testing.assert_allclose(np.exp(numpy(layer.gamma_log)), np.sqrt(1 - modulus**2), rtol=1e-5)


def test_no_leak_step_form_and_padding():
    layer = LRU(state_dim=4)
    check_no_leak_from_later_steps(layer, INPUTS)
    check_step_matches_call(layer, INPUTS)
    check_padding_is_skipped(layer, INPUTS)


def test_golden_values_on_constant_weights():
    """Lambda = 0.5i, gamma = 1, B = C = 1, D = 0: x = 1, 1 + 0.5i, 0.75 + 0.5i."""
    layer = LRU(state_dim=1)
    layer.build((None, None, 1))
    layer.set_weights([
        np.array([math.log(math.log(2))]),       # nu_log: |Lambda| = 0.5
        np.array([math.log(math.pi / 2)]),       # theta_log: phase pi / 2
        np.array([0.0]),                         # gamma_log: gamma = 1
        np.ones((1, 1)), np.zeros((1, 1)),       # B = 1
        np.ones((1, 1)), np.zeros((1, 1)),       # C = 1
        np.zeros((1,)),                          # D = 0
    ])
    outputs = numpy(layer(np.ones((1, 3, 1), "float32")))
    np.testing.assert_allclose(outputs[0, :, 0], [1.0, 1.0, 0.75], atol=1e-6)


def test_flops_match_a_hand_count():
    features, states, length = 3, 4, 10
    # B and C: 4 real H x N products per step; the recurrence: 8 FLOPs per state.
    expected = 2 * length * 4 * features * states + 8 * states * length
    assert model_flops(LRU(state_dim=states), length, features) == expected


def test_bad_radii_are_refused():
    with pytest.raises(ValueError, match="r_min=0.9"):
        LRU(r_min=0.9, r_max=0.5)
