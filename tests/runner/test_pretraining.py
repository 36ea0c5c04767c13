"""Masked-token self-pretraining, saved to and reloaded from `.keras`."""

import keras
import numpy as np
import pytest

from zoo.runner import Run, pretraining, train_and_evaluate

LISTOPS = {"min_length": 10, "max_length": 30, "max_depth": 3, "max_args": 3,
           "num_train": 64, "num_validation": 16, "num_test": 16}


def test_masking_skips_padding_and_masks_at_least_one_token_per_row():
    rng = np.random.default_rng(0)
    inputs = np.array([[3, 4, 5, 0, 0], [6, 0, 0, 0, 0], [0, 0, 0, 0, 0]] * 50)
    masked, targets, weights = pretraining.mask_tokens(rng, inputs, 9, 0.3, padding=True)
    np.testing.assert_array_equal(targets, inputs)
    assert np.all(weights[inputs == 0] == 0)  # padding is never a target
    assert np.all(masked[inputs == 0] == 0)
    assert np.all(weights[inputs != 0].reshape(-1) == (masked[inputs != 0] == 9))
    assert np.all(weights[1::3].sum(axis=1) == 1)  # one real token: always masked
    assert np.all(weights[2::3].sum(axis=1) == 0)  # all padding: nothing to mask
    share = weights[0::3].sum() / (inputs[0::3] != 0).sum()
    assert 0.2 < share < 0.6


def test_pretraining_saves_a_keras_file_that_fine_tuning_loads(tmp_path):
    run = Run("transformer_tiny", "listops", LISTOPS, steps=2, batch_size=16,
              pretrain_steps=3)
    record = train_and_evaluate(run, tmp_path, verbose=0)
    summary = record["pretraining"]
    assert summary["steps"] == 3 and summary["mask_rate"] == 0.15 and summary["finite"]
    assert 0 <= summary["validation_masked_accuracy"] <= 1
    saved = tmp_path / run.run_id / "pretrained.keras"
    model = keras.saving.load_model(saved, compile=False)
    # one more token id, the mask: an embedding row of the tiny width (16) more
    scratch = train_and_evaluate(run.replace(pretrain_steps=None), tmp_path, verbose=0)
    assert record["params"]["embedding"] == scratch["params"]["embedding"] + 16
    assert model.count_params() == record["params"]["total"]
    assert record["status"] == "finished"


def test_the_token_head_shares_the_trunk():
    import zoo.models
    import zoo.tasks

    spec = pretraining.pretraining_spec(zoo.tasks.get("listops", **LISTOPS).spec)
    model = zoo.models.get("transformer_tiny", spec)
    mlm = pretraining.masked_token_model(model, spec.vocabulary_size)
    shared = {id(v) for v in model.get_layer("block_0").weights}
    assert shared <= {id(v) for v in mlm.weights}
    tokens = np.ones((2, 12), dtype="int32")
    assert tuple(mlm(tokens).shape) == (2, 12, spec.vocabulary_size)


@pytest.mark.parametrize("changes,message", [
    ({"pretrain_steps": 0}, "pretrain_steps"),
    ({"pretrain_mask_rate": 1.5}, "pretrain_mask_rate"),
])
def test_bad_pretraining_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        Run("transformer_tiny", "listops", LISTOPS, **changes).resolve()


def test_feature_tasks_cannot_be_pretrained_on_tokens():
    with pytest.raises(ValueError, match="token inputs"):
        Run("transformer_tiny", "adding", pretrain_steps=2).resolve()
