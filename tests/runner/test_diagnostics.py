"""Gradient norms by distance from the output."""

import keras
import numpy as np
import pytest

import zoo.models
import zoo.tasks
from zoo.runner import diagnostics

KNOBS = {"num_train": 8, "num_validation": 8, "num_test": 16}


def test_a_model_that_reads_only_the_last_step_has_gradient_only_at_distance_zero():
    task = zoo.tasks.get("adding", sequence_length=12, **KNOBS)
    data = task.build(0)
    inputs = keras.Input((None, 2))
    last = keras.layers.Lambda(lambda x: x[:, -1, :])(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(last))
    norms = diagnostics.gradient_by_distance(model, task.spec, data.test)
    assert norms.shape == (12,)
    assert norms[0] > 0 and np.all(norms[1:] == 0)


@pytest.mark.parametrize("name", ["rnn_tiny", "transformer_tiny"])
def test_token_models_are_differentiated_through_their_embedding(name):
    task = zoo.tasks.get("copying", sequence_length=6, copy_length=2, **KNOBS)
    data = task.build(0)
    keras.utils.set_random_seed(0)
    model = zoo.models.get(name, task.spec)
    norms = diagnostics.gradient_by_distance(model, task.spec, data.test)
    assert norms.shape == (task.spec.sequence_length,)
    assert np.all(np.isfinite(norms)) and np.all(norms >= 0) and norms.max() > 0


def test_per_position_tasks_keep_the_loss_of_the_last_scored_position_only():
    task = zoo.tasks.get("associative_recall", sequence_length=16, vocabulary_size=16,
                         num_kv_pairs=2, **KNOBS)
    split = task.build(0).test
    weights = diagnostics.last_output_weights(task.spec, split)
    assert np.all(weights.sum(axis=1) == 1)
    counted = np.asarray(split.sample_weights) > 0
    assert np.all(counted[weights > 0])  # the kept position is a scored one


def test_images_are_refused_with_the_valid_input_kinds():
    spec = zoo.tasks.get("cifar10_image").spec
    with pytest.raises(ValueError, match="'features', 'tokens'"):
        diagnostics.mixer_inputs(None, spec, None)
