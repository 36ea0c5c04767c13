"""Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs").

Softmax attention with the similarity `exp(q . k)` replaced by the kernel
`phi(q) . phi(k)`, `phi(x) = elu(x) + 1`, so the sums over keys factor:

    out_i = phi(q_i)^T S / (phi(q_i)^T z),   S = sum_j phi(k_j) v_j^T,  z = sum_j phi(k_j)

over all keys (bidirectional) or over keys j <= i (causal). The causal form
is a recurrence on `(S, z)` (`step` runs it one token at a time for
generation); training computes it in chunks: exact attention-like products
inside a chunk of `chunk_size` steps and the running state `S` between
chunks, so memory grows with `T * chunk_size`, not `T * d_k * d_v`.
"""

import keras
from keras import ops

from zoo.checks import check_positive


def feature_map(x):
    """phi(x) = elu(x) + 1, positive everywhere."""
    return ops.elu(x) + 1.0


@keras.saving.register_keras_serializable(package="zoo")
class LinearAttention(keras.layers.Layer):
    """Multi-head linear self-attention: `(batch, T, features)` -> same shape.

    Args:
        num_heads: attention heads.
        key_dim: d_k, size of each head's queries and keys; defaults to
            features / num_heads.
        value_dim: d_v, size of each head's values; defaults to `key_dim`.
        causal: each position attends only to itself and earlier positions.
        chunk_size: steps per chunk of the causal form.
        epsilon: added to the normaliser (no key seen yet, e.g. left padding).
        use_bias, kernel_initializer, bias_initializer: of the projections.

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`, True on real steps; padded steps are no keys.

    Generation (causal only): `state = layer.initial_state(batch_size)`, then
    `y_t, state = layer.step(x_t, state)`.
    """

    def __init__(
        self,
        num_heads=4,
        key_dim=None,
        value_dim=None,
        causal=False,
        chunk_size=64,
        epsilon=1e-6,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("num_heads", num_heads)
        check_positive("chunk_size", chunk_size)
        for name, value in (("key_dim", key_dim), ("value_dim", value_dim)):
            if value is not None:
                check_positive(name, value)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim) if key_dim else None
        self.value_dim = int(value_dim) if value_dim else None
        self.causal = bool(causal)
        self.chunk_size = int(chunk_size)
        self.epsilon = epsilon
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        features = inputs_shape[-1]
        if self.key_dim is None and features % self.num_heads:
            raise ValueError(
                "The input's features must divide evenly into heads when `key_dim` "
                f"is not given. Received: features={features}, num_heads={self.num_heads}"
            )
        self.head_key_dim = self.key_dim or features // self.num_heads
        self.head_value_dim = self.value_dim or self.head_key_dim
        dense = dict(
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )
        heads = self.num_heads
        self.query_dense = keras.layers.Dense(heads * self.head_key_dim, name="query", **dense)
        self.key_dense = keras.layers.Dense(heads * self.head_key_dim, name="key", **dense)
        self.value_dense = keras.layers.Dense(heads * self.head_value_dim, name="value", **dense)
        self.output_dense = keras.layers.Dense(features, name="attention_output", **dense)
        for layer in (self.query_dense, self.key_dense, self.value_dense):
            layer.build(inputs_shape)
        self.output_dense.build(tuple(inputs_shape[:-1]) + (heads * self.head_value_dim,))
        self.built = True

    def _heads(self, x, head_dim):
        """`(..., H * head_dim)` -> `(..., H, head_dim)` in float32."""
        x = ops.reshape(x, tuple(ops.shape(x)[:-1]) + (self.num_heads, head_dim))
        return ops.cast(x, "float32")

    def _project(self, inputs, mask=None):
        q = feature_map(self._heads(self.query_dense(inputs), self.head_key_dim))
        k = feature_map(self._heads(self.key_dense(inputs), self.head_key_dim))
        v = self._heads(self.value_dense(inputs), self.head_value_dim)
        if mask is not None:
            k = k * ops.cast(mask, "float32")[:, :, None, None]
        return q, k, v  # (B, T, H, d_k), (B, T, H, d_k), (B, T, H, d_v)

    def _output(self, numerator, denominator):
        out = numerator / (denominator[..., None] + self.epsilon)
        out = ops.reshape(
            out, tuple(ops.shape(out)[:-2]) + (self.num_heads * self.head_value_dim,)
        )
        return self.output_dense(ops.cast(out, self.compute_dtype))

    def call(self, inputs, mask=None):
        q, k, v = self._project(inputs, mask)
        if not self.causal:
            state = ops.einsum("bshk,bshv->bhkv", k, v)
            normaliser = ops.sum(k, axis=1)  # (B, H, d_k)
            numerator = ops.einsum("bthk,bhkv->bthv", q, state)
            denominator = ops.einsum("bthk,bhk->bth", q, normaliser)
        elif q.shape[1] is None:  # a TensorFlow graph traced with an unknown length
            numerator, denominator = self._causal_cumulative(q, k, v)
        else:
            numerator, denominator = self._causal_chunked(q, k, v)
        return self._output(numerator, denominator)

    def _causal_cumulative(self, q, k, v):
        """Running sums over every step: memory T x d_k x d_v per head."""
        state = ops.cumsum(k[..., :, None] * v[..., None, :], axis=1)  # (B, T, H, d_k, d_v)
        normaliser = ops.cumsum(k, axis=1)
        numerator = ops.einsum("bthk,bthkv->bthv", q, state)
        return numerator, ops.sum(q * normaliser, axis=-1)

    def _causal_chunked(self, q, k, v):
        length = q.shape[1]
        size = min(self.chunk_size, length)
        pad = -length % size
        if pad:
            q, k, v = (ops.pad(x, [[0, 0], [0, pad], [0, 0], [0, 0]]) for x in (q, k, v))
        chunks = (length + pad) // size

        def split(x):  # (B, T, H, d) -> (B, n, C, H, d)
            return ops.reshape(x, (-1, chunks, size) + tuple(x.shape[2:]))

        q, k, v = split(q), split(k), split(v)
        # Inside a chunk: causal products, as attention with phi(q) . phi(k).
        causal = ops.tril(ops.ones((size, size), "float32"))
        scores = ops.einsum("bnihk,bnjhk->bnhij", q, k) * causal  # (B, n, H, C, C)
        numerator = ops.einsum("bnhij,bnjhv->bnihv", scores, v)
        denominator = ops.transpose(ops.sum(scores, axis=-1), (0, 1, 3, 2))  # (B, n, C, H)
        # Between chunks: the state of all earlier chunks (exclusive cumsum).
        chunk_state = ops.einsum("bnjhk,bnjhv->bnhkv", k, v)
        chunk_normaliser = ops.sum(k, axis=2)  # (B, n, H, d_k)
        earlier_state = ops.cumsum(chunk_state, axis=1) - chunk_state
        earlier_normaliser = ops.cumsum(chunk_normaliser, axis=1) - chunk_normaliser
        numerator = numerator + ops.einsum("bnihk,bnhkv->bnihv", q, earlier_state)
        denominator = denominator + ops.einsum("bnihk,bnhk->bnih", q, earlier_normaliser)

        def merge(x):  # (B, n, C, H, ...) -> (B, T, H, ...)
            return ops.reshape(x, (-1, chunks * size) + tuple(x.shape[3:]))[:, :length]

        return merge(numerator), merge(denominator)

    def initial_state(self, batch_size):
        heads, key_dim, value_dim = self.num_heads, self.head_key_dim, self.head_value_dim
        return [
            ops.zeros((batch_size, heads, key_dim, value_dim), "float32"),
            ops.zeros((batch_size, heads, key_dim), "float32"),
        ]

    def step(self, inputs, state):
        """One causal step: `inputs` `(batch, features)`, `state` = [S, z]."""
        if not self.causal:
            raise ValueError(
                "Only a causal LinearAttention runs one step at a time; this one "
                "has causal=False."
            )
        q, k, v = self._project(inputs)  # (B, H, d)
        s, z = state
        s = s + k[..., :, None] * v[..., None, :]
        z = z + k
        numerator = ops.einsum("bhk,bhkv->bhv", q, s)
        return self._output(numerator, ops.sum(q * z, axis=-1)), [s, z]

    def sequence_mixing_flops(self, query_positions, key_positions):
        """Writing each key into (S, z) and reading (S, z) with each query:
        d_k x (d_v + 1) multiply-adds per head either way (the recurrent form's
        count, causal or not)."""
        per_position = 2 * self.num_heads * self.head_key_dim * (self.head_value_dim + 1)
        return per_position * (query_positions + key_positions)

    def state_size(self):
        """Floats carried per sequence: S (d_k x d_v) and z (d_k) per head."""
        return self.num_heads * self.head_key_dim * (self.head_value_dim + 1)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "causal": self.causal,
                "chunk_size": self.chunk_size,
                "epsilon": self.epsilon,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
