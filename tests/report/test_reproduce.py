"""The reproduce page: the verdict rule, which records a row reads, and the
page itself (deterministic, and complete with no records at all)."""

import csv
import math
from pathlib import Path

import pytest

from tests.report.test_report import make_record, write_records
from zoo import published, report
from zoo.report import reproduce

ROOT = Path(__file__).resolve().parents[2]


def row_record(row, seed, value, split="test", metric=None, **fields):
    """A record of `row`'s run at `seed`, scoring `value` on `split`."""
    metric = metric or row.readings[0][2]
    record = make_record(row.model, task=row.task, seed=seed, metric=metric,
                         higher_is_better=True, **fields)
    record["run"] = {**record["run"], **row.identity(), "seed": record["run"]["seed"]}
    record["run"]["task_knobs"] = dict(record["run"]["task_knobs"])
    record["run_id"] = f"{row.model}--{row.task}--s{seed}--{row.name[:8]}"
    scores = {metric: value, "loss": 0.3}
    if split == "test":
        record["test"] = scores
    else:
        record["extra_tests"] = {split: scores}
    return record


def test_verdict_within_the_spread_when_the_source_gives_one():
    assert reproduce.verdict(0.90, 0.85, spread=(0.84, 0.95)) == "reproduced"
    assert reproduce.verdict(0.90, 0.83, spread=(0.84, 0.95)) == "not reproduced"
    assert reproduce.verdict(0.90, 0.96, spread=(0.84, 0.95)) == "not reproduced"


def test_verdict_within_the_tolerance_otherwise():
    assert reproduce.TOLERANCE == 0.02
    assert reproduce.verdict(0.8745, 0.8600) == "reproduced"
    assert reproduce.verdict(0.8745, 0.8945) == "reproduced"  # above counts as well
    assert reproduce.verdict(0.8745, 0.8500) == "not reproduced"
    assert reproduce.verdict(0.8745, 0.9000) == "not reproduced"


def test_verdict_of_a_threshold_and_of_nothing_run():
    assert reproduce.verdict(0.99, 0.995, at_least=True) == "reproduced"
    assert reproduce.verdict(0.99, 0.99, at_least=True) == "reproduced"
    assert reproduce.verdict(0.99, 0.985, at_least=True) == "not reproduced"  # no tolerance
    assert reproduce.verdict(0.99, None) == "not run here"
    assert reproduce.verdict(0.99, math.nan, at_least=True) == "not run here"


def test_a_row_reads_its_records_and_no_others():
    transformer, bilstm = published.row("imdb_transformer"), published.row("imdb_bilstm")
    scan_length = published.row("scan_length")
    mine = [row_record(transformer, seed, 0.86 + 0.01 * seed) for seed in range(3)]
    others = [row_record(bilstm, 0, 0.5), row_record(scan_length, 0, 0.1)]
    other_budget = row_record(transformer, 3, 0.1)
    other_budget["run"]["epochs"] = 1  # the same model and task, another budget
    other_knobs = row_record(transformer, 4, 0.1)
    other_knobs["run"]["task_knobs"] = {}  # keras-io validates on test; this did not
    records = mine + others + [other_budget, other_knobs]
    assert reproduce.records_of(transformer, records) == mine
    item = reproduce.line(transformer, transformer.readings[0], records)
    assert item["seeds"] == 3 and item["runs"] == 3
    assert item["ours_mean"] == pytest.approx(0.87)
    assert item["ours_std"] == pytest.approx(0.01)
    assert item["gap"] == pytest.approx(0.87 - 0.8745)
    assert item["verdict"] == "reproduced"
    simple, length = published.row("scan_simple"), published.row("scan_length")
    assert reproduce.records_of(simple, records) == []  # SCAN's splits are told apart by knobs
    assert reproduce.records_of(length, records) == [others[1]]


def test_an_extra_test_split_is_read_where_the_row_says():
    row = published.row("induction_mha_rope")
    name, split, metric = row.readings[3]
    assert split == "test_length_512"
    records = [row_record(row, seed, 0.5, split=split) for seed in range(3)]
    item = reproduce.line(row, (name, split, metric), records)
    assert item["ours_mean"] == pytest.approx(0.5) and item["verdict"] == "not reproduced"
    assert reproduce.line(row, row.readings[0], records)["seeds"] == 0  # no test_length_64 score


def test_runs_that_never_finished_are_not_a_score():
    row = published.row("imdb_transformer")
    diverged = [row_record(row, 0, 0.9, status="diverged")]  # a score, but no finished run
    item = reproduce.line(row, row.readings[0], diverged)
    assert (item["seeds"], item["runs"], item["verdict"]) == (0, 1, "not reproduced")


def fake_records():
    transformer, mqar = published.row("imdb_transformer"), published.row("mqar_attention")
    return ([row_record(transformer, seed, 0.86 + 0.004 * seed) for seed in range(3)]
            + [row_record(mqar, seed, 0.97) for seed in range(2)])


def test_the_page_from_a_few_records_is_deterministic(tmp_path):
    runs = write_records(tmp_path / "runs", fake_records())
    first = report.regenerate("reproduce", runs, tmp_path / "a")
    second = report.regenerate("reproduce", runs, tmp_path / "b")
    assert [p.name for p in first] == ["reproduce.csv", "reproduce.md"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    text = first[1].read_text()
    assert "| 0.8745 | 0.8640 ± 0.0040 (n=3) | -0.0105 | reproduced |" in text
    assert "| > 0.9900 | 0.9700 ± 0.0000 (n=2) | -0.0200 | not reproduced (gap -0.0200); only 2 seeds |" \
        in text
    assert "keras 3.0.0" in text and "5 run records" in text  # the environment paragraph
    lines = list(csv.DictReader(first[0].open()))
    assert lines[0]["verdict"] == "reproduced" and lines[0]["seeds"] == "3"


def test_with_no_records_every_number_is_not_run_here_with_its_command(tmp_path):
    paths = report.regenerate("reproduce", tmp_path / "nowhere", tmp_path / "out")
    lines = list(csv.DictReader(paths[0].open()))
    assert {line["published"] for line in lines} == {e.name for e in published.ENTRIES}
    assert {line["verdict"] for line in lines} == {"not run here"}
    text = paths[1].read_text()
    for row in published.ROWS:
        assert f"`{row.command()}`" in text, row.name
    assert "No run records of this experiment yet" in text
    for convention in ("validates on the test split", "per-character accuracy", "Path-X"):
        assert convention in text
    (tmp_path / "empty" / "killed_run").mkdir(parents=True)  # a folder without a record
    again = report.regenerate("reproduce", tmp_path / "empty", tmp_path / "again")
    assert again[1].read_bytes() == paths[1].read_bytes()


def test_the_committed_page_regenerates_byte_for_byte(tmp_path):
    committed = ROOT / "results"
    if not (committed / "reproduce.csv").exists():
        pytest.skip("results/reproduce.csv not committed yet")
    paths = report.regenerate("reproduce", committed / "runs" / "reproduce", tmp_path)
    assert paths[0].read_bytes() == (committed / "reproduce.csv").read_bytes()
    assert paths[1].read_bytes() == (committed / "reproduce.md").read_bytes()
