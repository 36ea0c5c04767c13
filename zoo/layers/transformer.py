"""Transformer encoder and decoder blocks (Vaswani et al. 2017).

One block = multi-head attention and a position-wise feed-forward network,
each wrapped in a residual connection and a normalisation ("Add & Norm").
`normalize_first=False` is the original post-norm block; `True` is the
pre-norm block of GPT-2 and ViT. The normalisation is a knob (`"layer"`,
`"batch"` or `"rms"`) because one of the claims this zoo tests is that
LayerNorm suits text better than BatchNorm.
"""

import keras

from zoo.checks import check_choice, check_positive, check_rate
from zoo.layers.attention import IMPLEMENTATIONS, MultiHeadAttention
from zoo.layers.normalization import normalization
from zoo.names import NORMS


class _TransformerBlockBase(keras.layers.Layer):
    """Arguments, sublayers and `Add & Norm` shared by both blocks."""

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        attention_dropout=0.0,
        activation="relu",
        normalize_first=False,
        norm="layer",
        norm_epsilon=1e-5,
        rotary=False,
        head_dim=None,
        attention_implementation="auto",
        attention_chunk_size=128,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("num_heads", num_heads)
        if head_dim is not None:
            check_positive("head_dim", head_dim)
        check_positive("intermediate_dim", intermediate_dim)
        check_rate("dropout", dropout)
        check_rate("attention_dropout", attention_dropout)
        check_choice("norm", norm, NORMS)
        check_choice("attention_implementation", attention_implementation, IMPLEMENTATIONS)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = keras.activations.get(activation)
        self.normalize_first = bool(normalize_first)
        self.norm = norm
        self.norm_epsilon = norm_epsilon
        self.rotary = bool(rotary)
        self.head_dim = None if head_dim is None else int(head_dim)
        self.attention_implementation = attention_implementation
        self.attention_chunk_size = attention_chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _check_hidden_dim(self, hidden_dim):
        if self.head_dim is not None:  # heads of their own size (keras-io: key_dim=embed_dim)
            return self.head_dim
        if hidden_dim % self.num_heads:
            raise ValueError(
                "The input's features must divide evenly into heads. "
                f"Received: features={hidden_dim}, num_heads={self.num_heads}"
            )
        return hidden_dim // self.num_heads

    def _build_attention(self, name, query_shape, value_shape, rotary):
        hidden_dim = query_shape[-1]
        head_dim = self._check_hidden_dim(hidden_dim)
        attention = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.attention_dropout,
            rotary=rotary,
            implementation=self.attention_implementation,
            chunk_size=self.attention_chunk_size,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name=name,
        )
        attention.build(query_shape, value_shape)
        norm = normalization(self.norm, self.norm_epsilon, self.dtype_policy, f"{name}_norm")
        norm.build(query_shape)
        return attention, norm

    def _build_feedforward(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        dense = dict(
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )
        self.feedforward_intermediate = keras.layers.Dense(
            self.intermediate_dim, activation=self.activation,
            name="feedforward_intermediate", **dense
        )
        self.feedforward_intermediate.build(inputs_shape)
        self.feedforward_output = keras.layers.Dense(
            hidden_dim, name="feedforward_output", **dense
        )
        self.feedforward_output.build(
            tuple(inputs_shape[:-1]) + (self.intermediate_dim,)
        )
        self.feedforward_norm = normalization(
            self.norm, self.norm_epsilon, self.dtype_policy, "feedforward_norm"
        )
        self.feedforward_norm.build(inputs_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _normalize(self, norm_layer, x, mask, training):
        if isinstance(norm_layer, keras.layers.BatchNormalization):
            # Statistics over real steps only, so padding does not skew them.
            return norm_layer(x, training=training, mask=mask)
        return norm_layer(x)

    def _residual(self, x, sublayer, norm_layer, mask, training):
        """Pre-norm: x + f(norm(x)). Post-norm: norm(x + f(x))."""
        y = self._normalize(norm_layer, x, mask, training) if self.normalize_first else x
        y, extra = sublayer(y)
        x = x + self.dropout_layer(y, training=training)
        if not self.normalize_first:
            x = self._normalize(norm_layer, x, mask, training)
        return x, extra

    def _feedforward(self, x, mask, training):
        def f(y):
            y = self.feedforward_intermediate(y)
            y = self.dropout_layer(y, training=training)
            return self.feedforward_output(y), None

        x, _ = self._residual(x, f, self.feedforward_norm, mask, training)
        return x

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "activation": keras.activations.serialize(self.activation),
                "normalize_first": self.normalize_first,
                "norm": self.norm,
                "norm_epsilon": self.norm_epsilon,
                "rotary": self.rotary,
                "head_dim": self.head_dim,
                "attention_implementation": self.attention_implementation,
                "attention_chunk_size": self.attention_chunk_size,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(_TransformerBlockBase):
    """Self-attention + feed-forward, each with Add & Norm.

    Args:
        num_heads: attention heads; the input's features must divide by it.
        intermediate_dim: hidden size of the feed-forward network.
        dropout: dropout after attention and in the feed-forward network.
        attention_dropout: dropout on the attention weights (disables the
            fused attention kernel while training).
        activation: feed-forward activation.
        normalize_first: pre-norm (True) or the original post-norm (False).
        norm: `"layer"`, `"batch"` or `"rms"`.
        norm_epsilon: epsilon of the normalisation.
        causal: each position attends only to itself and earlier positions.
        rotary: rotary position embedding on queries and keys.
        head_dim: size of each attention head; defaults to features /
            `num_heads` (keras-io's examples use the features per head).
        attention_implementation: `"auto"`, `"fused"`, `"chunked"` or `"full"`,
            `MultiHeadAttention`'s `implementation` (`"chunked"`: memory linear
            in the sequence length on every backend).
        attention_chunk_size: `MultiHeadAttention`'s `chunk_size`.

    Call arguments:
        inputs: `(batch, sequence, features)`.
        mask: `(batch, sequence)` padding mask, True on real steps (taken from
            the Keras mask of `inputs` when not given).
        return_attention_scores: also return `(batch, heads, T, T)` weights.
    """

    def __init__(self, num_heads, intermediate_dim, causal=False, **kwargs):
        super().__init__(num_heads, intermediate_dim, **kwargs)
        self.causal = bool(causal)

    def build(self, inputs_shape):
        self.self_attention, self.self_attention_norm = self._build_attention(
            "self_attention", inputs_shape, inputs_shape, self.rotary
        )
        self._build_feedforward(inputs_shape)
        self.built = True

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        def attend(y):
            out = self.self_attention(
                y,
                y,
                query_mask=mask,
                value_mask=mask,
                use_causal_mask=self.causal,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            return out if return_attention_scores else (out, None)

        x, scores = self._residual(inputs, attend, self.self_attention_norm, mask, training)
        x = self._feedforward(x, mask, training)
        if return_attention_scores:
            return x, scores
        return x

    def compute_output_spec(
        self, inputs, mask=None, training=None, return_attention_scores=False
    ):
        # Overridden because the output structure depends on a call argument.
        outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return outputs
        batch_size, length = inputs.shape[0], inputs.shape[1]
        scores_shape = (batch_size, self.num_heads, length, length)  # (B, H, T, T)
        return outputs, keras.KerasTensor(scores_shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"causal": self.causal})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderBlock(_TransformerBlockBase):
    """Causal self-attention, cross-attention to a context, feed-forward.

    The decoder block of an encoder-decoder Transformer. Without a context
    (`context=None`) the cross-attention is skipped, which makes it a
    decoder-only (GPT-style) block; build it with a context once to create
    the cross-attention weights.

    Arguments as in `TransformerEncoderBlock`, except that self-attention is
    always causal.

    Call arguments:
        inputs: `(batch, T, features)`, the target sequence so far.
        context: `(batch, S, features)`, the encoder's output.
        inputs_mask / mask: `(batch, T)` padding mask of `inputs`.
        context_mask: `(batch, S)` padding mask of `context`.
    """

    def build(self, inputs_shape, context_shape=None):
        self.self_attention, self.self_attention_norm = self._build_attention(
            "self_attention", inputs_shape, inputs_shape, self.rotary
        )
        self.cross_attention = self.cross_attention_norm = None
        if context_shape is not None:
            if context_shape[-1] != inputs_shape[-1]:
                raise ValueError(
                    "The context must have as many features as the inputs. "
                    f"Received: inputs features={inputs_shape[-1]}, "
                    f"context features={context_shape[-1]}"
                )
            self.cross_attention, self.cross_attention_norm = self._build_attention(
                "cross_attention", inputs_shape, context_shape, False
            )
        self._build_feedforward(inputs_shape)
        self.built = True

    def call(
        self,
        inputs,
        context=None,
        inputs_mask=None,
        context_mask=None,
        mask=None,
        training=None,
    ):
        mask = inputs_mask if mask is None else mask

        def attend_self(y):
            out = self.self_attention(
                y, y, query_mask=mask, value_mask=mask,
                use_causal_mask=True, training=training,
            )
            return out, None

        x, _ = self._residual(inputs, attend_self, self.self_attention_norm, mask, training)
        if context is not None:
            if self.cross_attention is None:
                raise ValueError(
                    "This TransformerDecoderBlock was built without a context, so "
                    "it has no cross-attention weights; call it with a context "
                    "the first time to create them."
                )

            def attend_context(y):
                out = self.cross_attention(
                    y, context, query_mask=mask, value_mask=context_mask,
                    training=training,
                )
                return out, None

            x, _ = self._residual(x, attend_context, self.cross_attention_norm, mask, training)
        return self._feedforward(x, mask, training)
