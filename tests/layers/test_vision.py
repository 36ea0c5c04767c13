"""PatchEmbedding: layer contract, output shapes, argument errors."""

import numpy as np
import pytest
from keras import ops

from tests.layer_test_case import run_layer_test
from zoo.layers import PatchEmbedding

RNG = np.random.default_rng(0)
IMAGES = RNG.normal(size=(2, 8, 4, 1)).astype("float32")  # (B, H, W, C)


@pytest.mark.parametrize(
    "init_kwargs, expected_output_shape, num_weights",
    [
        ({}, (2, 9, 6), 4),  # 4 x 2 patches + class token
        ({"class_token": False, "position": "sinusoidal"}, (2, 8, 6), 2),
        ({"class_token": True, "position": "none", "patch_size": 4}, (2, 3, 6), 3),
    ],
    ids=["class_token_learned", "no_class_token_sinusoidal", "patch4_no_position"],
)
def test_patch_embedding_layer(tmp_path, init_kwargs, expected_output_shape, num_weights):
    run_layer_test(
        PatchEmbedding,
        init_kwargs={"patch_size": 2, "embedding_dim": 6, **init_kwargs},
        input_data=IMAGES,
        expected_output_shape=expected_output_shape,
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


def test_patch_embedding_is_a_linear_map_of_each_patch():
    """The embedding of patch (i, j) is the flattened patch times a matrix."""
    layer = PatchEmbedding(2, 6, class_token=False, position="none")
    outputs = ops.convert_to_numpy(layer(IMAGES))  # (B, 8, 6)
    kernel, bias = (ops.convert_to_numpy(w) for w in layer.projection.weights)
    patches = IMAGES.reshape(2, 4, 2, 2, 2, 1).transpose(0, 1, 3, 2, 4, 5)
    patches = patches.reshape(2, 8, 4)  # (B, N, p * p * C), row-major patches
    expected = patches @ kernel.reshape(4, 6) + bias
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


def test_class_token_comes_first():
    layer = PatchEmbedding(2, 6, class_token=True, position="none")
    outputs = ops.convert_to_numpy(layer(IMAGES))
    token = ops.convert_to_numpy(layer.class_embedding)[0, 0]
    np.testing.assert_allclose(outputs[:, 0], np.broadcast_to(token, (2, 6)))


def test_patch_size_must_divide_image():
    with pytest.raises(ValueError, match="patch_size=3"):
        PatchEmbedding(3, 6)(IMAGES)


def test_bad_position_is_refused():
    with pytest.raises(ValueError, match="position='absolute'"):
        PatchEmbedding(2, 6, position="absolute")
