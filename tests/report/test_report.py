"""Reports: run records -> aggregate table, CSV, Markdown and plots."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from zoo import record as run_record
from zoo import report
from zoo.report import markdown, references, tables

ROOT = Path(__file__).resolve().parents[2]


def make_record(model="lstm_small", task="adding", seed=0, length=50, value=0.05,
                solved=False, status="finished", metric="mse", higher_is_better=False,
                **fields):
    """A run record of the shape `zoo.runner.train_and_evaluate` writes."""
    knobs = {"sequence_length": length, "num_train": 640}
    run = {"model": model, "task": task, "task_knobs": knobs, "model_overrides": {},
           "epochs": 3, "steps": None, "batch_size": 64, "learning_rate": 0.003, "seed": seed}
    record = {
        "run_id": f"{model}--{task}--s{seed}--{length:08d}",
        "run": run, "status": status, "metric": metric,
        "higher_is_better": higher_is_better, "baseline": 1 / 6, "solved_at": 0.01,
        "solved": solved,
        "test": {} if status == "diverged" else {metric: value, "loss": value},
        "extra_tests": {}, "time_to_solve_seconds": 12.0 + seed if solved else None,
        "params": {"total": 1000 + length, "embedding": 10, "mixer": 900, "head": 90},
        "input_length": length, "flops_per_example": 2000 * length,
        "train_samples_per_second": 1e5 / length,
        "train_tokens_per_second": 1e5 * (1 + seed),
        "inference_samples_per_second": 3e5 / length,
        "peak_memory_mb": 0.5 * length, "peak_memory_kind": "host_rss",
        "environment": {"backend": "tensorflow", "device": "Test CPU", "device_kind": "cpu",
                        "cpu_count": 2, "precision": "float32",
                        "versions": {"keras": "3.0.0", "tensorflow": "2.0.0"},
                        "commit": "abc123", "load_average": [1.5, 1.0, 0.5]},
    }
    record.update(fields)
    return record


def write_records(folder, records):
    for record in records:
        run_dir = Path(folder) / record["run_id"]
        run_dir.mkdir(parents=True)
        (run_dir / run_record.RECORD_FILE).write_text(json.dumps(record))
    return folder


def sweep_records():
    """lstm and transformer on adding at two lengths, three seeds each; one diverged."""
    records = []
    for length, lstm_solved, transformer_solved in ((50, 3, 2), (100, 2, 1)):
        for seed in range(3):
            records.append(make_record("lstm_small", length=length, seed=seed,
                                       value=0.001 * (seed + 1), solved=seed < lstm_solved))
            records.append(make_record("transformer_small", length=length, seed=seed,
                                       value=0.1, solved=seed < transformer_solved))
    records.append(make_record("rnn_small", length=50, seed=0, status="diverged"))
    records.append(make_record("rnn_small", length=50, seed=1, value=0.2))
    return records


def test_aggregate_means_and_std_over_seeds():
    table = report.aggregate(sweep_records())
    row = table[(table.model == "lstm_small") & (table.input_length == 50)].iloc[0]
    assert row["seeds"] == 3 and row["finished"] == 3 and row["diverged"] == 0
    assert row["test_mean"] == pytest.approx(0.002)
    assert row["test_std"] == pytest.approx(0.001)  # sample std of 0.001, 0.002, 0.003
    assert row["best"] == pytest.approx(0.001) and row["best_seed"] == 0  # lower is better
    assert row["seeds_solved"] == 3 and bool(row["solved_majority"])
    assert row["train_tokens_per_second"] == pytest.approx(2e5)  # median over seeds
    assert row["time_to_solve_seconds"] == pytest.approx(13.0)
    assert row["family"] == "lstm" and row["size"] == "small"
    assert row["task_knobs"] == "num_train=640 sequence_length=50"
    assert row["budget"] == "epochs=3 batch_size=64 learning_rate=0.003"
    assert list(table.columns) == list(tables.COLUMNS)


def test_diverged_runs_are_counted_and_left_out_of_the_mean():
    table = report.aggregate(sweep_records())
    row = table[table.model == "rnn_small"].iloc[0]
    assert (row["seeds"], row["finished"], row["diverged"]) == (2, 1, 1)
    assert row["test_mean"] == pytest.approx(0.2)
    assert math.isnan(row["test_std"])  # one finished seed
    assert row["seeds_solved"] == 0 and not row["solved_majority"]


def test_rows_are_ordered_by_task_length_and_family():
    records = [make_record(model, task=task, length=length)
               for task in ("copying", "adding") for length in (100, 50)
               for model in ("vit_tiny", "mamba_tiny", "seq2seq_lstm_tiny", "transformer_tiny",
                             "gru_small", "gru_tiny", "transformer_decoder_tiny", "rnn_tiny",
                             "lstm_base", "hyena_tiny")]
    table = report.aggregate(records)
    models = ["rnn_tiny", "lstm_base", "gru_tiny", "gru_small", "mamba_tiny", "transformer_tiny",
              "transformer_decoder_tiny", "seq2seq_lstm_tiny", "vit_tiny", "hyena_tiny"]
    assert list(table.model) == models * 4  # zoo.names.FAMILY_ORDER, unknown families last
    assert list(table.task) == ["adding"] * 20 + ["copying"] * 20
    assert list(table.input_length[:11]) == [50] * 10 + [100]


def test_missing_optional_fields_show_as_missing():
    record = make_record()
    for key in ("input_length", "train_tokens_per_second", "peak_memory_mb", "peak_memory_kind",
                "flops_per_example", "higher_is_better", "solved_at", "environment"):
        del record[key]
    record["peak_rss_mb"] = 300.0  # older records
    row = report.aggregate([record]).iloc[0]
    assert row["input_length"] == 50  # from the sequence_length knob
    assert math.isnan(row["train_tokens_per_second"]) and row["flops_per_example"] is pd.NA
    assert row["peak_memory_mb"] == 300.0 and row["peak_memory_kind"] == "host_rss"
    assert not row["higher_is_better"]  # mse
    text = report.format_table(report.summary_table([record]))
    assert "lstm_small" in text and "-" in text


def test_a_cells_state_size_comes_from_any_seed_that_has_it():
    older = make_record(seed=0)  # written before records carried these
    del older["flops_per_example"]
    newer = make_record(seed=1, state_size=64)
    row = report.aggregate([older, newer]).iloc[0]
    assert row["state_size"] == 64 and row["flops_per_example"] == 100_000


def test_seq2seq_length_is_the_encoders():
    record = make_record("seq2seq_lstm_tiny", task="reverse", input_length={"encoder": 12,
                                                                             "decoder": 13})
    assert report.aggregate([record]).iloc[0]["input_length"] == 12


def test_write_report_is_deterministic_and_draws_plots(tmp_path):
    runs = write_records(tmp_path / "runs", sweep_records())
    first = report.write_report("demo", runs, tmp_path / "a")
    second = report.write_report("demo", runs, tmp_path / "b")
    names = [p.name for p in first]
    assert names[:2] == ["demo.csv", "demo.md"]
    assert set(names[2:]) == {"demo_adding_mse.png", "demo_adding_throughput.png",
                              "demo_adding_memory.png"}
    for a, b in zip(first[:2], second[:2]):
        assert a.read_bytes() == b.read_bytes()
    for png in first[2:]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    csv = first[0].read_text()
    assert csv.splitlines()[0].startswith("task,input_length,model,family,size,")
    assert "\r" not in csv


def test_the_commits_of_a_sweep_are_named_short_and_counted():
    full = "8d4e32427b4202a2efda49246dcf8f64b0c0ffee"
    assert markdown.commits_text([full, full, None]) == "zoo commit 8d4e324"
    assert markdown.commits_text([full, "03a6708140559a70+dirty", ""]) == \
        "zoo commits 03a6708+dirty, 8d4e324 (2)"
    assert markdown.commits_text([]) == "zoo commit unrecorded"


def test_markdown_says_where_and_how_and_links_the_plots(tmp_path):
    runs = write_records(tmp_path / "runs", sweep_records())
    paths = report.write_report("demo", runs, tmp_path / "out")
    text = paths[1].read_text()
    assert text.startswith("# Results: demo\n")
    assert "Test CPU (cpu, 2 CPU cores)" in text and "keras 3.0.0" in text
    assert "commit abc123" in text and "backend tensorflow" in text
    assert "`zoo run demo --out DIR`" in text and "`zoo report demo --runs DIR`" in text
    assert "0.002 ± 0.001" in text and "✓ 3/3" in text and "3 (1 diverged)" not in text
    assert "2 (1 diverged)" in text
    assert "majority of its seeds" in text
    for png in paths[2:]:
        assert f"]({png.name})" in text


def test_longest_length_solved_needs_a_majority_of_seeds():
    table = report.aggregate(sweep_records())
    solved = report.solved_lengths(table).set_index("model")
    # lstm: 3/3 at 50, 2/3 at 100; transformer: 2/3 at 50, 1/3 at 100; rnn: one length only
    assert solved.loc["lstm_small", "longest solved"] == 100
    assert solved.loc["transformer_small", "solved lengths"] == [50]
    assert solved.loc["transformer_small", "longest solved"] == 50
    assert solved.loc["transformer_small", "marks"] == {50: "✓ 2/3", 100: "✗ 1/3"}
    assert solved.loc["rnn_small", "longest solved"] is pd.NA


def test_series_labels_tell_configurations_of_one_length_apart():
    records = [make_record("lstm_small", length=n, seed=0, model_overrides={"hidden_dim": h})
               for n in (50, 100) for h in (32, 64)]
    for record in records:
        record["run"]["model_overrides"] = record.pop("model_overrides")
    solved = report.solved_lengths(report.aggregate(records))
    assert sorted(solved.model) == ["lstm_small hidden_dim=32", "lstm_small hidden_dim=64"]


def test_references_sit_beside_their_family():
    listops = references.lookup("listops", "transformer")
    assert listops.value == pytest.approx(0.3637) and "Tay" in listops.source
    assert references.lookup("listops", "transformer_decoder") is None
    assert references.lookup("listops", "lstm") is None
    assert references.lookup("imdb", "lstm").value == pytest.approx(0.8428)
    assert references.lookup("smnist", "lstm").text() == "0.982-0.989"
    assert [r.model for r in references.for_task("scifar")] == ["Transformer", "S4"]
    for reference in references.REFERENCES:
        assert 0 < reference.value <= (reference.high or 1) <= 1
    records = [make_record("transformer_small", task="listops", metric="accuracy",
                           higher_is_better=True, value=0.3)]
    table = report.aggregate(records)
    assert table.iloc[0]["reference"] == "0.3637" and "Tay" in table.iloc[0]["reference_source"]
    text = markdown.markdown("x", table, records)
    assert "| 0.3637 |" in text and "- S4 0.596 (" in text  # S4 listed, in no row


def test_references_are_numbers_from_the_design_document():
    design = ROOT.parent / "shared" / "DESIGN.md"
    if not design.exists():
        pytest.skip("DESIGN.md is not beside this checkout")
    text = design.read_text()
    for reference in references.REFERENCES:
        for value in (reference.value, reference.high):
            if value is not None:
                written = {f"{value * 100:.2f}", f"{value * 100:.1f}", f"{value * 100:g}",
                           f"{value:.4f}"}
                assert any(w in text for w in written), (reference, value)


def test_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        report.load_records(tmp_path / "nowhere")
    (tmp_path / "empty" / "killed_run").mkdir(parents=True)  # no metrics.json: not finished
    with pytest.raises(FileNotFoundError, match="No run records.*empty"):
        report.write_report("x", tmp_path / "empty", tmp_path / "out")


def test_records_load_sorted_by_run_id(tmp_path):
    records = sweep_records()
    write_records(tmp_path, records[::-1])
    loaded = report.load_records(tmp_path)
    assert [r["run_id"] for r in loaded] == sorted(r["run_id"] for r in records)


def test_report_reads_a_real_run_record(tmp_path):
    from zoo.runner import Run, train_and_evaluate

    knobs = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 32}
    record = train_and_evaluate(Run("lstm_tiny", "adding", knobs), tmp_path / "runs", verbose=0)
    paths = report.write_report("real", tmp_path / "runs", tmp_path / "out")
    row = pd.read_csv(paths[0]).iloc[0]
    assert (row["model"], row["task"], row["input_length"], row["seeds"]) == ("lstm_tiny", "adding", 6, 1)
    assert row["params_total"] == record["params"]["total"] > 0
    assert row["test_mean"] == pytest.approx(record["test"]["mse"], rel=1e-5)
    assert row["backend"] == record["environment"]["backend"]
    assert f"keras {record['environment']['versions']['keras']}" in paths[1].read_text()


def _committed_results():
    results = ROOT / "results"
    return sorted(p for p in results.glob("*.csv") if (results / "runs" / p.stem).is_dir())


@pytest.mark.parametrize("csv", _committed_results() or [None],
                         ids=lambda p: p.stem if p else "none")
def test_committed_results_regenerate_byte_for_byte(csv, tmp_path):
    if csv is None:
        pytest.skip("no committed results/NAME.csv with records under results/runs/NAME yet")
    paths = report.regenerate(csv.stem, csv.parent / "runs" / csv.stem, tmp_path)
    assert paths[0].read_bytes() == csv.read_bytes()
    committed_md = csv.with_suffix(".md")
    if committed_md.exists():
        assert paths[1].read_bytes() == committed_md.read_bytes()
