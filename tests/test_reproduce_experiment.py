"""The reproduce experiment: its rows, their runs (stable ids, three seeds,
valid configurations), and every published number with its source."""

import json
from pathlib import Path

import numpy as np
import pytest

import zoo.experiments
from zoo import published
from zoo.experiments import reproduce

# The seed-0 run of each row. A change here changes which records a row reads:
# keep these ids unless the row's setting changes on purpose.
FIRST_RUN_IDS = {
    "imdb_transformer": "transformer_small--imdb--s0--bb6a487d",
    "imdb_bilstm": "lstm_small--imdb--s0--72a561cc",
    "addition_rnn": "seq2seq_lstm_small--addition--s0--d5ee512f",
    "scan_simple": "seq2seq_lstm_small--scan--s0--7af25e4a",
    "scan_length": "seq2seq_lstm_small--scan--s0--0d466daa",
    "scan_add_jump": "seq2seq_lstm_small--scan--s0--6022b54b",
    "mqar_attention": "transformer_decoder_small--associative_recall--s0--5b80afb6",
    "induction_mha_abs": "transformer_decoder_small--induction_heads--s0--386a4c10",
    "induction_mha_rope": "transformer_decoder_small--induction_heads--s0--3aab4f7f",
    "mqar_attention_8192": "transformer_decoder_small--associative_recall--s0--e5e6900d",
    "induction_mha_abs_full": "transformer_decoder_small--induction_heads--s0--ecd14b51",
    "induction_mha_rope_full": "transformer_decoder_small--induction_heads--s0--a9e02ee1",
    "lra_listops": "transformer_base--listops--s0--216b7810",
    "lra_text": "transformer_base--imdb_bytes--s0--7506f6b5",
    "lra_image": "transformer_base--scifar--s0--d1d606c6",
    "smnist_lstm": "lstm_base--smnist--s0--6151a936",
    "pmnist_lstm": "lstm_base--pmnist--s0--249a1206",
    "smnist_transformer": "transformer_base--smnist--s0--57f9ef75",
    "pmnist_transformer": "transformer_base--pmnist--s0--8fff07e8",
}
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
QUICK_ROWS = ("imdb_transformer", "imdb_bilstm", "addition_rnn", "scan_simple", "scan_length",
              "scan_add_jump", "mqar_attention", "induction_mha_abs", "induction_mha_rope")


@pytest.mark.parametrize("profile", reproduce.PROFILES)
def test_every_run_is_valid_with_three_seeds_and_a_stable_id(profile):
    import zoo.models
    import zoo.tasks

    runs = reproduce.runs(profile)
    for run in runs:  # what Run.resolve checks, without looking for dataset files
        zoo.tasks.get(run.task, **run.task_knobs)
        zoo.models.config(run.model, **run.model_overrides)
    rows = reproduce.rows(profile)
    assert len(runs) == 3 * len(rows)
    for row in rows:
        row_runs = reproduce.row_runs(row)
        assert row_runs[0].run_id == FIRST_RUN_IDS[row.name]
        assert [run.seed for run in row_runs] == [0, 1, 2]
        assert all(row.matches(run) for run in row_runs)
    assert len({run.run_id for run in runs}) == len(runs)


@pytest.mark.parametrize("profile", reproduce.PROFILES)
def test_each_rows_command_selects_its_runs_and_those_it_says_it_shares(profile):
    import fnmatch

    runs = reproduce.runs(profile)
    for row in reproduce.rows(profile):
        assert f"--profile {profile}" in row.command()
        assert f"--out {published.RECORDS_FOLDER}" in row.command()
        selected = {run.run_id for run in runs if fnmatch.fnmatchcase(run.run_id, row.only_pattern())}
        names = [row.name] + published.sharing_command(row)
        expected = {run.run_id for name in names for run in reproduce.row_runs(published.row(name))}
        assert selected == expected, row.name


def test_the_rows_are_data_and_the_experiment_builds_its_runs_from_them():
    assert reproduce.ROWS is published.ROWS
    for row in published.ROWS:  # plain values: a report compares them with a record's run
        assert json.loads(json.dumps(row.identity())) == row.identity()
    with pytest.raises(KeyError, match="Valid"):
        published.row("scan")


def test_the_quick_profile_loads_as_an_experiment(monkeypatch):
    if not (SHARED_DATASETS / "imdb.npz").is_file():
        pytest.skip(f"imdb.npz not found in {SHARED_DATASETS}")
    monkeypatch.setenv("ZOO_DATA_DIR", str(SHARED_DATASETS))  # the quick rows read IMDB
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    runs = zoo.experiments.runs("reproduce", "quick")  # resolves every run
    assert [run.run_id for run in runs] == [run.run_id for run in reproduce.runs("quick")]


def test_quick_holds_the_cpu_rows_and_full_the_accelerator_rows():
    assert tuple(row.name for row in reproduce.rows("quick")) == QUICK_ROWS
    assert set(FIRST_RUN_IDS) == {row.name for row in reproduce.ROWS}
    for row in reproduce.rows("quick"):
        assert row.budget.get("precision", "float32") == "float32"
    for row in reproduce.rows("full"):
        assert row.command().startswith("zoo run reproduce --profile full ")
    with pytest.raises(ValueError, match="quick"):
        reproduce.rows("fast")


def test_every_row_reads_published_numbers_with_a_source_and_says_how_it_differs():
    for row in reproduce.ROWS:
        assert row.readings and row.setting and row.differences, row.name
        for name, split, metric in row.readings:
            entry = published.get(name)
            assert entry.source and entry.setting and entry.model and entry.checked, name
            assert entry.metric == metric, name
            assert split == "test" or split.startswith("test_length_"), name
            assert 0 <= entry.value <= 1, name
    rows = {row.name for row in reproduce.ROWS}
    for entry in published.ENTRIES:
        assert entry.row in rows, entry.name  # every number belongs to a row


def test_published_conventions_named_in_their_entries():
    assert "test split" in published.get("keras_io_imdb_transformer").conventions[0]
    assert "per-character" in published.get("keras_io_addition_rnn").conventions[0]
    assert published.get("zoology_mqar_attention").at_least
    assert [e.value for e in published.for_row("scan_length")] == [0.138, 0.208]
    with pytest.raises(KeyError, match="Valid"):
        published.get("keras_io_imdb")


def test_a_row_recognises_its_records():
    transformer, bilstm = reproduce.ROWS[0], reproduce.ROWS[1]
    run = reproduce.row_runs(transformer)[1]
    record_run = json.loads(json.dumps(run.to_dict()))  # as a record holds it
    assert transformer.matches(record_run) and transformer.matches(run)
    assert not bilstm.matches(record_run)
    induction = next(row for row in reproduce.ROWS if row.name == "induction_mha_rope")
    stored = json.loads(json.dumps(reproduce.row_runs(induction)[0].to_dict()))  # tuples -> lists
    assert induction.matches(stored)
    assert not induction.matches({**stored, "model_overrides": {}})
    assert not induction.matches({**stored, "steps": 10})  # another budget: another row


def test_keras_io_models_are_the_examples_sizes():
    import zoo.models
    import zoo.tasks

    spec = zoo.tasks.get("imdb").spec
    transformer = zoo.models.get("transformer_small", spec, **published.KERAS_IO_TRANSFORMER)
    assert transformer.count_params() == 657758  # keras-io's model.summary()
    addition = zoo.tasks.get("addition").spec
    lstm = zoo.models.get("seq2seq_lstm_small", addition, **published.KERAS_IO_ADDITION)
    assert zoo.models.count_params(lstm)["mixer"] == 72192 + 131584  # keras-io's two LSTMs


def test_validation_on_the_test_split_is_a_named_knob(monkeypatch):
    import zoo.tasks

    if not (SHARED_DATASETS / "imdb.npz").is_file():
        pytest.skip(f"imdb.npz not found in {SHARED_DATASETS}")
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    knobs = dict(num_train=64, num_test=50, data_dir=str(SHARED_DATASETS))
    as_keras_io = zoo.tasks.get("imdb", validation="test", **knobs).build(seed=0)
    np.testing.assert_array_equal(as_keras_io.indices["validation"], as_keras_io.indices["test"])
    np.testing.assert_array_equal(as_keras_io.validation.inputs, as_keras_io.test.inputs)
    carved = zoo.tasks.get("imdb", **knobs).build(seed=0)
    assert carved.validation.num_examples == 5000
    assert not set(carved.indices["train"]) & set(carved.indices["validation"])
    with pytest.raises(ValueError, match="validation='train'"):
        zoo.tasks.get("imdb", validation="train")
    for row in reproduce.ROWS[:2]:  # keras-io's IMDB rows validate on test, and say so
        assert row.task_knobs == {"validation": "test"}
        assert "validation='test'" in row.differences[0]
