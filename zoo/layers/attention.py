"""Multi-head attention through `keras.ops.dot_product_attention`.

The weights are laid out as in `keras.layers.MultiHeadAttention` (query, key,
value and output `EinsumDense` kernels and biases, in that order), so weights
copy between the two and a test checks that outputs agree. Unlike the Keras
layer it can rotate queries and keys by position (rotary embedding).

Three ways to compute the same attention (`implementation`):

- `"fused"`: `keras.ops.dot_product_attention`, the backend's kernel. PyTorch
  reaches flash / memory-efficient kernels on CPU and GPU, JAX cuDNN flash
  attention on recent GPUs in half precision; elsewhere (TensorFlow, JAX on a
  CPU) the backend builds the full score matrix.
- `"chunked"`: queries and keys in chunks with an online softmax and a
  backward pass that recomputes each block (`zoo/layers/chunked_attention.py`):
  memory linear in the sequence length on every backend and device.
- `"full"`: the `(batch, heads, T, S)` weights computed explicitly.
- `"auto"` (the default): fused where the backend has a fused kernel for these
  inputs on this device (unless a padding or attention mask would have to be
  materialised as a large `(B, T, S)` tensor); otherwise chunked when the
  `(batch, heads, T, S)` scores would be larger than one chunked block
  (`chunked_attention.BLOCK_ELEMENTS`, 2^17 numbers), full when not. Chunked
  is the faster of the two on a CPU well before memory runs out: JAX, one
  core, `transformer_small` at T=128, batch 512: 3.4 s a train step chunked,
  6.0 s full (the full path streams the score tensor through memory).

Returning the weights, or dropping them out while training, always takes the
full path (a fused or chunked kernel never holds the weights). So does
`"fused"` when `value_dim != key_dim` (JAX's kernel needs them equal).
"""

import math

import keras
from keras import ops

from zoo.checks import check_choice, check_positive, check_rate
from zoo.layers import backend_kernels, chunked_attention
from zoo.layers.embedding import RotaryEmbedding
from zoo.names import ATTENTION_IMPLEMENTATIONS

IMPLEMENTATIONS = ATTENTION_IMPLEMENTATIONS  # zoo.names


@keras.saving.register_keras_serializable(package="zoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for queries and keys.
        value_dim: size of each head for values; defaults to `key_dim`.
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_dim: features of the output; defaults to the query's features.
        rotary: rotate queries and keys by position (RoPE) before attending.
        max_wavelength: longest wavelength of the rotary embedding.
        implementation: `"auto"`, `"fused"`, `"chunked"` or `"full"` (module
            docstring).
        chunk_size: queries and keys per chunk on the chunked path.
        kernel_initializer, bias_initializer: initializers of the projections.

    Call arguments (as in `keras.layers.MultiHeadAttention`):
        query: `(batch, T, features)`.
        value: `(batch, S, features)`; pass the query again for self-attention.
        key: defaults to `value`.
        query_mask, value_mask, key_mask: `(batch, T)` / `(batch, S)` booleans,
            True where a step is real (filled in from Keras masks).
        attention_mask: `(batch, T, S)` boolean, True where attending is allowed.
        use_causal_mask: forbid attending to later positions.
        return_attention_scores: also return the `(batch, heads, T, S)` weights.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        rotary=False,
        max_wavelength=10000,
        implementation="auto",
        chunk_size=128,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("num_heads", num_heads)
        check_positive("key_dim", key_dim)
        check_rate("dropout", dropout)
        check_choice("implementation", implementation, IMPLEMENTATIONS)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(
                "Received an invalid value for `chunk_size`, expected a positive "
                f"integer. Received: chunk_size={chunk_size!r}"
            )
        if rotary and key_dim % 2:
            raise ValueError(
                "Rotary attention needs an even `key_dim` (features are rotated "
                f"in pairs). Received: key_dim={key_dim}"
            )
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.output_dim = output_dim
        self.rotary = bool(rotary)
        self.max_wavelength = max_wavelength
        self.implementation = implementation
        self.chunk_size = chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _dense(self, equation, output_shape, bias_axes, name):
        dense = keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name=name,
        )
        dense.supports_masking = True  # a mask passes through a projection
        return dense

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        heads = self.num_heads
        self.query_dense = self._dense(
            "abc,cde->abde", (None, heads, self.key_dim), "de", "query"
        )
        self.query_dense.build(query_shape)
        self.key_dense = self._dense(
            "abc,cde->abde", (None, heads, self.key_dim), "de", "key"
        )
        self.key_dense.build(key_shape)
        self.value_dense = self._dense(
            "abc,cde->abde", (None, heads, self.value_dim), "de", "value"
        )
        self.value_dense.build(value_shape)
        output_dim = self.output_dim or query_shape[-1]
        self.output_dense = self._dense(
            "abcd,cde->abe", (None, output_dim), "e", "attention_output"
        )
        self.output_dense.build(
            tuple(query_shape[:-1]) + (heads, self.value_dim)
        )
        self.rotary_embedding = (
            RotaryEmbedding(self.max_wavelength, dtype=self.dtype_policy)
            if self.rotary
            else None
        )
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        if key is None:
            key = value
            key_mask = None
        query = self.query_dense(query)  # (B, T, H, Dk)
        key = self.key_dense(key)  # (B, S, H, Dk)
        value = self.value_dense(value)  # (B, S, H, Dv)
        if self.rotary_embedding is not None:
            query = self.rotary_embedding(query)
            key = self.rotary_embedding(key)
        scale = 1.0 / math.sqrt(self.key_dim)
        masked = any(m is not None for m in (query_mask, value_mask, key_mask, attention_mask))
        path = self._choose_path(
            query, key, value, masked,
            needs_weights=return_attention_scores or bool(training and self.dropout > 0),
        )
        self.last_path = path  # what the last call (or trace) chose: `zoo bench` records it
        scores = None
        if path == "chunked":
            masks = {
                "query_mask": query_mask,
                "key_mask": _both(value_mask, key_mask),
                "attention_mask": attention_mask,
                "causal": use_causal_mask,
            }
            outputs = chunked_attention.attention(
                query, key, value, masks, scale, self.chunk_size
            )  # (B, T, H, Dv)
        elif path == "fused":
            # A causal mask alone goes to the backend's causal kernel.
            causal_only = use_causal_mask and not masked
            mask = None if causal_only else _merge_masks(
                query_mask, value_mask, key_mask, attention_mask, use_causal_mask, query, key
            )
            outputs = ops.dot_product_attention(
                query,
                key,
                value,
                mask=None if mask is None else mask[:, None],  # (B, 1, T, S)
                scale=scale,
                is_causal=causal_only,
            )  # (B, T, H, Dv)
        else:
            mask = _merge_masks(
                query_mask, value_mask, key_mask, attention_mask, use_causal_mask, query, key
            )
            logits = ops.einsum("bthd,bshd->bhts", query, key) * ops.cast(
                scale, query.dtype
            )
            if mask is not None:
                logits = ops.where(mask[:, None], logits, _large_negative(logits.dtype))
            scores = ops.softmax(ops.cast(logits, "float32"), axis=-1)
            scores = ops.cast(scores, query.dtype)
            dropped = self.dropout_layer(scores, training=training)
            outputs = ops.einsum("bhts,bshd->bthd", dropped, value)
        outputs = self.output_dense(outputs)  # (B, T, output_dim)
        if return_attention_scores:
            return outputs, scores
        return outputs

    def _choose_path(self, query, key, value, masked, needs_weights):
        """`"fused"`, `"chunked"` or `"full"` for this call (module docstring)."""
        if needs_weights or self.implementation == "full":
            return "full"
        # JAX's fused kernel needs values as wide as keys.
        fusable = self.value_dim == self.key_dim
        if self.implementation == "fused":
            return "fused" if fusable else "full"
        if self.implementation == "chunked":
            return "chunked"
        sizes = (ops.shape(query)[0], self.num_heads, ops.shape(query)[1], ops.shape(key)[1])
        large = not all(isinstance(n, int) for n in sizes) or (
            math.prod(sizes) > chunked_attention.BLOCK_ELEMENTS
        )
        # A mask other than the causal one reaches a fused kernel as (B, T, S).
        if fusable and not (large and masked) and backend_kernels.has_fused_attention(
            query, key, value
        ):
            return "fused"
        return "chunked" if large else "full"

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_dim or query_shape[-1],)

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        # Overridden because the output structure depends on a call argument,
        # which `compute_output_shape` does not see.
        outputs = keras.KerasTensor(
            self.compute_output_shape(query.shape), dtype=self.compute_dtype
        )
        if not return_attention_scores:
            return outputs
        batch_size, query_length = query.shape[0], query.shape[1]
        scores_shape = (batch_size, self.num_heads, query_length, value.shape[1])
        return outputs, keras.KerasTensor(scores_shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "rotary": self.rotary,
                "max_wavelength": self.max_wavelength,
                "implementation": self.implementation,
                "chunk_size": self.chunk_size,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


def _large_negative(dtype):
    # `standardize_dtype`, as backends spell dtypes differently (torch.float16).
    half = keras.backend.standardize_dtype(dtype) in ("float16", "bfloat16")
    return -3e4 if half else -1e9


def _both(a, b):
    """AND of two optional `(B, S)` masks."""
    if a is None or b is None:
        return b if a is None else a
    return ops.logical_and(ops.cast(a, "bool"), ops.cast(b, "bool"))


def _merge_masks(query_mask, value_mask, key_mask, attention_mask, causal, query, value):
    """All masks as one `(B, T, S)` boolean, True where attending is allowed.

    Same rule as `keras.layers.MultiHeadAttention`: query mask as `(B, T, 1)`,
    value and key masks as `(B, 1, S)`, the causal mask as `(1, T, S)`, all
    combined with AND. Returns None when there is no mask at all.
    """
    mask = None

    def _and(a, b):
        return b if a is None else ops.logical_and(a, b)

    if query_mask is not None:
        mask = ops.expand_dims(ops.cast(query_mask, "bool"), -1)
    for m in (value_mask, key_mask):
        if m is not None:
            mask = _and(mask, ops.expand_dims(ops.cast(m, "bool"), -2))
    if causal:
        mask = _and(mask, causal_mask(ops.shape(query)[1], ops.shape(value)[1])[None])
    if attention_mask is not None:
        mask = _and(mask, ops.cast(attention_mask, "bool"))
    return mask


def causal_mask(query_length, key_length):
    """`(T, S)` boolean, True where query t may attend to key s (s <= t).

    The same lower triangle as Keras's and the backends' `is_causal`.
    """
    rows = ops.arange(query_length)[:, None]
    return ops.greater_equal(rows, ops.arange(key_length)[None, :])
