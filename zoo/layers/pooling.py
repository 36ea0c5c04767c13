"""Mask-aware pooling of a sequence to one vector per example."""

import keras
from keras import ops

from zoo.checks import check_choice

MODES = ("mean", "cls", "last", "max")


@keras.saving.register_keras_serializable(package="zoo")
class SequencePooling(keras.layers.Layer):
    """Reduce `(batch, T, features)` to `(batch, features)`.

    Modes:
        `"mean"`: average over real (unmasked) steps.
        `"max"`: maximum over real steps.
        `"last"`: the last real step (the final state of a causal model).
        `"cls"`: the first step (a class token, as in BERT and ViT).

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`, True on real steps; taken from the Keras mask.
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        check_choice("mode", mode, MODES)
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if self.mode == "cls":
            return inputs[:, 0]
        if mask is None:
            if self.mode == "mean":
                return ops.mean(inputs, axis=1)
            if self.mode == "max":
                return ops.max(inputs, axis=1)
            return inputs[:, -1]
        mask = ops.cast(mask, "bool")
        if self.mode == "mean":
            weights = ops.cast(mask, inputs.dtype)[:, :, None]  # (B, T, 1)
            total = ops.sum(inputs * weights, axis=1)
            count = ops.maximum(ops.sum(weights, axis=1), ops.cast(1, inputs.dtype))
            return total / count
        if self.mode == "max":
            lowest = ops.cast(ops.min(inputs) - 1, inputs.dtype)
            return ops.max(ops.where(mask[:, :, None], inputs, lowest), axis=1)
        # "last": index of the last True in each row (0 if none).
        length = ops.shape(mask)[1]
        positions = ops.arange(length)[None, :]
        last = ops.max(ops.where(mask, positions, 0), axis=1)  # (B,)
        index = ops.expand_dims(ops.expand_dims(last, -1), -1)  # (B, 1, 1)
        return ops.squeeze(ops.take_along_axis(inputs, index, axis=1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], inputs_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode})
        return config
