"""The fair protocol: a searched setting expands into runs with stable ids,
and reports choose on validation, never on test."""

import random

import pytest

from zoo import choice, experiments
from zoo.report import aggregate, selection
from zoo.runner import Run, Search, expand


def test_a_search_expands_into_runs_with_stable_ids():
    run = Run("gru_tiny", "adding", {"sequence_length": 6}, learning_rate=Search(3e-4, 1e-3),
              model_overrides={"hidden_dim": Search(8, 12)})
    runs = expand(run)
    assert [(r.learning_rate, r.model_overrides["hidden_dim"]) for r in runs] == [
        (3e-4, 8), (3e-4, 12), (1e-3, 8), (1e-3, 12)]
    assert all(r.searched == ("learning_rate", "model_overrides.hidden_dim") for r in runs)
    assert [r.run_id for r in runs] == [r.run_id for r in expand(run)]  # the same every time
    assert len({r.run_id for r in runs}) == 4
    # a run that searches nothing keeps the id it always had
    plain = Run("gru_tiny", "adding", {"sequence_length": 6})
    assert expand(plain) == [plain]
    assert plain.run_id == Run.from_dict(plain.to_dict()).run_id
    assert Run.from_dict(runs[0].to_dict()) == runs[0]


def test_an_unexpanded_search_is_refused_with_the_settings_named():
    run = Run("gru_tiny", "adding", learning_rate=Search(1e-3, 3e-3))
    with pytest.raises(ValueError, match="learning_rate"):
        run.resolve()
    with pytest.raises(ValueError, match="seed"):
        expand(Run("gru_tiny", "adding", seed=Search(0, 1)))
    with pytest.raises(ValueError, match="distinct"):
        Search(1e-3, 1e-3)


def test_an_experiment_file_with_a_search_lists_every_value(tmp_path):
    path = tmp_path / "grid.py"
    path.write_text(
        "from zoo.runner import Run, Search\n"
        "def runs():\n"
        "    return [Run('gru_tiny', 'adding', {'sequence_length': 6},\n"
        "                learning_rate=Search(3e-4, 1e-3, 3e-3))]\n")
    runs = experiments.runs(str(path))
    assert [r.learning_rate for r in runs] == [3e-4, 1e-3, 3e-3]


def _record(lr, seed, validation, test, higher=True):
    run = Run("gru_tiny", "copying", {"sequence_length": 6}, learning_rate=lr, seed=seed,
              searched=("learning_rate",)).to_dict()
    return {"run_id": f"r{lr}-{seed}", "run": run, "status": "finished", "metric": "accuracy",
            "higher_is_better": higher, "baseline": 0.125, "solved_at": 0.99,
            "validation": {"accuracy": [0.1, validation]}, "best_epoch": 1,
            "test": {"accuracy": test}, "solved": test >= 0.99,
            "environment": {"backend": "tensorflow", "device": "cpu"}}


def _records():
    # lr 1e-3 is best on validation; lr 3e-3 has the best test scores
    values = {3e-4: (0.5, 0.55), 1e-3: (0.9, 0.6), 3e-3: (0.7, 0.99)}
    return [_record(lr, seed, val + seed / 100, test)
            for lr, (val, test) in values.items() for seed in range(3)]


def test_the_choice_is_made_on_validation_and_reported_on_test():
    table = aggregate(_records())
    assert len(table) == 3 and (table["tried"] == 3).all()
    chosen = table[table["selected"]]
    assert list(chosen["search_value"]) == ["learning_rate=0.001"]
    assert chosen["test_mean"].iloc[0] == pytest.approx(0.6)  # test at the chosen value
    assert {r["run"]["learning_rate"] for r in selection.select_records(_records())} == {1e-3}


def test_shuffled_test_scores_leave_the_choice_unchanged():
    records = _records()
    before = [r["run_id"] for r in selection.select_records(records)]
    tests = [r["test"]["accuracy"] for r in records]
    for seed in range(5):
        random.Random(seed).shuffle(tests)
        for record, test in zip(records, tests):
            record["test"] = {"accuracy": test}
        assert [r["run_id"] for r in selection.select_records(records)] == before


def test_a_diverged_seed_scores_the_baseline_and_lower_is_better_is_respected():
    records = _records()
    for record in records:
        if record["run"]["learning_rate"] == 1e-3 and record["run"]["seed"] == 0:
            record.update(status="diverged", validation={"accuracy": []}, best_epoch=None)
    # 1e-3 now averages (0.125 + 0.91 + 0.92) / 3 < 3e-3's 0.71
    assert {r["run"]["learning_rate"] for r in selection.select_records(records)} == {3e-3}
    mse = [_record(lr, 0, val, 0.0, higher=False) for lr, val in ((1e-3, 0.2), (3e-3, 0.05))]
    assert [r["run"]["learning_rate"] for r in selection.select_records(mse)] == [3e-3]


def test_values_are_compared_on_the_seeds_all_of_them_have_finished():
    # seed 0: 3e-3 is best; seed 1 exists only for 1e-3, and lifts its mean above
    records = [_record(1e-3, 0, 0.6, 0.5), _record(1e-3, 1, 0.99, 0.5),
               _record(3e-3, 0, 0.7, 0.5)]
    assert [r["run"]["learning_rate"] for r in selection.select_records(records)] == [3e-3]
    # once 3e-3 has seed 1 too, both are averaged over seeds 0 and 1
    records.append(_record(3e-3, 1, 0.72, 0.5))
    assert {r["run"]["learning_rate"] for r in selection.select_records(records)} == {1e-3}


def test_a_tie_goes_to_the_smallest_value_in_any_order_of_the_records():
    # three rates reach the same validation score at seed 0 (a task solved at each)
    records = [_record(lr, 0, 1.0, 1.0) for lr in (3e-3, 1e-2, 1e-3)]
    for seed in range(4):
        random.Random(seed).shuffle(records)
        assert [r["run"]["learning_rate"] for r in selection.select_records(records)] == [1e-3]
    # the sweep chooses with the same rule, so its other seeds train where the page looks
    assert choice.chosen_runs(records) == {choice.run_key(_record(1e-3, 0, 1.0, 1.0)["run"])}
    # a worse score at the smallest value leaves the choice to the best ones
    records.append(_record(1e-4, 0, 0.9, 1.0))
    assert [r["run"]["learning_rate"] for r in selection.select_records(records)] == [1e-3]


def test_the_order_of_searched_values_puts_numbers_and_booleans_by_size():
    def order(value):
        return choice.value_order({"run": {"searched": ["model_overrides.x"],
                                           "model_overrides": {"x": value}}})
    assert order(False) < order(True) < order(3) < order("layer")
    assert order(1e-4) < order(3e-4)
