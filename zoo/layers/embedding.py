"""Input embeddings and position encodings.

Every layer here uses `keras.ops` only, so it runs on TensorFlow, JAX and
PyTorch, and is registered so a `.keras` file that contains it loads back.
"""

import keras
from keras import ops

from zoo.checks import check_choice, check_positive
from zoo.names import EMBEDDED_POSITIONS as POSITIONS


@keras.saving.register_keras_serializable(package="zoo")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Fixed sine/cosine position encoding (Vaswani et al. 2017, section 3.5).

    Returns the encoding for the positions of `inputs`, broadcast to the shape
    of `inputs`; add it to the inputs yourself. Features alternate
    `sin, cos, sin, cos, ...` with wavelengths from `2 pi` to
    `max_wavelength * 2 pi`, exactly as `keras_hub.layers.SinePositionEncoding`.
    Being a formula, it works for any sequence length, also one longer than
    seen in training.

    Args:
        max_wavelength: the longest wavelength of the sinusoids.

    Call arguments:
        inputs: a tensor `(batch, sequence, features)`.
        start_index: the position of the first step (for cached decoding).
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        check_positive("max_wavelength", max_wavelength)
        self.max_wavelength = max_wavelength
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        sequence_length, hidden_dim = shape[-2], shape[-1]
        dtype = self.compute_dtype
        positions = ops.cast(ops.arange(sequence_length) + start_index, dtype)
        feature_ids = ops.arange(hidden_dim)
        exponents = ops.cast(2 * (feature_ids // 2), dtype) / ops.cast(
            hidden_dim, dtype
        )
        inverse_timescales = ops.power(
            ops.cast(1.0 / self.max_wavelength, dtype), exponents
        )
        angles = positions[:, None] * inverse_timescales[None, :]  # (T, D)
        is_cos = ops.cast(feature_ids % 2, dtype)
        encoding = ops.sin(angles) * (1 - is_cos) + ops.cos(angles) * is_cos
        return ops.broadcast_to(encoding, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class PositionEmbedding(keras.layers.Layer):
    """A learned embedding per position, up to `sequence_length` positions.

    Like `SinusoidalPositionEncoding`, it returns the embedding broadcast to
    the shape of `inputs` rather than adding it. Inputs may be shorter than
    `sequence_length`; the first positions are used.

    Args:
        sequence_length: the largest number of positions.
        initializer: initializer of the `(sequence_length, features)` table.
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive("sequence_length", sequence_length)
        self.sequence_length = int(sequence_length)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        length = inputs_shape[-2]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                "Received an input longer than the position table: "
                f"input length={length}, sequence_length={self.sequence_length}. "
                "Build the layer with a larger `sequence_length`, or use "
                "position='sinusoidal', which has no length limit."
            )
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
        )

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        table = ops.convert_to_tensor(self.position_embeddings)
        table = ops.slice(table, (start_index, 0), (shape[-2], shape[-1]))
        return ops.broadcast_to(ops.cast(table, self.compute_dtype), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config


def _position_layer(position, sequence_length, name, dtype=None):
    check_choice("position", position, POSITIONS)
    if position == "learned":
        return PositionEmbedding(sequence_length, name=name, dtype=dtype)
    if position == "sinusoidal":
        return SinusoidalPositionEncoding(name=name, dtype=dtype)
    return None


class _PositionedEmbedding(keras.layers.Layer):
    """Shared part of the two embeddings: embed, then add positions."""

    def __init__(self, sequence_length, embedding_dim, position="learned", **kwargs):
        super().__init__(**kwargs)
        check_positive("sequence_length", sequence_length)
        check_positive("embedding_dim", embedding_dim)
        check_choice("position", position, POSITIONS)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.position = position

    def _build_position(self, embedded_shape):
        self.position_embedding = _position_layer(
            self.position,
            self.sequence_length,
            name="position_embedding",
            dtype=self.dtype_policy,
        )
        if self.position_embedding is not None:
            self.position_embedding.build(embedded_shape)

    def _add_position(self, embedded, start_index=0):
        if self.position_embedding is None:
            return embedded
        return embedded + self.position_embedding(embedded, start_index=start_index)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "position": self.position,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class TokenAndPositionEmbedding(_PositionedEmbedding):
    """Token embedding plus a position encoding.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: the largest sequence length (size of a learned table).
        embedding_dim: output features.
        position: `"learned"`, `"sinusoidal"` or `"none"` (use `"none"` with
            rotary attention, which puts positions into the attention itself).
        mask_zero: whether id 0 is padding; if so a mask is emitted and every
            mask-aware layer downstream (attention, recurrent, pooling)
            ignores padded steps.
        embeddings_initializer: initializer of the token table.

    Input `(batch, sequence)` ids; output `(batch, sequence, embedding_dim)`.
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        position="learned",
        mask_zero=False,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(sequence_length, embedding_dim, position, **kwargs)
        check_positive("vocabulary_size", vocabulary_size)
        self.vocabulary_size = int(vocabulary_size)
        self.mask_zero = bool(mask_zero)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = self.mask_zero

    def build(self, inputs_shape):
        self.token_embedding = keras.layers.Embedding(
            self.vocabulary_size,
            self.embedding_dim,
            embeddings_initializer=self.embeddings_initializer,
            mask_zero=self.mask_zero,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.token_embedding.build(inputs_shape)
        self._build_position(tuple(inputs_shape) + (self.embedding_dim,))

    def call(self, inputs, start_index=0):
        return self._add_position(self.token_embedding(inputs), start_index)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class FeatureAndPositionEmbedding(_PositionedEmbedding):
    """A linear projection of real-valued features plus a position encoding.

    For sequences of vectors (the `adding` task's `(value, marker)` pairs,
    pixels of sequential MNIST). Input `(batch, sequence, features)`; output
    `(batch, sequence, embedding_dim)`. Arguments as in
    `TokenAndPositionEmbedding`, less the vocabulary.
    """

    def __init__(
        self,
        sequence_length,
        embedding_dim,
        position="learned",
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(sequence_length, embedding_dim, position, **kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        self.projection = keras.layers.Dense(
            self.embedding_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="projection",
        )
        self.projection.build(inputs_shape)
        self._build_position(tuple(inputs_shape[:-1]) + (self.embedding_dim,))

    def call(self, inputs, start_index=0):
        return self._add_position(self.projection(inputs), start_index)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                )
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class RotaryEmbedding(keras.layers.Layer):
    """Rotary position embedding (RoPE, Su et al. 2021).

    Rotates pairs of features of queries and keys by an angle proportional to
    the position, so that their dot product depends on relative position only.
    Uses the "rotate half" pairing (feature i with feature i + D/2), as
    `keras_hub.layers.RotaryEmbedding` and most LLM code do. Applied inside
    attention: `TransformerEncoderBlock(..., rotary=True)`.

    Args:
        max_wavelength: the longest wavelength.
        scaling_factor: divides positions (position interpolation).
        sequence_axis: axis of `inputs` that indexes positions.
        feature_axis: axis of `inputs` that holds the rotated features.

    Call arguments:
        inputs: e.g. `(batch, sequence, heads, head_dim)`; `head_dim` even.
        start_index: the position of the first step.
    """

    def __init__(
        self,
        max_wavelength=10000,
        scaling_factor=1.0,
        sequence_axis=1,
        feature_axis=-1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("max_wavelength", max_wavelength)
        check_positive("scaling_factor", scaling_factor)
        self.max_wavelength = max_wavelength
        self.scaling_factor = scaling_factor
        self.sequence_axis = sequence_axis
        self.feature_axis = feature_axis
        self.built = True

    def call(self, inputs, start_index=0):
        inputs = ops.moveaxis(inputs, (self.feature_axis, self.sequence_axis), (-1, 1))
        rotary_dim = ops.shape(inputs)[-1]
        if isinstance(rotary_dim, int) and rotary_dim % 2:
            raise ValueError(
                "RotaryEmbedding needs an even number of features. "
                f"Received: features={rotary_dim}"
            )
        dtype = "float32"
        half = rotary_dim // 2
        inverse_freq = 1.0 / ops.power(
            ops.cast(self.max_wavelength, dtype),
            ops.cast(ops.arange(0, rotary_dim, 2), dtype) / ops.cast(rotary_dim, dtype),
        )
        positions = ops.cast(ops.arange(ops.shape(inputs)[1]) + start_index, dtype)
        positions = positions / ops.cast(self.scaling_factor, dtype)
        angles = ops.einsum("i,j->ij", positions, inverse_freq)  # (T, D/2)
        angles = ops.concatenate([angles, angles], axis=-1)  # (T, D)
        # Broadcast (T, D) against (B, T, ..., D).
        for _ in range(len(inputs.shape) - 3):
            angles = ops.expand_dims(angles, axis=1)
        cos = ops.cast(ops.cos(angles), self.compute_dtype)
        sin = ops.cast(ops.sin(angles), self.compute_dtype)
        x1, x2 = inputs[..., :half], inputs[..., half:]
        rotated_half = ops.concatenate([-x2, x1], axis=-1)
        outputs = inputs * cos + rotated_half * sin
        return ops.moveaxis(outputs, (-1, 1), (self.feature_axis, self.sequence_axis))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "scaling_factor": self.scaling_factor,
                "sequence_axis": self.sequence_axis,
                "feature_axis": self.feature_axis,
            }
        )
        return config
