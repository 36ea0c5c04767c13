"""SequencePooling: layer contract per mode, masks, argument errors."""

import numpy as np
import pytest
from keras import ops

from tests.layer_test_case import run_layer_test
from zoo.layers import SequencePooling

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 6, 3)).astype("float32")  # (B, T, D)
LENGTHS = (4, 2)
MASK = np.arange(6)[None, :] < np.array(LENGTHS)[:, None]  # (B, T)
MODES = ["mean", "max", "last", "cls"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("masked", [False, True])
def test_sequence_pooling_layer(tmp_path, mode, masked):
    run_layer_test(
        SequencePooling,
        init_kwargs={"mode": mode},
        input_data={"inputs": INPUTS, "mask": MASK} if masked else INPUTS,
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=0,
        # The layer has no weights; one fit step per mode is enough.
        run_training_check=masked,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("mode", MODES)
def test_padding_is_ignored(mode):
    """Each example pooled with a mask equals the example cut to its length."""
    padded = INPUTS.copy()
    padded[~MASK] = 100.0
    pooled = ops.convert_to_numpy(SequencePooling(mode)(padded, mask=MASK))
    for i, length in enumerate(LENGTHS):
        expected = SequencePooling(mode)(INPUTS[i : i + 1, :length])
        np.testing.assert_allclose(pooled[i], ops.convert_to_numpy(expected)[0], atol=1e-6)


def test_pooling_values():
    pool = {mode: SequencePooling(mode) for mode in MODES}
    x = INPUTS
    for i, length in enumerate(LENGTHS):
        real = x[i, :length]
        expect = {
            "mean": real.mean(0), "max": real.max(0), "last": real[-1], "cls": x[i, 0]
        }
        for mode in MODES:
            got = ops.convert_to_numpy(pool[mode](x, mask=MASK))[i]
            np.testing.assert_allclose(got, expect[mode], atol=1e-6, err_msg=mode)


def test_last_picks_last_real_step_with_gaps():
    """`last` is the last True step, also when the mask has holes."""
    mask = np.array([[1, 0, 1, 0, 0, 0], [0, 1, 1, 1, 1, 1]], dtype=bool)
    pooled = ops.convert_to_numpy(SequencePooling("last")(INPUTS, mask=mask))
    np.testing.assert_allclose(pooled, INPUTS[[0, 1], [2, 5]], atol=1e-6)


def test_pooling_consumes_the_mask():
    assert SequencePooling("mean").compute_mask(INPUTS, MASK) is None


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mode='min'"):
        SequencePooling("min")
