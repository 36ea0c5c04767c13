"""The normalisation factory: the kinds, the mask, and a saved model keeping it."""

import keras
import numpy as np
import pytest

from zoo.layers import normalization


@pytest.mark.parametrize("kind, cls", [("layer", "LayerNormalization"),
                                        ("rms", "RMSNormalization"),
                                        ("batch", "BatchNormalization")])
def test_kinds(kind, cls):
    layer = normalization(kind, 1e-5, name="n")
    assert type(layer).__name__ == cls
    assert layer.epsilon == 1e-5 and layer.name == "n"
    if kind != "batch":  # per position: the padding mask passes through
        assert layer.supports_masking


def test_a_bad_kind_names_the_choices():
    with pytest.raises(ValueError, match=r"norm=.*'group'.*\['layer', 'batch', 'rms'\]|"
                                         r"\['layer', 'batch', 'rms'\].*'group'"):
        normalization("group", 1e-5)


def test_rms_passes_the_mask_after_saving(tmp_path):
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    x = normalization("rms", 1e-5, name="norm")(x)
    outputs = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(tokens, outputs)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_layer("norm").supports_masking
    short = np.array([[3, 4, 5]], dtype="int32")
    padded = np.array([[0, 0, 0, 3, 4, 5]], dtype="int32")
    for m in (model, loaded):
        np.testing.assert_allclose(m.predict(short, verbose=0), m.predict(padded, verbose=0),
                                   atol=1e-6)
