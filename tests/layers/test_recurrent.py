"""RecurrentBlock: layer contract for each kind, padding masks, argument errors."""

import numpy as np
import pytest
from keras import ops

from tests.layer_test_case import run_layer_test
from zoo.layers import RecurrentBlock

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 6, 3)).astype("float32")  # (B, T, D)


@pytest.mark.parametrize(
    "init_kwargs, expected_output_shape, num_weights",
    [
        ({"kind": "rnn"}, (2, 6, 4), 3),
        ({"kind": "lstm", "bidirectional": True, "return_sequences": False}, (2, 8), 6),
        ({"kind": "gru", "bidirectional": True, "merge_mode": "sum"}, (2, 6, 4), 6),
        ({"kind": "gru", "return_sequences": False, "dropout": 0.1}, (2, 4), 3),
    ],
    ids=["rnn", "lstm_bidirectional_last", "gru_bidirectional_sum", "gru_last_dropout"],
)
def test_recurrent_block_layer(tmp_path, init_kwargs, expected_output_shape, num_weights):
    run_layer_test(
        RecurrentBlock,
        init_kwargs={"units": 4, **init_kwargs},
        input_data=INPUTS,
        expected_output_shape=expected_output_shape,
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_block_ignores_padding(kind, bidirectional):
    """A padded batch gives the real steps' outputs and final state of the
    unpadded one."""
    sequences = RecurrentBlock(kind, 4, bidirectional=bidirectional)
    final = RecurrentBlock(kind, 4, bidirectional=bidirectional, return_sequences=False)
    real = INPUTS[:, :4]
    padded = INPUTS.copy()
    padded[:, 4:] = 100.0
    mask = np.array([[1] * 4 + [0] * 2] * 2, dtype=bool)
    np.testing.assert_allclose(
        ops.convert_to_numpy(sequences(padded, mask=mask))[:, :4],
        ops.convert_to_numpy(sequences(real)),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(final(padded, mask=mask)),
        ops.convert_to_numpy(final(real)),
        atol=1e-5,
    )


def test_bad_kind_is_refused():
    with pytest.raises(ValueError, match="kind='transformer'"):
        RecurrentBlock("transformer", 4)


def test_bad_merge_mode_is_refused():
    with pytest.raises(ValueError, match="merge_mode='max'"):
        RecurrentBlock("lstm", 4, bidirectional=True, merge_mode="max")
