"""The scan and linear-attention families (lru, mingru, minlstm, mamba,
linear_transformer): parameter budgets, causal tasks, generation one step at
a time through the whole model, saving, and `state_size` for every family.

Training a step on adding and copying, and every weight getting a gradient,
is `tests/models/test_models.py`'s test over every registered tiny model."""

import keras
import numpy as np
import pytest

import zoo.models
import zoo.tasks
from zoo.tasks import TaskSpec

NEW_FAMILIES = ("lru", "mingru", "minlstm", "mamba", "linear_transformer")
CAUSAL_FAMILIES = ("lru", "mingru", "minlstm", "mamba")


def _causal_task():
    return zoo.tasks.get("repeat_lm", prefix_length=3, vocabulary_size=5,
                         num_train=8, num_validation=4, num_test=4)


def _copying_spec():
    return zoo.tasks.get("copying", sequence_length=4, copy_length=3, num_train=8,
                         num_validation=4, num_test=4).spec


@pytest.mark.backend_independent  # shapes: counted once, in CI's first step
@pytest.mark.parametrize("size", ["tiny", "small", "base"])
def test_mixer_parameters_match_the_transformer_within_ten_percent(size):
    spec = _copying_spec()
    budget = zoo.models.count_params(zoo.models.get(f"transformer_{size}", spec))["mixer"]
    for family in NEW_FAMILIES:
        count = zoo.models.count_params(zoo.models.get(f"{family}_{size}", spec))["mixer"]
        assert abs(count - budget) <= 0.1 * budget, (family, count, budget)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_tiny_model_trains_a_step_on_a_causal_task(family):
    keras.utils.set_random_seed(0)
    task = _causal_task()
    overrides = {"causal": True} if family == "linear_transformer" else {}
    model = zoo.models.get(f"{family}_tiny", task.spec, **overrides)
    model.compile(optimizer="adam", loss=task.spec.loss())
    history = model.fit(**task.build(seed=0).train.fit_kwargs(), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_bidirectional_linear_transformer_refuses_causal_tasks():
    with pytest.raises(zoo.models.IncompatibleTaskError, match="causal"):
        zoo.models.get("linear_transformer_tiny", _causal_task().spec)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_generation_one_step_at_a_time_equals_the_parallel_model(family):
    """Embedding, then each block's `step`, the final norm and the head, one
    token at a time, give the logits of the whole model on the sequence."""
    task = _causal_task()
    overrides = {"causal": True, "normalize_first": True} if family == "linear_transformer" else {}
    if family == "linear_transformer":
        overrides["position"] = "none"  # positions come from the whole sequence
    model = zoo.models.get(f"{family}_tiny", task.spec, **overrides)
    tokens = task.build(seed=0).train.inputs[:3]
    expected = np.asarray(keras.ops.convert_to_numpy(model(tokens)))
    embedded = model.get_layer("embedding")(tokens)
    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    states = [block.initial_state(len(tokens)) for block in blocks]
    logits = []
    for t in range(tokens.shape[1]):
        x = embedded[:, t]
        for i, block in enumerate(blocks):
            x, states[i] = block.step(x, states[i])
        x = model.get_layer("final_norm")(x)
        logits.append(keras.ops.convert_to_numpy(model.get_layer("head")(x)))
    np.testing.assert_allclose(np.stack(logits, axis=1), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_whole_model_saves_and_loads_with_identical_outputs(family, tmp_path):
    spec = _copying_spec()
    model = zoo.models.get(f"{family}_tiny", spec)
    inputs = np.random.default_rng(0).integers(0, spec.vocabulary_size, (4, spec.sequence_length))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_every_registered_model_states_a_state_size():
    for name in zoo.models.names():
        size = zoo.models.state_size(name, 64)
        assert isinstance(size, int) and size > 0, name


@pytest.mark.parametrize("name, expected", [
    ("rnn_small", 2 * 128),                    # h per layer
    ("gru_small", 2 * 74),
    ("lstm_small", 2 * 2 * 64),                # h and c per layer
    ("transformer_small", 2 * 100 * 64 * 2),   # keys and values, every position and layer
    ("transformer_decoder_tiny", 2 * 100 * 16 * 2),
    ("lru_small", 2 * 2 * 96),                 # N complex states per layer
    ("mingru_small", 2 * 85),
    ("minlstm_small", 2 * 64),
    ("mamba_small", 2 * 128 * (16 + 3)),       # E*D x N, and the conv window E*D x (K - 1)
    ("linear_transformer_small", 2 * 4 * 16 * 17),  # S (d_k x d_v) and z (d_k) per head
])
def test_state_sizes_by_hand(name, expected):
    assert zoo.models.state_size(name, 100) == expected


def test_state_sizes_read_the_spec():
    seq2seq = TaskSpec(
        input_kind="tokens", vocabulary_size=12, sequence_length=6, mask_zero=True,
        output_kind="sequence", num_classes=12, target_length=5,
        metric="accuracy", baseline=0.1, solved_at=0.99,
    )
    image = TaskSpec(
        input_kind="image", image_shape=(8, 8, 1), sequence_length=64,
        output_kind="class", num_classes=3, metric="accuracy", baseline=1 / 3, solved_at=0.99,
    )
    # cross-attention keys/values over 6 source steps + a self-attention cache of 5
    assert zoo.models.state_size("seq2seq_transformer_tiny", seq2seq) == 2 * (6 + 5) * 16 * 1
    # decoder h and c, and the attention's keys and values over 6 source steps
    assert zoo.models.state_size("seq2seq_lstm_tiny", seq2seq) == 2 * 16 + 2 * 6 * 16
    # 2 x 2 patches of 4 x 4 and a class token
    assert zoo.models.state_size("vit_tiny", image) == 2 * 5 * 16 * 2
    assert zoo.models.state_size("transformer_small", _copying_spec()) == (
        2 * _copying_spec().sequence_length * 64 * 2
    )
    assert zoo.models.state_size("mamba_small", 100, state_dim=8) == 2 * 128 * (8 + 3)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_state_size_rule_agrees_with_the_layers(family):
    spec = _copying_spec()
    model = zoo.models.get(f"{family}_small", spec)
    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    assert zoo.models.state_size(f"{family}_small", spec) == sum(b.state_size() for b in blocks)


def test_state_size_refuses_a_bad_length():
    with pytest.raises(ValueError, match="spec_or_sequence_length"):
        zoo.models.state_size("lstm_tiny", "long")
