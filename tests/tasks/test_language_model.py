"""repeat_lm: a causal language-model task whose honest loss is known."""

import math

import numpy as np
import pytest

import zoo.models
import zoo.tasks


def test_targets_are_the_inputs_shifted_and_the_second_half_repeats_the_first():
    task = zoo.tasks.get("repeat_lm", prefix_length=5, vocabulary_size=7, num_train=32,
                         num_validation=8, num_test=8)
    inputs, targets, weights = task.build(seed=0).train
    assert inputs.shape == targets.shape == weights.shape == (32, 9)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    sequence = np.concatenate([inputs, targets[:, -1:]], axis=1)
    np.testing.assert_array_equal(sequence[:, :5], sequence[:, 5:])
    assert inputs.min() >= 1 and inputs.max() <= 6  # 0 is the blank, never data
    assert np.all(weights == 1)


def test_accuracy_counts_the_predictable_steps_and_the_floor_is_exact():
    task = zoo.tasks.get("repeat_lm", prefix_length=4, vocabulary_size=11)
    data = task.build(seed=1)
    metric_weights = task.metric_weights(data.test)
    assert metric_weights.shape[1] == 7
    np.testing.assert_array_equal(metric_weights[0], [0, 0, 0, 1, 1, 1, 1])
    assert task.loss_floor == pytest.approx(3 / 7 * math.log(10))
    # the best causal predictor: uniform over content on the first steps, the truth after
    inputs, targets, _ = data.test
    logits = np.full(targets.shape + (11,), -1e9)
    logits[..., 1:] = 0.0
    rows, steps = np.indices(targets.shape)
    logits[rows[:, 3:], steps[:, 3:], targets[:, 3:]] = 50.0
    scores = task.evaluate(logits, data.test)
    assert scores["accuracy"] == 1.0
    assert scores["loss"] == pytest.approx(task.loss_floor, rel=1e-6)


def test_the_task_is_causal_unless_told_otherwise():
    assert zoo.tasks.get("repeat_lm").spec.causal
    with pytest.raises(zoo.models.IncompatibleTaskError, match="causal"):
        zoo.models.get("transformer_tiny", zoo.tasks.get("repeat_lm").spec)
    zoo.models.get("transformer_tiny", zoo.tasks.get("repeat_lm", causal=False).spec)


@pytest.mark.parametrize("knob,value", [("prefix_length", 1), ("vocabulary_size", 2),
                                        ("causal", "yes")])
def test_bad_knobs_are_named(knob, value):
    with pytest.raises(ValueError, match=knob):
        zoo.tasks.get("repeat_lm", **{knob: value})
