"""MixerBlock: layer contract with each mixer and feed-forward kind, the
one-step form through the whole block, post-norm, padding, argument errors."""

import numpy as np
import pytest

from tests.layer_test_case import run_layer_test
from tests.layers.mixer_checks import (
    check_no_leak_from_later_steps,
    check_padding_is_skipped,
    check_step_matches_call,
    numpy,
)
from zoo.layers import MixerBlock

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(2, 6, 4)).astype("float32")  # (B, T, D)

CASES = [
    ("lru", {"state_dim": 3}, "glu", "layer", 14),
    ("mingru", {"units": 5}, "mlp", "layer", 12),
    ("minlstm", {"units": 5}, "mlp", "rms", 10),
    ("mamba", {"state_dim": 2}, "none", "rms", 10),
    ("linear_attention", {"num_heads": 2, "causal": True}, "mlp", "layer", 16),
]


@pytest.mark.parametrize("mixer, options, feedforward, norm, weights", CASES,
                         ids=[c[0] for c in CASES])
def test_mixer_block_layer(tmp_path, mixer, options, feedforward, norm, weights):
    run_layer_test(
        MixerBlock,
        init_kwargs={"mixer": mixer, "mixer_options": options, "feedforward": feedforward,
                     "intermediate_dim": 6, "norm": norm, "dropout": 0.1},
        input_data=INPUTS,
        expected_output_shape=(2, 6, 4),
        expected_num_trainable_weights=weights,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("mixer, options, feedforward, norm, weights", CASES,
                         ids=[c[0] for c in CASES])
def test_block_is_causal_steps_and_skips_padding(mixer, options, feedforward, norm, weights):
    block = MixerBlock(mixer, options, feedforward=feedforward, norm=norm)
    check_no_leak_from_later_steps(block, INPUTS)
    check_step_matches_call(block, INPUTS)
    check_padding_is_skipped(block, INPUTS)


def test_post_norm_normalises_the_output():
    block = MixerBlock("mingru", {"units": 3}, normalize_first=False)
    outputs = numpy(block(INPUTS))
    np.testing.assert_allclose(outputs.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(outputs.std(-1), 1.0, atol=1e-2)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mixer='s4'"):
        MixerBlock("s4")
    with pytest.raises(ValueError, match="feedforward='moe'"):
        MixerBlock("lru", feedforward="moe")
