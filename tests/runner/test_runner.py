"""The runner, the sweep and the command line, end to end on tiny runs."""

import json

import pytest

from zoo import cli, sweep
from zoo.runner import Run, load_record, train_and_evaluate

TINY = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 32}

EXPERIMENT = '''
from zoo.runner import Run
DESCRIPTION = "tiny"
def runs():
    return [Run("{model}", "adding", {knobs}, batch_size=32, seed=s) for s in (0, 1)]
'''


def _experiment(tmp_path, model="lstm_tiny", knobs=TINY):
    path = tmp_path / "tiny_experiment.py"
    path.write_text(EXPERIMENT.format(model=model, knobs=knobs))
    return str(path)


def test_train_and_evaluate_writes_a_complete_record(tmp_path):
    run = Run("transformer_tiny", "copying", {**TINY, "copy_length": 2}, batch_size=16)
    record = train_and_evaluate(run, tmp_path, verbose=0)
    folder = tmp_path / run.run_id
    assert {p.name for p in folder.iterdir()} == {"config.json", "history.csv", "metrics.json"}
    assert json.loads((folder / "metrics.json").read_text()) == json.loads(json.dumps(record))
    assert record["status"] == "finished"
    assert 0.0 <= record["test"]["accuracy"] <= 1.0
    assert record["train_steps"] == 4 and record["train_samples_per_second"] > 0
    assert record["params"]["total"] > record["params"]["mixer"] > 0
    assert record["environment"]["backend"] and record["environment"]["versions"]["keras"]
    assert load_record(tmp_path, run) == json.loads(json.dumps(record))


def test_a_rerun_removes_the_half_written_file_of_a_killed_attempt(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    run = Run("gru_tiny", "adding", TINY, batch_size=32)
    folder = tmp_path / run.run_id
    folder.mkdir()
    (folder / f".config.json.{dead}.tmp").write_text('{"run": ')  # killed before os.replace
    train_and_evaluate(run, tmp_path, verbose=0)
    assert {p.name for p in folder.iterdir()} == {"config.json", "history.csv", "metrics.json"}


def test_run_ids_differ_by_configuration():
    a = Run("lstm_tiny", "adding", TINY)
    assert a.run_id == Run("lstm_tiny", "adding", dict(TINY)).run_id
    assert a.run_id != Run("lstm_tiny", "adding", TINY, seed=1).run_id
    assert a.run_id.startswith("lstm_tiny--adding--s0--")


def test_sweep_never_repeats_a_finished_run(tmp_path, monkeypatch):
    experiment = _experiment(tmp_path)
    out = tmp_path / "out"
    first = sweep.run_experiment(experiment, out, echo=lambda *_: None)
    assert [r["status"] for r in first] == ["finished", "finished"]

    def fail(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(sweep, "train_and_evaluate", fail)
    again = sweep.run_experiment(experiment, out, echo=lambda *_: None)
    assert again == first


def test_sweep_resumes_after_an_interrupted_run(tmp_path, monkeypatch):
    experiment = _experiment(tmp_path)
    out = tmp_path / "out"
    sweep.run_experiment(experiment, out, only="*--s0--*", echo=lambda *_: None)
    # a run killed midway leaves a folder without metrics.json
    (out / "partial").mkdir()
    trained = []
    real = sweep.train_and_evaluate
    monkeypatch.setattr(sweep, "train_and_evaluate",
                        lambda run, out_dir: trained.append(run.seed) or real(run, out_dir))
    records = sweep.run_experiment(experiment, out, echo=lambda *_: None)
    assert trained == [1] and len(records) == 2


@pytest.mark.parametrize(
    "model,knobs,message",
    [
        ("lstm_huge", TINY, "Unknown model"),
        ("lstm_tiny", {"sequence_lenght": 5}, "Unknown knob"),
        ("lstm_tiny", {"sequence_length": -5}, "sequence_length=-5"),
    ],
)
def test_bad_experiments_fail_before_training(tmp_path, monkeypatch, capsys, model, knobs, message):
    monkeypatch.setattr(sweep, "train_and_evaluate", lambda *a: pytest.fail("trained"))
    experiment = _experiment(tmp_path, model, knobs)
    assert cli.main(["run", experiment, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


def test_cli_lists_and_runs(tmp_path, capsys):
    assert cli.main(["list", "tasks"]) == 0
    listing = capsys.readouterr().out
    assert "copying: sequence_length=100" in listing and "adding" in listing
    assert cli.main(["list", "experiments"]) == 0
    assert "quick" in capsys.readouterr().out
    assert cli.main(["list", "models"]) == 0
    assert "recommended: learning_rate=0.003, schedule=warmup_cosine (chosen on validation by " \
        "`zoo run recommend`)" in capsys.readouterr().out
    assert cli.main(["run", "no_such_experiment"]) == 2
    assert "Valid experiments" in capsys.readouterr().err

    experiment = _experiment(tmp_path)
    assert cli.main(["run", experiment, "--out", str(tmp_path / "out")]) == 0
    table = capsys.readouterr().out
    assert "lstm_tiny" in table and "mse" in table and "finished" in table


def test_quick_experiment_is_well_formed():
    from zoo import experiments

    runs = experiments.runs("quick")
    assert len(runs) == 8
    assert {r.model for r in runs} == {"rnn_small", "lstm_small", "gru_small", "transformer_small"}


def test_training_keeps_the_best_epoch(tmp_path):
    run = Run("gru_tiny", "adding", TINY, epochs=3, batch_size=32)
    record = train_and_evaluate(run, tmp_path, verbose=0)
    scores = record["validation"]["mse"]
    assert len(scores) == 3 and record["solved_epoch"] is None
    assert record["best_epoch"] == min(range(3), key=scores.__getitem__)


def test_training_stops_at_the_first_solved_epoch(tmp_path, monkeypatch):
    import dataclasses

    from zoo.tasks.synthetic import Adding

    original = Adding.spec
    # Any MSE under 100 counts as solved, so the first epoch solves it.
    monkeypatch.setattr(Adding, "spec", property(
        lambda self: dataclasses.replace(original.fget(self), solved_at=100.0)))
    run = Run("gru_tiny", "adding", TINY, epochs=4, batch_size=32)
    record = train_and_evaluate(run, tmp_path, verbose=0)
    assert record["solved_epoch"] == 0 and record["solved"] is True
    assert len(record["validation"]["mse"]) == 1 and record["train_steps"] == 2
    assert record["time_to_solve_seconds"] > 0


def test_extra_test_splits_are_scored(tmp_path):
    knobs = dict(sequence_length=16, test_lengths=(8, 32), vocabulary_size=8,
                 num_train=64, num_validation=32, num_test=32)
    record = train_and_evaluate(
        Run("transformer_decoder_tiny", "induction_heads", knobs, batch_size=32), tmp_path, verbose=0
    )
    assert set(record["extra_tests"]) == {"test_length_8", "test_length_32"}
    for scores in record["extra_tests"].values():
        assert 0.0 <= scores["accuracy"] <= 1.0


def test_a_step_budget_trains_exactly_that_many_steps(tmp_path):
    # 64 examples / batch 16 = 4 steps an epoch; 6 steps end inside epoch 2.
    run = Run("lstm_tiny", "adding", TINY, steps=6, batch_size=16, schedule="warmup_cosine")
    record = train_and_evaluate(run, tmp_path, verbose=0)
    assert record["train_steps"] == 6 and record["budget_exhausted"] == "steps"
    assert len(record["validation"]["mse"]) == 2  # scored after the partial epoch too


def test_a_time_budget_stops_training(tmp_path):
    run = Run("lstm_tiny", "adding", TINY, epochs=5, max_seconds=1e-6, batch_size=16)
    record = train_and_evaluate(run, tmp_path, verbose=0)
    assert record["train_steps"] == 1 and record["budget_exhausted"] == "max_seconds"
    assert record["status"] == "finished"


def test_records_carry_the_measurements(tmp_path):
    run = Run("transformer_tiny", "adding", TINY, batch_size=16, optimizer="adamw",
              weight_decay=0.01, clipnorm=1.0, schedule="cosine")
    record = train_and_evaluate(run, tmp_path, verbose=0)
    assert record["input_length"] == 6 and record["flops_per_example"] > 0
    assert record["train_tokens_per_second"] == pytest.approx(
        6 * record["train_samples_per_second"])
    assert record["train_steps_per_second"] == pytest.approx(
        1 / record["train_step_seconds_median"])
    assert record["inference_samples_per_second"] > 0
    assert record["peak_memory_mb"] > 0 and record["peak_memory_kind"] in ("host_rss", "device")
    assert record["wall_seconds"] >= record["train_seconds"] > 0
    assert len(record["environment"]["load_average"]) == 3


def test_chunked_evaluation_equals_scoring_the_whole_split(monkeypatch):
    import keras
    import numpy as np

    import zoo.models
    import zoo.tasks
    from zoo.runner import evaluation

    task = zoo.tasks.get("copying", sequence_length=6, copy_length=2, num_train=8,
                         num_validation=8, num_test=50)
    data = task.build(0)
    keras.utils.set_random_seed(0)
    model = zoo.models.get("lstm_tiny", task.spec)
    whole = task.evaluate(model.predict(data.test.inputs, verbose=0), data.test,
                          data.slices["test"])
    monkeypatch.setattr(evaluation, "EVAL_CHUNK_BYTES", 1)  # one batch per chunk
    chunked = evaluation.evaluate(model, task, data.test, 16, data.slices["test"])
    assert chunked.keys() == whole.keys()
    for name in ("accuracy", "loss"):
        assert np.isclose(chunked[name], whole[name])
    assert chunked["by_distance"] == pytest.approx(whole["by_distance"])


def test_run_ids_ignore_fields_left_at_their_defaults():
    # Adding a Run field with a default must not rename existing runs.
    run = Run("lstm_tiny", "adding", {"sequence_length": 6})
    assert run.run_id == "lstm_tiny--adding--s0--1a744315"
    assert Run("lstm_tiny", "adding", {"sequence_length": 6}, optimizer="sgd").run_id != run.run_id
    assert Run.from_dict(run.to_dict()) == run


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("optimizer", "adagrad", "['adam', 'adamw', 'sgd', 'rmsprop']"),
        ("schedule", "linear", "['constant', 'cosine', 'warmup_cosine']"),
        ("precision", "float8", "mixed_bfloat16"),
        ("steps", 0, "positive integer"),
        ("learning_rate", -1.0, "positive number"),
        ("max_seconds", 0, "positive number"),
        ("weight_decay", -0.1, ">= 0"),
        ("jit_compile", "yes", "['auto', True, False]"),
    ],
)
def test_bad_run_settings_name_the_value_and_the_choices(field, value, message):
    with pytest.raises(ValueError, match="invalid value") as error:
        Run("lstm_tiny", "adding", TINY, **{field: value}).resolve()
    assert message in str(error.value) and repr(value) in str(error.value)


def test_seeds_and_profiles_shape_the_sweep(tmp_path):
    experiment = _experiment(tmp_path)  # seeds 0 and 1
    runs = sweep.select(experiment, seeds=3, profile="quick")
    assert [r.seed for r in runs] == [0, 1, 2]
    full = sweep.select(experiment, profile="full")
    assert all(r.jit_compile is True for r in full) and len(full) == 2
    with pytest.raises(ValueError, match="--seeds"):
        sweep.select(experiment, seeds=0, profile="quick")
    with pytest.raises(ValueError, match="matches no run"):
        sweep.select(experiment, only="gru_*", profile="quick")
    with pytest.raises(ValueError, match="valid: \\['quick', 'full'\\]"):
        sweep.apply_profile(runs[0], "fast")


def test_backend_auto_puts_each_family_on_its_fastest_backend():
    import keras

    runs = [Run("lstm_tiny", "adding", TINY), Run("transformer_tiny", "adding", TINY)]
    current = keras.backend.backend()
    assert sweep.backend_plan(runs) == [current, current]
    assert sweep.backend_plan(runs, "auto", {"lstm": "jax"}) == ["jax", current]
    with pytest.raises(ValueError, match="Unknown backend 'mxnet'"):
        sweep.backend_plan(runs, "mxnet")


def test_an_isolated_run_trains_in_its_own_process(tmp_path):
    experiment = _experiment(tmp_path)
    out = tmp_path / "out"
    records = sweep.run_experiment(experiment, out, only="*--s0--*", isolate=True,
                                   echo=lambda *_: None)
    assert records[0]["status"] == "finished"
    # the child process wrote the record; this process trained nothing
    assert load_record(out, Run.from_dict(records[0]["run"])) == records[0]


@pytest.mark.parametrize(
    "source,message",
    [
        ("def runs(:\n", "failed to load: SyntaxError"),
        ("DESCRIPTION = 'x'\n", "defines no `runs()`"),
        ("def runs():\n    return 'lstm_tiny'\n", "must return a list"),
        ("from zoo.runner import Run\ndef runs():\n"
         "    return [Run('lstm_tiny', 'adding', {}, optimizer='adagrad')]\n", "adagrad"),
    ],
)
def test_a_bad_experiment_file_is_one_clear_error(tmp_path, monkeypatch, capsys, source, message):
    monkeypatch.setattr(sweep, "train_and_evaluate", lambda *a: pytest.fail("trained"))
    path = tmp_path / "bad.py"
    path.write_text(source)
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error


def test_runs_on_the_same_task_and_seed_share_their_data():
    import zoo.tasks
    from zoo.runner import build_data

    task = zoo.tasks.get("adding", sequence_length=5, num_train=8, num_validation=4,
                         num_test=4)
    first = build_data(task, 0)
    assert build_data(zoo.tasks.get("adding", sequence_length=5, num_train=8,
                                    num_validation=4, num_test=4), 0) is first
    assert build_data(task, 1) is not first
    other = zoo.tasks.get("adding", sequence_length=6, num_train=8, num_validation=4,
                          num_test=4)
    assert build_data(other, 0) is not first
