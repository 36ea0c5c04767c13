"""Transformer blocks: layer contract, causality, padding masks, attention
scores and argument errors."""

import keras
import numpy as np
import pytest
from keras import ops

from tests.layer_test_case import run_layer_test
from zoo.layers import (
    RecurrentBlock,
    SequencePooling,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 6, 8)).astype("float32")  # (B, T, D)
CONTEXT = RNG.normal(size=(2, 5, 8)).astype("float32")  # (B, S, D)
INPUTS_MASK = np.array([[1] * 6, [1] * 4 + [0] * 2], dtype=bool)
CONTEXT_MASK = np.array([[1] * 5, [1] * 2 + [0] * 3], dtype=bool)
BLOCK = {"num_heads": 2, "intermediate_dim": 8}


@pytest.mark.parametrize(
    "init_kwargs, num_weights",
    [
        ({}, (16, 0)),  # post-norm LayerNorm
        ({"norm": "batch", "normalize_first": True}, (16, 4)),
        (
            {"norm": "rms", "normalize_first": True, "causal": True, "rotary": True,
             "dropout": 0.1, "attention_dropout": 0.1},
            (14, 0),
        ),
    ],
    ids=["layer_post", "batch_pre", "rms_causal_rotary"],
)
def test_encoder_block_layer(tmp_path, init_kwargs, num_weights):
    run_layer_test(
        TransformerEncoderBlock,
        init_kwargs={**BLOCK, "activation": "gelu", **init_kwargs},
        input_data=INPUTS,
        expected_output_shape=(2, 6, 8),
        expected_num_trainable_weights=num_weights[0],
        expected_num_non_trainable_weights=num_weights[1],
        tmp_path=tmp_path,
    )


def test_encoder_block_layer_chunked_attention(tmp_path):
    run_layer_test(
        TransformerEncoderBlock,
        init_kwargs={**BLOCK, "causal": True, "attention_implementation": "chunked",
                     "attention_chunk_size": 4},
        input_data={"inputs": INPUTS, "mask": INPUTS_MASK},
        expected_output_shape=(2, 6, 8),
        expected_num_trainable_weights=16,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("block_class", [TransformerEncoderBlock, TransformerDecoderBlock])
def test_block_attention_implementations_agree(block_class):
    full = block_class(**BLOCK, attention_implementation="full")
    chunked = block_class(**BLOCK, attention_implementation="chunked", attention_chunk_size=4)
    inputs = {"inputs": INPUTS, "mask": INPUTS_MASK}
    if block_class is TransformerDecoderBlock:
        inputs.update(context=CONTEXT, context_mask=CONTEXT_MASK)
    expected = full(**inputs)
    chunked(**inputs)
    chunked.set_weights(full.get_weights())
    assert chunked.self_attention.implementation == "chunked"
    np.testing.assert_allclose(
        ops.convert_to_numpy(chunked(**inputs)), ops.convert_to_numpy(expected), atol=1e-5
    )


def test_block_rejects_unknown_attention_implementation():
    with pytest.raises(ValueError, match="attention_implementation='flash'"):
        TransformerEncoderBlock(**BLOCK, attention_implementation="flash")


def test_encoder_block_layer_with_mask_and_scores(tmp_path):
    run_layer_test(
        TransformerEncoderBlock,
        init_kwargs=BLOCK,
        input_data={"inputs": INPUTS, "mask": INPUTS_MASK},
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((2, 6, 8), (2, 2, 6, 6)),
        expected_num_trainable_weights=16,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "input_data, num_weights",
    [
        ({"inputs": INPUTS, "context": CONTEXT, "inputs_mask": INPUTS_MASK,
          "context_mask": CONTEXT_MASK}, 26),
        ({"inputs": INPUTS}, 16),
    ],
    ids=["with_context", "decoder_only"],
)
def test_decoder_block_layer(tmp_path, input_data, num_weights):
    run_layer_test(
        TransformerDecoderBlock,
        init_kwargs=BLOCK,
        input_data=input_data,
        expected_output_shape=(2, 6, 8),
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


# Causality: perturb step 4; steps 0..3 must not see it.

LATER = 4


def _perturbed(x):
    x = x.copy()
    x[:, LATER:] += RNG.normal(size=x[:, LATER:].shape).astype("float32")
    return x


def _earlier_and_later_change(block, *args):
    before = ops.convert_to_numpy(block(INPUTS, *args))
    after = ops.convert_to_numpy(block(_perturbed(INPUTS), *args))
    earlier = np.abs(after[:, :LATER] - before[:, :LATER]).max()
    later = np.abs(after[:, LATER:] - before[:, LATER:]).max()
    return earlier, later


@pytest.mark.parametrize("rotary", [False, True])
def test_causal_encoder_does_not_leak(rotary):
    earlier, later = _earlier_and_later_change(
        TransformerEncoderBlock(**BLOCK, causal=True, rotary=rotary)
    )
    assert earlier < 1e-5
    assert later > 1e-3


def test_non_causal_encoder_does_leak():
    """The check above can fail: without causal=True earlier steps change."""
    earlier, _ = _earlier_and_later_change(TransformerEncoderBlock(**BLOCK))
    assert earlier > 1e-3


@pytest.mark.parametrize("with_context", [False, True])
def test_decoder_does_not_leak(with_context):
    args = (CONTEXT,) if with_context else ()
    earlier, later = _earlier_and_later_change(TransformerDecoderBlock(**BLOCK), *args)
    assert earlier < 1e-5
    assert later > 1e-3


# Padding: padded steps must not change the real steps' outputs.


@pytest.mark.parametrize(
    "init_kwargs, training",
    [({}, False), ({"causal": True, "rotary": True}, False),
     ({"norm": "batch"}, True)],
    ids=["layer", "causal_rotary", "batch_norm_training"],
)
def test_encoder_ignores_padding(init_kwargs, training):
    block = TransformerEncoderBlock(**BLOCK, **init_kwargs)
    real = INPUTS[:, :4]
    padded = INPUTS.copy()
    padded[:, 4:] = 100.0  # garbage in the padded steps
    mask = np.array([[1] * 4 + [0] * 2] * 2, dtype=bool)
    expected = ops.convert_to_numpy(block(real, training=training))
    actual = ops.convert_to_numpy(block(padded, mask=mask, training=training))
    np.testing.assert_allclose(actual[:, :4], expected, atol=1e-5)


def test_decoder_ignores_padded_context():
    block = TransformerDecoderBlock(**BLOCK)
    padded = CONTEXT.copy()
    padded[:, 3:] = 100.0
    mask = np.array([[1] * 3 + [0] * 2] * 2, dtype=bool)
    expected = ops.convert_to_numpy(block(INPUTS, CONTEXT[:, :3]))
    actual = ops.convert_to_numpy(block(INPUTS, padded, context_mask=mask))
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_keras_masks_flow_through_a_model():
    """Keras's implicit masks (from `mask_zero`) reach every block: a batch
    padded with 0 tokens pools to the same vectors as the unpadded batch."""
    source = keras.Input((None,), dtype="int32")
    target = keras.Input((None,), dtype="int32")
    embed = TokenAndPositionEmbedding(10, 8, 8, mask_zero=True)
    encoded = TransformerEncoderBlock(**BLOCK)(embed(source))
    encoded = RecurrentBlock("gru", 8)(encoded)
    decoded = TransformerDecoderBlock(**BLOCK)(embed(target), context=encoded)
    model = keras.Model(
        [source, target],
        [SequencePooling("mean")(encoded), SequencePooling("last")(decoded)],
    )
    source_tokens = np.array([[3, 1, 4, 1]], "int32")
    target_tokens = np.array([[5, 9, 2]], "int32")
    expected = model([source_tokens, target_tokens])
    padded = [
        np.pad(source_tokens, [(0, 0), (0, 3)]),  # 0 is padding
        np.pad(target_tokens, [(0, 0), (0, 2)]),
    ]
    for a, e in zip(model(padded), expected):
        np.testing.assert_allclose(
            ops.convert_to_numpy(a), ops.convert_to_numpy(e), atol=1e-5
        )


def test_encoder_returns_attention_scores():
    block = TransformerEncoderBlock(**BLOCK, causal=True)
    outputs, scores = block(INPUTS, mask=INPUTS_MASK, return_attention_scores=True)
    scores = ops.convert_to_numpy(scores)
    assert tuple(outputs.shape) == (2, 6, 8)
    assert scores.shape == (2, 2, 6, 6)  # (B, H, T, T)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    # Causal on real query steps (a padded query step attends uniformly).
    later_keys = np.triu(np.ones((6, 6), bool), k=1)
    real_queries = INPUTS_MASK[:, None, :, None]
    assert np.all(scores[np.broadcast_to(real_queries & later_keys, scores.shape)] == 0)


def test_decoder_without_context_weights_refuses_context():
    block = TransformerDecoderBlock(**BLOCK)
    block(INPUTS)
    with pytest.raises(ValueError, match="without a context"):
        block(INPUTS, CONTEXT)


@pytest.mark.parametrize("cls", [TransformerEncoderBlock, TransformerDecoderBlock])
def test_bad_norm_is_refused(cls):
    with pytest.raises(ValueError, match="norm='group'"):
        cls(**BLOCK, norm="group")


@pytest.mark.parametrize("cls", [TransformerEncoderBlock, TransformerDecoderBlock])
def test_features_must_divide_into_heads(cls):
    with pytest.raises(ValueError, match="num_heads=3"):
        cls(num_heads=3, intermediate_dim=8)(INPUTS)


def test_context_features_must_match():
    with pytest.raises(ValueError, match="context features=6"):
        TransformerDecoderBlock(**BLOCK)(INPUTS, np.ones((2, 5, 6), "float32"))
