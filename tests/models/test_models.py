"""Every registered tiny model: builds, trains a step, no NaN, all weights learn."""

import keras
import numpy as np
import pytest

import zoo.models
import zoo.tasks
from zoo.tasks import START_TOKEN, Split, TaskSpec

SEQ2SEQ_SPEC = TaskSpec(
    input_kind="tokens", vocabulary_size=12, sequence_length=6, mask_zero=True,
    output_kind="sequence", num_classes=12, target_length=6,
    metric="accuracy", baseline=0.1, solved_at=0.99,
)
IMAGE_SPEC = TaskSpec(
    input_kind="image", image_shape=(8, 8, 1), sequence_length=64,
    output_kind="class", num_classes=3, metric="accuracy", baseline=1 / 3, solved_at=0.99,
)


def _reverse_batch(n=8, length=6, rng=np.random.default_rng(0)):
    source = rng.integers(2, 12, size=(n, length)).astype("int32")
    targets = source[:, ::-1].copy()
    decoder_inputs = np.concatenate(
        [np.full((n, 1), START_TOKEN, "int32"), targets[:, :-1]], axis=1
    )
    return Split({"encoder_inputs": source, "decoder_inputs": decoder_inputs}, targets)


def _tiny_tasks():
    return {
        "adding": zoo.tasks.get("adding", sequence_length=8, num_train=8, num_validation=4, num_test=4),
        "copying": zoo.tasks.get("copying", sequence_length=4, copy_length=3, num_train=8,
                                 num_validation=4, num_test=4),
    }


def _cases():
    """(model name, task name) for every tiny model and every task it fits."""
    cases = []
    for name in zoo.models.names("*_tiny"):
        if name.startswith("seq2seq"):
            cases.append((name, "reverse"))
        elif name.startswith("vit"):
            cases.append((name, "image"))
        else:
            cases += [(name, "adding"), (name, "copying")]
    return cases


def _spec_and_batch(task_name):
    if task_name == "reverse":
        return SEQ2SEQ_SPEC, _reverse_batch()
    if task_name == "image":
        rng = np.random.default_rng(0)
        return IMAGE_SPEC, Split(rng.random((8, 8, 8, 1), dtype="float32"), rng.integers(0, 3, 8))
    task = _tiny_tasks()[task_name]
    return task.spec, task.build(seed=0).train


@pytest.mark.parametrize("name,task_name", _cases())
def test_tiny_model_trains_and_every_weight_gets_a_gradient(name, task_name):
    keras.utils.set_random_seed(0)
    spec, batch = _spec_and_batch(task_name)
    model = zoo.models.get(name, spec)
    model.compile(optimizer="adam", loss=spec.loss())
    before = [np.array(v.numpy()) for v in model.trainable_variables]
    history = model.fit(**batch.fit_kwargs(), batch_size=8, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    # One Adam step (the whole batch) moves a weight by about the learning rate
    # times the sign of its gradient, and leaves it exactly where it was when
    # the gradient is zero: every weight moved <=> every weight got a gradient
    # (one compiled step, where a second gradient pass doubled this test's time)
    dead = [v.path for v, old in zip(model.trainable_variables, before)
            if np.array_equal(v.numpy(), old)]
    assert not dead, f"weights with no gradient: {dead}"

    outputs = model.predict(batch.inputs, verbose=0)
    assert np.all(np.isfinite(outputs))
    if spec.output_kind == "regression":
        assert outputs.shape == (batch.num_examples, 1)
    elif spec.output_kind == "class":
        assert outputs.shape == (batch.num_examples, spec.num_classes)
    else:
        assert outputs.shape == batch.targets.shape + (spec.num_classes,)


@pytest.mark.backend_independent  # shapes: counted once, in CI's first step
@pytest.mark.parametrize("size", ["tiny", "small", "base"])
def test_mixer_parameter_budgets_match_within_ten_percent(size):
    spec = _tiny_tasks()["copying"].spec
    counts = {
        family: zoo.models.count_params(zoo.models.get(f"{family}_{size}", spec))["mixer"]
        for family in ("rnn", "lstm", "gru", "transformer")
    }
    budget = counts["transformer"]
    for family, count in counts.items():
        assert abs(count - budget) <= 0.1 * budget, (family, count, budget)


def test_names_filter_and_sizes():
    assert zoo.models.names("lstm_*") == ["lstm_base", "lstm_small", "lstm_tiny"]
    for family in ("rnn", "lstm", "gru", "transformer", "transformer_decoder",
                   "seq2seq_transformer", "seq2seq_lstm", "vit"):
        assert f"{family}_tiny" in zoo.models.names()


def test_unknown_model_lists_choices():
    with pytest.raises(KeyError, match="lstm_small") as error:
        zoo.models.get("lstm_smal", SEQ2SEQ_SPEC)
    assert "Valid models" in str(error.value)


def test_unknown_override_lists_valid_overrides():
    spec = _tiny_tasks()["copying"].spec
    with pytest.raises(ValueError, match="hidden_dim") as error:
        zoo.models.get("lstm_tiny", spec, hiden_dim=3)
    assert "hiden_dim" in str(error.value)


def test_overrides_are_applied():
    spec = _tiny_tasks()["copying"].spec
    model = zoo.models.get("transformer_tiny", spec, num_layers=3, position="rotary")
    assert sum(layer.name.startswith("block_") for layer in model.layers) == 3
    assert zoo.models.config("transformer_tiny", norm="rms").norm == "rms"
    with pytest.raises(ValueError, match="position"):
        zoo.models.config("transformer_tiny", position="absolute")


@pytest.mark.parametrize(
    "name,spec,reason",
    [
        ("vit_tiny", "copying", "accepts inputs"),
        ("lstm_tiny", "reverse", "emits outputs"),
        ("seq2seq_lstm_tiny", "copying", "emits outputs"),
        ("transformer_tiny", "causal", "causal"),
    ],
)
def test_models_refuse_tasks_they_cannot_fit(name, spec, reason):
    specs = {
        "copying": _tiny_tasks()["copying"].spec,
        "reverse": SEQ2SEQ_SPEC,
        "causal": TaskSpec(
            input_kind="tokens", vocabulary_size=8, sequence_length=8,
            output_kind="class_per_position", num_classes=8, causal=True,
            metric="accuracy", baseline=0.125, solved_at=0.99,
        ),
    }
    with pytest.raises(zoo.models.IncompatibleTaskError, match=reason):
        zoo.models.get(name, specs[spec])


def test_causal_spec_accepts_causal_models():
    spec = TaskSpec(
        input_kind="tokens", vocabulary_size=8, sequence_length=8,
        output_kind="class_per_position", num_classes=8, causal=True,
        metric="accuracy", baseline=0.125, solved_at=0.99,
    )
    for name in ("transformer_decoder_tiny", "lstm_tiny"):
        zoo.models.get(name, spec)
    zoo.models.get("transformer_tiny", spec, causal=True)
    with pytest.raises(zoo.models.IncompatibleTaskError):
        zoo.models.get("lstm_tiny", spec, bidirectional=True)


@pytest.mark.parametrize("name", ["transformer_tiny", "lstm_tiny", "seq2seq_transformer_tiny", "vit_tiny"])
def test_whole_model_saves_and_loads_with_identical_outputs(name, tmp_path):
    task_name = {"seq2seq_transformer_tiny": "reverse", "vit_tiny": "image"}.get(name, "copying")
    spec, batch = _spec_and_batch(task_name)
    model = zoo.models.get(name, spec)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        model.predict(batch.inputs, verbose=0), loaded.predict(batch.inputs, verbose=0),
        rtol=1e-5, atol=1e-6,
    )


def test_greedy_decode_never_sees_targets():
    spec, batch = _spec_and_batch("reverse")
    model = zoo.models.get("seq2seq_transformer_tiny", spec)
    decoded = zoo.models.greedy_decode(model, batch.inputs["encoder_inputs"], spec.target_length)
    assert decoded.shape == batch.targets.shape
    assert decoded.dtype == np.int32


# ---- overrides that express published models (keras-io examples) ----------

IMDB_LIKE = TaskSpec(
    input_kind="tokens", vocabulary_size=50, sequence_length=12, mask_zero=True,
    output_kind="class", num_classes=2, metric="accuracy", baseline=0.5, solved_at=0.9,
)
ADDITION_LIKE = TaskSpec(
    input_kind="tokens", vocabulary_size=14, sequence_length=7, output_kind="sequence",
    num_classes=14, target_length=4, metric="exact_match", baseline=1e-3, solved_at=0.99,
)
KERAS_IO_TRANSFORMER = dict(hidden_dim=32, num_layers=1, num_heads=2, head_dim=32,
                            normalize_first=False,
                            intermediate_dim=32, dropout=0.1, norm_epsilon=1e-6,
                            mask_padding=False, head_units=20, head_dropout=0.1)
KERAS_IO_BILSTM = dict(hidden_dim=64, num_layers=2, embedding_dim=128, bidirectional=True,
                       mask_padding=False)
KERAS_IO_ADDITION = dict(hidden_dim=128, num_layers=1, embedding_dim=12, attention=False,
                         decoder_input="encoder_output")


def test_defaults_of_the_new_fields_keep_todays_models():
    for name, spec in (("transformer_small", IMDB_LIKE), ("lstm_small", IMDB_LIKE),
                       ("seq2seq_lstm_small", SEQ2SEQ_SPEC)):
        config = zoo.models.config(name)
        new = {"head_dim": None, "norm_epsilon": 1e-5, "mask_padding": True, "head_units": None,
               "head_dropout": 0.0, "embedding_dim": None, "attention": True,
               "decoder_input": "targets"}
        for field, default in new.items():
            if hasattr(config, field):
                assert getattr(config, field) == default, (name, field)
    layers = [layer.name for layer in zoo.models.get("transformer_tiny", IMDB_LIKE).layers]
    assert "head_hidden" not in layers and "head_dropout" not in layers


def test_keras_io_text_transformer_has_the_examples_parameter_count():
    # keras-io "Text classification with Transformer" at vocabulary 50, maxlen 12:
    # embeddings (50 + 12) x 32; MHA 2 heads of 32: 3 x (32 x 64 + 64) + 64 x 32 + 32;
    # FFN 32 x 32 x 2 + 64; 2 LayerNorms; Dense(20) and Dense(2).
    model = zoo.models.get("transformer_small", IMDB_LIKE, **KERAS_IO_TRANSFORMER)
    counts = zoo.models.count_params(model)
    assert counts["embedding"] == 62 * 32
    assert counts["mixer"] == 3 * (32 * 64 + 64) + 64 * 32 + 32 + 2 * (32 * 32 + 32) + 4 * 32
    assert counts["head"] == 32 * 20 + 20 + 20 * 2 + 2
    assert model.get_layer("block_0").self_attention.key_dim == 32
    assert model.get_layer("block_0").norm_epsilon == 1e-6


@pytest.mark.parametrize("family", ["rnn", "lstm", "gru", "transformer", "linear_transformer",
                                    "lru", "mingru", "minlstm", "mamba"])
def test_padding_in_front_changes_no_prediction(family):
    # the padding mask reaches the pooling through every layer (Keras's
    # RMSNormalization, mamba's final norm, used to drop it)
    short = np.array([[0, 0, 6, 7, 8, 9]], dtype="int32")
    longer = np.array([[0, 0, 0, 0, 0, 0, 0, 6, 7, 8, 9]], dtype="int32")
    keras.utils.set_random_seed(0)
    config = zoo.models.config(f"{family}_tiny")
    overrides = {"pooling": "mean"}  # averages the padding in, unless the mask reaches it
    if hasattr(config, "position"):
        overrides["position"] = "none"
    model = zoo.models.get(f"{family}_tiny", IMDB_LIKE, **overrides)
    difference = model.predict(short, verbose=0) - model.predict(longer, verbose=0)
    assert np.abs(difference).max() < 1e-5


def test_mask_padding_off_lets_padding_change_the_output():
    # with the mask, more padding in front changes nothing; without it, it does
    short = np.array([[0, 0, 0, 0, 6, 7]], dtype="int32")
    longer = np.array([[0, 0, 0, 0, 0, 0, 0, 6, 7]], dtype="int32")
    for name, overrides in (("transformer_tiny", {"position": "none"}), ("lstm_tiny", {})):
        change = {}
        for mask in (True, False):
            keras.utils.set_random_seed(0)
            model = zoo.models.get(name, IMDB_LIKE, mask_padding=mask, **overrides)
            difference = model.predict(short, verbose=0) - model.predict(longer, verbose=0)
            change[mask] = np.abs(difference).max()
        assert change[True] < 1e-5 < change[False], (name, change)


def test_keras_io_bilstm_and_addition_rnn_shapes_and_counts():
    bilstm = zoo.models.count_params(zoo.models.get("lstm_small", IMDB_LIKE, **KERAS_IO_BILSTM))
    assert bilstm["mixer"] == 2 * 2 * 4 * 64 * (128 + 64 + 1)  # two BiLSTM(64) over 128
    assert bilstm["embedding"] == 50 * 128

    keras.utils.set_random_seed(0)
    model = zoo.models.get("seq2seq_lstm_small", ADDITION_LIKE, **KERAS_IO_ADDITION)
    names = [layer.name for layer in model.layers]
    assert "decoder_block_attention" not in names and "decoder_repeat" in names
    counts = zoo.models.count_params(model)
    assert counts["mixer"] == 4 * 128 * (12 + 128 + 1) + 4 * 128 * (128 + 128 + 1)
    source = np.random.default_rng(0).integers(2, 14, size=(3, 7)).astype("int32")
    a = model.predict({"encoder_inputs": source, "decoder_inputs": np.ones((3, 4), "int32")},
                      verbose=0)
    b = model.predict({"encoder_inputs": source,
                       "decoder_inputs": np.full((3, 4), 5, "int32")}, verbose=0)
    np.testing.assert_allclose(a, b)  # decoder inputs are ignored
    decoded = zoo.models.greedy_decode(model, source, 4)
    np.testing.assert_array_equal(decoded, a.argmax(axis=-1))


def test_seq2seq_lstm_without_attention_trains_and_refuses_bad_decoder_input():
    spec, batch = _spec_and_batch("reverse")
    model = zoo.models.get("seq2seq_lstm_tiny", spec, attention=False, num_layers=2,
                           dropout=0.5)
    model.compile(optimizer="adam", loss=spec.loss())
    history = model.fit(**batch.fit_kwargs(), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(ValueError, match="decoder_input"):
        zoo.models.config("seq2seq_lstm_tiny", decoder_input="repeat")


@pytest.mark.parametrize("name,overrides", [
    ("seq2seq_transformer_tiny", {}),
    ("seq2seq_lstm_tiny", {}),
    ("seq2seq_lstm_tiny", {"attention": False, "num_layers": 2}),  # decoded step by step
])
def test_greedy_decode_equals_decoding_on_the_whole_width(name, overrides):
    spec = TaskSpec(
        input_kind="tokens", vocabulary_size=12, sequence_length=6, mask_zero=True,
        output_kind="sequence", num_classes=12, target_length=11,
        metric="accuracy", baseline=0.1, solved_at=0.99,
    )
    keras.utils.set_random_seed(0)
    model = zoo.models.get(name, spec, **overrides)
    source = np.random.default_rng(1).integers(0, 12, size=(40, 6)).astype("int32")
    source[:, 0] = np.maximum(source[:, 0], 2)
    whole = np.zeros((40, 11), dtype="int32")
    whole[:, 0] = START_TOKEN
    for t in range(11):  # the plain loop: every step sees the whole width (padding ids too)
        logits = model.predict({"encoder_inputs": source, "decoder_inputs": whole}, verbose=0)
        if t + 1 < 11:
            whole[:, t + 1] = logits[:, t].argmax(axis=-1)
    expected = np.concatenate([whole[:, 1:], logits[:, -1:].argmax(axis=-1)], axis=1)
    decoded = zoo.models.greedy_decode(model, source, 11)
    # Up to the first padding id fed back: past it the decoder's mask semantics
    # differ by backend (torch zeroes masked steps), and no scored step
    # depends on them (a padding id at a scored step is already wrong).
    for row, want in zip(decoded, expected):
        stop = int(np.argmax(want == 0)) if (want == 0).any() else len(want) - 1
        np.testing.assert_array_equal(row[: stop + 1], want[: stop + 1])
