"""LinearAttention: layer contract, the chunked and global forms against the
paper's equations computed pair by pair, causality, the one-step form,
padding, golden values, FLOPs."""

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
from zoo.layers import LinearAttention

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 7, 4)).astype("float32")  # (B, T, D)


def phi(x):
    return np.where(x > 0, x + 1, np.exp(x))


def reference(layer, x):
    """Katharopoulos et al. 2020, eq. 4 (bidirectional) and eq. 8 (causal):
    every query against every allowed key, in NumPy."""
    wq, bq, wk, bk, wv, bv, wo, bo = (numpy(w) for w in layer.weights)
    heads, dk, dv = layer.num_heads, layer.head_key_dim, layer.head_value_dim
    batch, length = x.shape[:2]
    q = phi(x @ wq + bq).reshape(batch, length, heads, dk)
    k = phi(x @ wk + bk).reshape(batch, length, heads, dk)
    v = (x @ wv + bv).reshape(batch, length, heads, dv)
    out = np.zeros((batch, length, heads, dv))
    for i in range(length):
        keys = range(i + 1) if layer.causal else range(length)
        weights = np.stack([np.einsum("bhk,bhk->bh", q[:, i], k[:, j]) for j in keys], 1)
        values = np.stack([v[:, j] for j in keys], 1)
        out[:, i] = np.einsum("bjh,bjhv->bhv", weights, values) / (weights.sum(1)[..., None] + 1e-6)
    return out.reshape(batch, length, heads * dv) @ wo + bo


@pytest.mark.parametrize("causal", [False, True])
def test_linear_attention_layer(tmp_path, causal):
    run_layer_test(
        LinearAttention,
        init_kwargs={"num_heads": 2, "causal": causal, "chunk_size": 3},
        input_data=INPUTS,
        expected_output_shape=(2, 7, 4),
        expected_num_trainable_weights=8,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("causal, chunk_size", [(False, 64), (True, 1), (True, 3), (True, 7), (True, 64)])
def test_matches_the_papers_equations(causal, chunk_size):
    layer = LinearAttention(num_heads=2, key_dim=3, value_dim=5, causal=causal,
                            chunk_size=chunk_size, bias_initializer="random_normal")
    np.testing.assert_allclose(numpy(layer(INPUTS)), reference(layer, INPUTS),
                               atol=1e-5, rtol=1e-4)


def test_cumulative_form_equals_chunked_form():
    layer = LinearAttention(num_heads=2, causal=True, chunk_size=3)
    layer(INPUTS)
    q, k, v = layer._project(INPUTS)
    for a, b in zip(layer._causal_cumulative(q, k, v), layer._causal_chunked(q, k, v)):
        np.testing.assert_allclose(numpy(a), numpy(b), atol=1e-5, rtol=1e-5)


def test_causal_no_leak_step_form_and_padding():
    layer = LinearAttention(num_heads=2, causal=True, chunk_size=3)
    check_no_leak_from_later_steps(layer, INPUTS)
    check_step_matches_call(layer, INPUTS)
    check_padding_is_skipped(layer, INPUTS)


def test_bidirectional_ignores_padded_keys_and_sees_the_future():
    layer = LinearAttention(num_heads=2)
    padded = INPUTS.copy()
    padded[:, 4:] = 100.0
    mask = np.array([[True] * 4 + [False] * 3] * 2)
    np.testing.assert_allclose(numpy(layer(padded, mask=mask))[:, :4],
                               numpy(layer(INPUTS[:, :4])), atol=1e-5, rtol=1e-4)
    changed = INPUTS.copy()
    changed[:, 5] += 1.0
    assert not np.allclose(numpy(layer(changed))[:, 0], numpy(layer(INPUTS))[:, 0])
    with pytest.raises(ValueError, match="causal=False"):
        layer.step(INPUTS[:, 0], layer.initial_state(2))


def test_golden_values_on_constant_weights():
    """One head, D = 1, query and key weights 0 (phi = 1 everywhere), value
    and output weights 1: each output is the mean of the values so far."""
    layer = LinearAttention(num_heads=1, causal=True, epsilon=0.0)
    layer.build((None, None, 1))
    layer.set_weights([np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1)), np.zeros(1),
                       np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), np.zeros(1)])
    outputs = numpy(layer(np.array([[[1.0], [2.0], [6.0]]], "float32")))
    np.testing.assert_allclose(outputs[0, :, 0], [1.0, 1.5, 3.0], atol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_flops_match_a_hand_count(causal):
    features, heads, length = 4, 2, 10
    head_dim = features // heads
    projections = 4 * features * features  # query, key, value, output
    mixing = 2 * heads * head_dim * (head_dim + 1) * (length + length)
    expected = 2 * length * projections + mixing
    assert model_flops(LinearAttention(num_heads=heads, causal=causal), length, features) == expected
