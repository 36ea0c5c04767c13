"""Analytic FLOPs against hand counts of the same models."""

import pytest

import zoo.models
import zoo.tasks
from zoo.measure import flops

T = 30  # copying with sequence_length=10 feeds 30 steps


@pytest.fixture(scope="module")
def spec():
    return zoo.tasks.get("copying", sequence_length=10).spec


def test_transformer_counts_projections_feedforward_and_attention(spec):
    model = zoo.models.get("transformer_small", spec)  # d 64, 2 layers, MLP 128
    d, mlp, layers, classes = 64, 128, 2, spec.num_classes
    per_layer = 2 * T * (4 * d * d + 2 * d * mlp) + 2 * 2 * T * T * d
    assert flops.per_example(model, T) == layers * per_layer + 2 * T * d * classes


def test_lstm_counts_four_gates_of_input_and_recurrent_kernels(spec):
    model = zoo.models.get("lstm_small", spec)  # 2 layers of 64 units, embedding 64
    units, classes = 64, spec.num_classes
    per_layer = 2 * T * 4 * units * (units + units)
    assert flops.per_example(model, T) == 2 * per_layer + 2 * T * units * classes


def test_attention_grows_quadratically_and_recurrence_linearly(spec):
    transformer = zoo.models.get("transformer_small", spec)
    gru = zoo.models.get("gru_small", spec)
    assert flops.per_example(gru, 2 * T) == 2 * flops.per_example(gru, T)
    growth = flops.per_example(transformer, 2 * T) / flops.per_example(transformer, T)
    assert 2 < growth < 4


def test_encoder_decoder_lengths_and_bad_lengths():
    spec = zoo.tasks.get("reverse").spec
    model = zoo.models.get("seq2seq_transformer_tiny", spec)
    both = flops.per_example(model, {"encoder": 16, "decoder": 16})
    assert flops.per_example(model, {"encoder": 32, "decoder": 16}) > both > 0
    with pytest.raises(ValueError, match="valid: \\['decoder', 'encoder'\\]"):
        flops.per_example(model, {"source": 16})
    with pytest.raises(ValueError, match="got 0"):
        flops.per_example(model, 0)
