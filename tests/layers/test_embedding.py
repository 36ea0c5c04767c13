"""Embeddings and position encodings: layer contract, golden values against
keras-hub, the padding mask, and argument errors."""

import keras_hub
import numpy as np
import pytest
from keras import ops

from tests.layer_test_case import run_layer_test
from zoo.layers import (
    FeatureAndPositionEmbedding,
    PositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
)

RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(2, 6, 8)).astype("float32")  # (B, T, D)
TOKENS = np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0]], dtype="int32")  # (B, T)
HEADS = RNG.normal(size=(2, 6, 2, 4)).astype("float32")  # (B, T, H, D)


def test_sinusoidal_position_encoding_layer(tmp_path):
    run_layer_test(
        SinusoidalPositionEncoding,
        init_kwargs={"max_wavelength": 100},
        input_data=FEATURES,
        expected_output_shape=(2, 6, 8),
        expected_num_trainable_weights=0,
        tmp_path=tmp_path,
    )


def test_position_embedding_layer(tmp_path):
    run_layer_test(
        PositionEmbedding,
        init_kwargs={"sequence_length": 8},
        input_data=FEATURES,
        expected_output_shape=(2, 6, 8),
        expected_num_trainable_weights=1,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "position, mask_zero, num_weights",
    [("learned", True, 2), ("sinusoidal", False, 1), ("none", True, 1)],
)
def test_token_and_position_embedding_layer(tmp_path, position, mask_zero, num_weights):
    run_layer_test(
        TokenAndPositionEmbedding,
        init_kwargs={
            "vocabulary_size": 10,
            "sequence_length": 8,
            "embedding_dim": 4,
            "position": position,
            "mask_zero": mask_zero,
        },
        input_data=TOKENS,
        expected_output_shape=(2, 6, 4),
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("position, num_weights", [("learned", 3), ("sinusoidal", 2)])
def test_feature_and_position_embedding_layer(tmp_path, position, num_weights):
    run_layer_test(
        FeatureAndPositionEmbedding,
        init_kwargs={"sequence_length": 8, "embedding_dim": 4, "position": position},
        input_data=FEATURES,
        expected_output_shape=(2, 6, 4),
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


def test_rotary_embedding_layer(tmp_path):
    run_layer_test(
        RotaryEmbedding,
        init_kwargs={"max_wavelength": 100, "scaling_factor": 2.0},
        input_data=HEADS,
        expected_output_shape=(2, 6, 2, 4),
        expected_num_trainable_weights=0,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("start_index", [0, 3])
def test_sinusoidal_matches_keras_hub(start_index):
    ours = SinusoidalPositionEncoding(max_wavelength=100)(FEATURES, start_index=start_index)
    reference = keras_hub.layers.SinePositionEncoding(max_wavelength=100)(
        FEATURES, start_index=start_index
    )
    np.testing.assert_allclose(ops.convert_to_numpy(ours), reference, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"max_wavelength": 100, "scaling_factor": 2.0}],
)
@pytest.mark.parametrize("start_index", [0, 3])
def test_rotary_matches_keras_hub(kwargs, start_index):
    ours = RotaryEmbedding(**kwargs)(HEADS, start_index=start_index)
    reference = keras_hub.layers.RotaryEmbedding(**kwargs)(HEADS, start_index=start_index)
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours), ops.convert_to_numpy(reference), atol=1e-5
    )


def test_rotary_depends_on_relative_position_only():
    """Rotated q . k is the same for (t, s) and (t + 2, s + 2)."""
    vector = RNG.normal(size=(1, 1, 1, 4)).astype("float32")
    sequence = np.tile(vector, (1, 6, 1, 1))  # the same vector at every position
    rotated = ops.convert_to_numpy(RotaryEmbedding()(sequence))[0, :, 0]  # (T, D)
    np.testing.assert_allclose(
        rotated[1] @ rotated[0], rotated[3] @ rotated[2], rtol=1e-5, atol=1e-5
    )


def test_token_embedding_emits_padding_mask():
    layer = TokenAndPositionEmbedding(10, 8, 4, mask_zero=True)
    mask = ops.convert_to_numpy(layer.compute_mask(TOKENS))
    np.testing.assert_array_equal(mask, TOKENS != 0)


def test_position_embedding_refuses_long_inputs():
    with pytest.raises(ValueError, match="sequence_length=4"):
        PositionEmbedding(sequence_length=4)(FEATURES)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TokenAndPositionEmbedding(10, 8, 4, position="absolute"),
        lambda: FeatureAndPositionEmbedding(8, 4, position="absolute"),
    ],
    ids=["token", "feature"],
)
def test_bad_position_is_refused(make):
    with pytest.raises(ValueError, match="position='absolute'"):
        make()


def test_rotary_refuses_odd_features():
    with pytest.raises(ValueError, match="features=3"):
        RotaryEmbedding()(np.ones((2, 4, 3), "float32"))
