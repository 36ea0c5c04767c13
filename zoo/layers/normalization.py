"""The normalisation layers the blocks use, made in one place."""

import keras

from zoo.checks import check_choice
from zoo.names import NORMS


@keras.saving.register_keras_serializable(package="zoo")
class RMSNormalization(keras.layers.RMSNormalization):
    """Keras's `RMSNormalization`, declaring that the padding mask passes through.

    It acts on each position alone, like `LayerNormalization`, which declares
    so; Keras's `RMSNormalization` does not (`supports_masking` is False), and
    a model then drops the mask after it: Mamba's mean pooling averaged over
    padding. A subclass rather than an attribute set on an instance, so that a
    saved and reloaded model keeps passing the mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True


def normalization(kind, epsilon, dtype=None, name=None):
    """A `"layer"`, `"rms"` or `"batch"` normalisation layer; the first two
    pass the padding mask on."""
    check_choice("norm", kind, NORMS)
    if kind == "batch":
        return keras.layers.BatchNormalization(epsilon=epsilon, dtype=dtype, name=name)
    cls = keras.layers.LayerNormalization if kind == "layer" else RMSNormalization
    return cls(epsilon=epsilon, dtype=dtype, name=name)
