"""A recurrent mixer: Keras's own SimpleRNN / LSTM / GRU, optionally bidirectional.

The block wraps the Keras layers rather than re-implementing the cell, so the
fused kernels stay reachable: cuDNN on GPU (TensorFlow, JAX and PyTorch
backends) needs the default activations, no recurrent dropout and no
unrolling, which this block keeps. Dropout is applied to the block's output.
"""

import keras

from zoo.checks import check_choice, check_positive, check_rate

KINDS = {
    "rnn": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
MERGE_MODES = ("concat", "sum", "mul", "ave")


@keras.saving.register_keras_serializable(package="zoo")
class RecurrentBlock(keras.layers.Layer):
    """One recurrent layer: `"rnn"` (tanh SimpleRNN), `"lstm"` or `"gru"`.

    Args:
        kind: `"rnn"`, `"lstm"` or `"gru"`.
        units: state size (per direction when bidirectional).
        bidirectional: also run right-to-left and merge the two.
        return_sequences: output every step `(batch, T, features)` or only the
            final state `(batch, features)` (mask-aware: the last real step).
        dropout: dropout on the block's output.
        merge_mode: how the two directions combine, as in
            `keras.layers.Bidirectional` (`"concat"` doubles the features).

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`; padded steps are skipped (state carried over).
    """

    def __init__(
        self,
        kind,
        units,
        bidirectional=False,
        return_sequences=True,
        dropout=0.0,
        merge_mode="concat",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("kind", kind, tuple(KINDS))
        check_positive("units", units)
        check_rate("dropout", dropout)
        check_choice("merge_mode", merge_mode, MERGE_MODES)
        self.kind = kind
        self.units = int(units)
        self.bidirectional = bool(bidirectional)
        self.return_sequences = bool(return_sequences)
        self.dropout = dropout
        self.merge_mode = merge_mode
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.supports_masking = True

    @property
    def output_dim(self):
        both = self.bidirectional and self.merge_mode == "concat"
        return 2 * self.units if both else self.units

    def build(self, inputs_shape):
        recurrent = KINDS[self.kind](
            self.units,
            return_sequences=self.return_sequences,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            dtype=self.dtype_policy,
            name=self.kind,
        )
        if self.bidirectional:
            recurrent = keras.layers.Bidirectional(
                recurrent, merge_mode=self.merge_mode, dtype=self.dtype_policy,
                name=f"bidirectional_{self.kind}",
            )
        recurrent.build(inputs_shape)
        self.recurrent = recurrent
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def call(self, inputs, mask=None, training=None):
        outputs = self.recurrent(inputs, mask=mask, training=training)
        return self.dropout_layer(outputs, training=training)

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, inputs_shape):
        if self.return_sequences:
            return tuple(inputs_shape[:-1]) + (self.output_dim,)
        return (inputs_shape[0], self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kind": self.kind,
                "units": self.units,
                "bidirectional": self.bidirectional,
                "return_sequences": self.return_sequences,
                "dropout": self.dropout,
                "merge_mode": self.merge_mode,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "recurrent_initializer": keras.initializers.serialize(
                    self.recurrent_initializer
                ),
            }
        )
        return config
