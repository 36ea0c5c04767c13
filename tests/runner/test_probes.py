"""Probes the runner records: leak and generation (masked-attention claim),
gradients at init and after training (vanishing-gradient claim)."""

import keras
import pytest

import zoo.models
import zoo.tasks
from zoo.runner import Run, probes, train_and_evaluate

TINY_LM = dict(prefix_length=5, vocabulary_size=8, num_train=64, num_validation=16,
               num_test=16)


def _lm(causal=True):
    task = zoo.tasks.get("repeat_lm", causal=causal, **TINY_LM)
    return task, task.build(seed=0)


def test_a_causal_decoder_does_not_leak_and_a_bidirectional_one_does():
    keras.utils.set_random_seed(0)
    task, data = _lm()
    decoder = zoo.models.get("transformer_decoder_tiny", task.spec)
    assert probes.leak(decoder, task, data)["max_change"] < 1e-6
    open_task, open_data = _lm(causal=False)
    encoder = zoo.models.get("transformer_tiny", open_task.spec)
    found = probes.leak(encoder, open_task, open_data)
    assert found["max_change"] > 1e-4 and found["cut"] == 4 and found["length"] == 9


class _Echo(keras.layers.Layer):
    """Predicts that the next token is the current one."""

    def call(self, tokens):
        return keras.ops.one_hot(tokens, 8) * 10.0


def test_generation_feeds_each_output_back():
    task, data = _lm()
    inputs = keras.Input((None,), dtype="int32")
    echo = keras.Model(inputs, _Echo()(inputs))
    result = probes.generation(echo, task, data)
    tokens, targets = data.test.inputs, data.test.targets
    # every generated token repeats the prompt's last one
    expected = targets[:, 4:] == tokens[:, 4:5]
    assert result["token_accuracy"] == pytest.approx(expected.mean())
    assert result["sequence_accuracy"] == pytest.approx(expected.all(axis=1).mean())
    teacher = targets[:, 4:] == tokens[:, 4:]
    assert result["teacher_forced_accuracy"] == pytest.approx(teacher.mean())
    assert result["prompt_length"] == 5 and result["generated_steps"] == 5


def test_the_runner_records_probes_with_gradients_at_init_and_trained(tmp_path):
    run = Run("gru_tiny", "adding", {"sequence_length": 10, "num_train": 64,
                                      "num_validation": 16, "num_test": 16},
              steps=2, batch_size=16, probes=["gradients"])
    assert run.probes == ("gradients",)  # JSON lists become tuples
    record = train_and_evaluate(run, tmp_path, verbose=0)
    gradients = record["probes"]["gradients"]
    assert len(gradients["init"]) == len(gradients["trained"]) == 10
    assert gradients["init"] != gradients["trained"]
    assert all(v >= 0 for v in gradients["init"])
    assert Run.from_dict(record["run"]).run_id == run.run_id


def test_the_runner_records_leak_and_generation(tmp_path):
    run = Run("transformer_decoder_tiny", "repeat_lm", TINY_LM, steps=2, batch_size=16,
              probes=("leak", "generation"))
    record = train_and_evaluate(run, tmp_path, verbose=0)
    assert record["probes"]["leak"]["max_change"] < 1e-6
    assert 0 <= record["probes"]["generation"]["token_accuracy"] <= 1
    assert record["pretraining"] is None


@pytest.mark.parametrize("run,message", [
    (Run("lstm_tiny", "adding", probes=("entropy",)), "Unknown probe 'entropy'.*valid"),
    (Run("lstm_tiny", "adding", probes=("leak",)), "output per position"),
    (Run("lstm_tiny", "copying", probes=("generation",)), "prompts"),
    (Run("lstm_tiny", "adding", probes="gradients"), "probes"),
])
def test_probes_that_do_not_fit_are_refused_before_training(run, message):
    with pytest.raises(ValueError, match=message):
        run.resolve()
