"""MultiHeadAttention: layer contract, golden values against
`keras.layers.MultiHeadAttention` with the same weights, and the chunked path
against the full one (outputs and gradients)."""

import re

import keras
import numpy as np
import pytest
from keras import ops

from tests.layer_test_case import run_layer_test
from zoo.layers import MultiHeadAttention, backend_kernels, causal_mask, chunked_attention

NUM_HEADS, KEY_DIM = 2, 4
RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 6, 8)).astype("float32")  # (B, T, D)
CONTEXT = RNG.normal(size=(2, 7, 6)).astype("float32")  # (B, S, D')
# True on real steps: the second example is padded.
QUERY_MASK = np.array([[1] * 6, [1] * 4 + [0] * 2], dtype=bool)
CONTEXT_MASK = np.array([[1] * 7, [1] * 3 + [0] * 4], dtype=bool)


@pytest.mark.parametrize(
    "init_kwargs, input_data, call_kwargs, expected_output_shape, num_weights",
    [
        (
            {},
            {"query": QUERY, "value": QUERY},
            {"use_causal_mask": True},
            (2, 6, 8),
            8,
        ),
        (
            {"use_bias": False, "output_dim": 5, "value_dim": 3},
            {"query": QUERY, "value": CONTEXT, "query_mask": QUERY_MASK,
             "value_mask": CONTEXT_MASK},
            {},
            (2, 6, 5),
            4,
        ),
        (
            {"rotary": True},
            {"query": QUERY, "value": QUERY},
            {"return_attention_scores": True},
            ((2, 6, 8), (2, NUM_HEADS, 6, 6)),
            8,
        ),
        (
            {},
            {"query": QUERY, "value": CONTEXT},
            {"return_attention_scores": True},
            ((2, 6, 8), (2, NUM_HEADS, 6, 7)),
            8,
        ),
        (
            {"implementation": "chunked", "chunk_size": 4, "rotary": True},
            {"query": QUERY, "value": QUERY, "query_mask": QUERY_MASK,
             "value_mask": QUERY_MASK},
            {"use_causal_mask": True},
            (2, 6, 8),
            8,
        ),
        (
            {"implementation": "chunked", "chunk_size": 4, "value_dim": 3},
            {"query": QUERY, "value": CONTEXT, "value_mask": CONTEXT_MASK},
            {},
            (2, 6, 8),
            8,
        ),
    ],
    ids=["causal", "cross_masked_no_bias", "rotary_scores", "cross_scores",
         "chunked_causal_rotary_masked", "chunked_cross"],
)
def test_multi_head_attention_layer(
    tmp_path, init_kwargs, input_data, call_kwargs, expected_output_shape, num_weights
):
    run_layer_test(
        MultiHeadAttention,
        init_kwargs={"num_heads": NUM_HEADS, "key_dim": KEY_DIM, **init_kwargs},
        input_data=input_data,
        call_kwargs=call_kwargs,
        expected_output_shape=expected_output_shape,
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


# Golden values. Rows of padded queries are left out of the comparison: no
# query attends from them, and Keras itself gives them zero weights on one
# path and uniform weights on the other.
SELF_MASKED = {
    "query": QUERY, "value": QUERY, "query_mask": QUERY_MASK, "value_mask": QUERY_MASK
}
GOLDEN_CASES = {
    "no_mask": ({"query": QUERY, "value": QUERY}, {}),
    "padding": (SELF_MASKED, {}),
    "causal": ({"query": QUERY, "value": QUERY}, {"use_causal_mask": True}),
    "causal_padding": (SELF_MASKED, {"use_causal_mask": True}),
    "cross": (
        {"query": QUERY, "value": CONTEXT, "query_mask": QUERY_MASK,
         "value_mask": CONTEXT_MASK},
        {},
    ),
}


def _twin_layers(inputs):
    """Keras's layer and ours, with the same weights."""
    reference = keras.layers.MultiHeadAttention(num_heads=NUM_HEADS, key_dim=KEY_DIM)
    reference(inputs["query"], inputs["value"])
    ours = MultiHeadAttention(num_heads=NUM_HEADS, key_dim=KEY_DIM)
    ours(inputs["query"], inputs["value"])
    ours.set_weights(reference.get_weights())
    return reference, ours


def _real_rows(x, inputs):
    """Entries of (B, T, ...) or (B, H, T, S) whose query step is real."""
    x = ops.convert_to_numpy(x)
    query_mask = inputs.get("query_mask", np.ones(inputs["query"].shape[:2], bool))
    if x.ndim == 4 and x.shape[1] == NUM_HEADS:
        return x.transpose(0, 2, 1, 3)[query_mask]
    return x[query_mask]


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_matches_keras_multi_head_attention(case):
    inputs, call_kwargs = GOLDEN_CASES[case]
    reference, ours = _twin_layers(inputs)

    expected = reference(**inputs, **call_kwargs)
    actual = ours(**inputs, **call_kwargs)  # fused path
    np.testing.assert_allclose(
        _real_rows(actual, inputs), _real_rows(expected, inputs), atol=1e-5
    )

    expected, expected_scores = reference(
        **inputs, **call_kwargs, return_attention_scores=True
    )
    actual, actual_scores = ours(**inputs, **call_kwargs, return_attention_scores=True)
    np.testing.assert_allclose(
        _real_rows(actual, inputs), _real_rows(expected, inputs), atol=1e-5
    )
    np.testing.assert_allclose(
        _real_rows(actual_scores, inputs), _real_rows(expected_scores, inputs), atol=1e-5
    )


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_fused_and_explicit_paths_agree(case):
    """All rows, padded ones too: both paths give the same output."""
    inputs, call_kwargs = GOLDEN_CASES[case]
    layer = MultiHeadAttention(num_heads=NUM_HEADS, key_dim=KEY_DIM)
    fused = layer(**inputs, **call_kwargs)
    explicit, _ = layer(**inputs, **call_kwargs, return_attention_scores=True)
    np.testing.assert_allclose(
        ops.convert_to_numpy(fused), ops.convert_to_numpy(explicit), atol=1e-5
    )


def test_masked_keys_get_no_weight():
    inputs, call_kwargs = GOLDEN_CASES["causal_padding"]
    layer = MultiHeadAttention(num_heads=NUM_HEADS, key_dim=KEY_DIM)
    _, scores = layer(**inputs, **call_kwargs, return_attention_scores=True)
    scores = ops.convert_to_numpy(scores)  # (B, H, T, S)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    allowed = QUERY_MASK[:, None, :, None] & QUERY_MASK[:, None, None, :]
    allowed = allowed & np.tril(np.ones((6, 6), bool))
    real_queries = np.broadcast_to(QUERY_MASK[:, None, :, None], scores.shape)
    assert np.all(scores[real_queries & ~allowed] == 0)


def test_causal_mask_is_lower_triangle():
    np.testing.assert_array_equal(
        ops.convert_to_numpy(causal_mask(3, 4)), np.tril(np.ones((3, 4), bool))
    )


def test_rotary_needs_even_key_dim():
    with pytest.raises(ValueError, match="key_dim=3"):
        MultiHeadAttention(num_heads=2, key_dim=3, rotary=True)


# ---------------------------------------------------------------- chunked path
#
# The chunked path against the full one, with the same weights: outputs and
# the gradients of every weight and of the query, on every row (padded ones
# too). Chunks of 4 divide neither T=6 nor S=7; chunks of 2 divide T only
# (causal: whole blocks above the diagonal are skipped).

ATTENTION_MASK = RNG.random((2, 6, 7)) < 0.6
ATTENTION_MASK[:, :, 0] = True  # every query may attend somewhere
CHUNKED_CASES = {
    **GOLDEN_CASES,
    "rotary_causal": ({"query": QUERY, "value": QUERY}, {"use_causal_mask": True}),
    "cross_unmasked": ({"query": QUERY, "value": CONTEXT}, {}),
    "attention_mask": (
        {"query": QUERY, "value": CONTEXT, "value_mask": CONTEXT_MASK,
         "attention_mask": ATTENTION_MASK},
        {},
    ),
}


def _twins(inputs, case, chunk_size, dtype=None):
    """A chunked and a full layer with the same weights."""
    kwargs = {"num_heads": NUM_HEADS, "key_dim": KEY_DIM, "dtype": dtype,
              "rotary": case.startswith("rotary")}
    chunked = MultiHeadAttention(implementation="chunked", chunk_size=chunk_size, **kwargs)
    full = MultiHeadAttention(implementation="full", **kwargs)
    for layer in (chunked, full):
        layer(inputs["query"], inputs["value"])
    full.set_weights(chunked.get_weights())
    return chunked, full


def _outputs_and_gradients(layer, inputs, call_kwargs, probe):
    """The output, and the gradients of sum(output * probe) with respect to
    every trainable weight and the query."""
    backend = keras.backend.backend()
    others = {name: x for name, x in inputs.items() if name != "query"}
    weights = layer.trainable_variables
    if backend == "jax":
        import jax

        def loss(values, query):
            outputs, _ = layer.stateless_call(values, [], query=query, **others, **call_kwargs)
            return ops.sum(ops.cast(outputs, "float32") * probe), outputs

        (_, outputs), grads = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
            [w.value for w in weights], ops.convert_to_tensor(inputs["query"])
        )
        grads = list(grads[0]) + [grads[1]]
    elif backend == "tensorflow":
        import tensorflow as tf

        query = tf.convert_to_tensor(inputs["query"])
        with tf.GradientTape() as tape:
            tape.watch(query)
            outputs = layer(query, **others, **call_kwargs)
            loss = tf.reduce_sum(tf.cast(outputs, "float32") * probe)
        grads = tape.gradient(loss, list(weights) + [query])
    else:
        import torch

        query = torch.tensor(inputs["query"], requires_grad=True)
        outputs = layer(query, **others, **call_kwargs)
        loss = torch.sum(outputs.float() * torch.as_tensor(probe))
        grads = torch.autograd.grad(loss, [w.value for w in weights] + [query])
    return [_numpy(outputs)] + [_numpy(g) for g in grads]


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(ops.cast(x, "float32")))


@pytest.mark.parametrize(
    "case, chunk_size",
    [(case, 4) for case in sorted(CHUNKED_CASES)] + [("causal", 2), ("cross", 2)],
)
def test_chunked_matches_full(case, chunk_size):
    inputs, call_kwargs = CHUNKED_CASES[case]
    chunked, full = _twins(inputs, case, chunk_size)
    probe = RNG.normal(size=(2, 6, 8)).astype("float32")
    expected = _outputs_and_gradients(full, inputs, call_kwargs, probe)
    actual = _outputs_and_gradients(chunked, inputs, call_kwargs, probe)
    for name, a, e in zip(["outputs"] + [w.path for w in chunked.trainable_variables]
                          + ["query"], actual, expected):
        np.testing.assert_allclose(a, e, atol=2e-5, rtol=1e-4, err_msg=name)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", ["causal_padding", "cross"])
def test_chunked_matches_full_in_mixed_precision(case, seed):
    """In bfloat16 the chunked path is as accurate as the full one: both are
    measured against the full path in float32 with the same weights, and the
    chunked path's error may be at most twice the full path's plus 8 bfloat16
    steps. (Comparing the two bfloat16 paths with each other fails by chance:
    each carries its own rounding. Measured over 24 seeded cases: the worst
    chunked error 0.037 on TensorFlow, 0.017 on JAX and torch; full 0.020.)"""
    keras.utils.set_random_seed(seed)
    inputs, call_kwargs = CHUNKED_CASES[case]
    chunked, full = _twins(inputs, case, 4, dtype="mixed_bfloat16")
    reference = MultiHeadAttention(num_heads=NUM_HEADS, key_dim=KEY_DIM, implementation="full",
                                   rotary=case.startswith("rotary"))
    reference(inputs["query"], inputs["value"])
    reference.set_weights(full.get_weights())
    probe = np.random.default_rng(seed).normal(size=(2, 6, 8)).astype("float32")
    exact = _outputs_and_gradients(reference, inputs, call_kwargs, probe)
    full_bf16 = _outputs_and_gradients(full, inputs, call_kwargs, probe)
    chunked_bf16 = _outputs_and_gradients(chunked, inputs, call_kwargs, probe)
    assert chunked.compute_dtype == "bfloat16"
    names = ["outputs"] + [w.path for w in chunked.trainable_variables] + ["query"]
    for name, c, f, e in zip(names, chunked_bf16, full_bf16, exact):
        # Errors relative to each array's size, at least 1 (the key bias's
        # gradient is zero up to rounding); 2**-8 is one bfloat16 step.
        scale = max(np.max(np.abs(e)), 1.0)
        chunked_error = np.max(np.abs(c - e)) / scale
        full_error = np.max(np.abs(f - e)) / scale
        assert chunked_error <= 2 * full_error + 8 * 2**-8, (name, chunked_error, full_error)


@pytest.mark.parametrize("block_elements", [16, 2**17])
def test_auto_matches_full(monkeypatch, block_elements):
    """Whatever path "auto" takes: with blocks of 16 scores, these inputs count
    as large (chunked, or fused where there is a fused kernel and no mask)."""
    monkeypatch.setattr(chunked_attention, "BLOCK_ELEMENTS", block_elements)
    inputs, call_kwargs = CHUNKED_CASES["causal_padding"]
    auto, full = _twins(inputs, "causal_padding", 4)
    auto.implementation = "auto"
    np.testing.assert_allclose(
        _numpy(auto(**inputs, **call_kwargs)), _numpy(full(**inputs, **call_kwargs)),
        atol=2e-5,
    )


def test_auto_policy(monkeypatch):
    layer = MultiHeadAttention(num_heads=NUM_HEADS, key_dim=KEY_DIM)
    query = ops.convert_to_tensor(QUERY[:, :, None, :4].repeat(NUM_HEADS, 2))  # (B, T, H, D)
    fused_here = backend_kernels.has_fused_attention(query, query, query)
    small = layer._choose_path(query, query, query, True, needs_weights=False)
    assert small == ("fused" if fused_here else "full")
    assert layer._choose_path(query, query, query, False, needs_weights=True) == "full"
    monkeypatch.setattr(chunked_attention, "BLOCK_ELEMENTS", 16)  # now the scores are large
    assert layer._choose_path(query, query, query, True, needs_weights=False) == "chunked"
    unmasked = layer._choose_path(query, query, query, False, needs_weights=False)
    assert unmasked == ("fused" if fused_here else "chunked")
    assert fused_here == (keras.backend.backend() == "torch")  # on a CPU


def test_chunked_returns_weights_through_the_full_path():
    inputs, call_kwargs = CHUNKED_CASES["causal_padding"]
    chunked, full = _twins(inputs, "causal_padding", 4)
    outputs, scores = chunked(**inputs, **call_kwargs, return_attention_scores=True)
    expected, expected_scores = full(**inputs, **call_kwargs, return_attention_scores=True)
    np.testing.assert_allclose(_numpy(scores), _numpy(expected_scores), atol=1e-6)
    np.testing.assert_allclose(_numpy(outputs), _numpy(expected), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"implementation": "flash"}, "implementation='flash'"),
        ({"implementation": "flash"}, "'auto', 'fused', 'chunked', 'full'"),
        ({"chunk_size": 0}, "chunk_size=0"),
        ({"chunk_size": 2.5}, "chunk_size=2.5"),
    ],
)
def test_invalid_implementation_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MultiHeadAttention(num_heads=2, key_dim=4, **kwargs)


def test_implementation_in_config():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, implementation="chunked", chunk_size=32)
    config = layer.get_config()
    assert (config["implementation"], config["chunk_size"]) == ("chunked", 32)
    clone = MultiHeadAttention.from_config(config)
    assert (clone.implementation, clone.chunk_size) == ("chunked", 32)
