"""Patch embedding for the Vision Transformer (Dosovitskiy et al. 2021)."""

import keras
from keras import ops

from zoo.checks import check_choice, check_positive
from zoo.layers.embedding import POSITIONS, _position_layer


@keras.saving.register_keras_serializable(package="zoo")
class PatchEmbedding(keras.layers.Layer):
    """Cut an image into square patches, embed each, add a class token and positions.

    A strided convolution embeds the non-overlapping `patch_size` x
    `patch_size` patches (the same as flattening each patch and applying one
    Dense layer). With `class_token=True` a learned token is put in front,
    whose final state a ViT classifies from (`SequencePooling("cls")`).

    Args:
        patch_size: side of a square patch; must divide the image's sides.
        embedding_dim: features per patch.
        class_token: prepend a learned class token.
        position: `"learned"`, `"sinusoidal"` or `"none"`.

    Input `(batch, height, width, channels)`; output
    `(batch, patches (+1), embedding_dim)` with `patches = (H/p) * (W/p)`.
    """

    def __init__(
        self,
        patch_size,
        embedding_dim,
        class_token=True,
        position="learned",
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("patch_size", patch_size)
        check_positive("embedding_dim", embedding_dim)
        check_choice("position", position, POSITIONS)
        self.patch_size = int(patch_size)
        self.embedding_dim = int(embedding_dim)
        self.class_token = bool(class_token)
        self.position = position
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _num_patches(self, inputs_shape):
        if len(inputs_shape) != 4:
            raise ValueError(
                "PatchEmbedding expects images (batch, height, width, channels). "
                f"Received: input shape={tuple(inputs_shape)}"
            )
        height, width = inputs_shape[1], inputs_shape[2]
        if height is None or width is None:
            raise ValueError("PatchEmbedding needs a known image height and width.")
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                "`patch_size` must divide the image's height and width. "
                f"Received: patch_size={self.patch_size}, height={height}, width={width}"
            )
        return (height // self.patch_size) * (width // self.patch_size)

    def build(self, inputs_shape):
        num_patches = self._num_patches(inputs_shape)
        self.projection = keras.layers.Conv2D(
            self.embedding_dim,
            kernel_size=self.patch_size,
            strides=self.patch_size,
            padding="valid",
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="projection",
        )
        self.projection.build(inputs_shape)
        if self.class_token:
            self.class_embedding = self.add_weight(
                name="class_token",
                shape=(1, 1, self.embedding_dim),
                initializer="zeros",
            )
        self.sequence_length = num_patches + int(self.class_token)
        self.position_embedding = _position_layer(
            self.position, self.sequence_length, "position_embedding", self.dtype_policy
        )
        if self.position_embedding is not None:
            self.position_embedding.build(
                (inputs_shape[0], self.sequence_length, self.embedding_dim)
            )
        self.built = True

    def call(self, inputs):
        patches = self.projection(inputs)  # (B, H/p, W/p, D)
        batch_size = ops.shape(patches)[0]
        patches = ops.reshape(patches, (batch_size, -1, self.embedding_dim))  # (B, N, D)
        if self.class_token:
            token = ops.cast(self.class_embedding, patches.dtype)
            token = ops.broadcast_to(token, (batch_size, 1, self.embedding_dim))
            patches = ops.concatenate([token, patches], axis=1)  # (B, N + 1, D)
        if self.position_embedding is not None:
            patches = patches + self.position_embedding(patches)
        return patches

    def compute_output_shape(self, inputs_shape):
        length = self._num_patches(inputs_shape) + int(self.class_token)
        return (inputs_shape[0], length, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "patch_size": self.patch_size,
                "embedding_dim": self.embedding_dim,
                "class_token": self.class_token,
                "position": self.position,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
