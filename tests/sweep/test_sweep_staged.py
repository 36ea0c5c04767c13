"""`SELECT_ON_SEEDS`: every value at the selection seeds, the choice on
validation, the other seeds at the chosen value only; the report then shows
the choice the sweep made."""

import pytest

from zoo import choice, sweep
from zoo import record as records
from zoo.report import selection
from zoo.runner import Run
from zoo.sweep import staged

EXPERIMENT = '''
from zoo.runner import Run, Search
DESCRIPTION = "two learning rates x three seeds, chosen on seed 0"
SELECT_ON_SEEDS = {seeds!r}
def runs():
    knobs = {{"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 16}}
    return [Run("gru_tiny", "adding", knobs, epochs=1, batch_size=16,
                learning_rate=Search(1e-4, 1e-2), seed=s) for s in (0, 1, 2)]
'''


def _experiment(tmp_path, seeds=(0,)):
    path = tmp_path / "staged.py"
    path.write_text(EXPERIMENT.format(seeds=seeds))
    return str(path)


def test_the_other_seeds_train_at_the_value_chosen_on_seed_0(tmp_path):
    experiment, out = _experiment(tmp_path), tmp_path / "runs"
    lines = []
    records = sweep.run_experiment(experiment, out, echo=lines.append)

    seed_0 = [r for r in records if r["run"]["seed"] == 0]
    assert sorted(r["run"]["learning_rate"] for r in seed_0) == [1e-4, 1e-2]
    best = choice.chosen_runs(seed_0)
    later = [r for r in records if r["run"]["seed"] != 0]
    assert sorted(r["run"]["seed"] for r in later) == [1, 2]
    assert all(choice.run_key(r["run"]) in best for r in later)
    assert len({r["run"]["learning_rate"] for r in later}) == 1
    assert len([p for p in out.iterdir() if (p / "metrics.json").exists()]) == 4  # not 6
    assert any("2 of the 4 runs at other seeds are at a chosen value" in line for line in lines)
    # the page chooses what the sweep chose (on seed 0, the seed every value has)
    assert {r["run"]["learning_rate"] for r in selection.select_records(records)} == {
        later[0]["run"]["learning_rate"]}

    again = []
    assert sweep.run_experiment(experiment, out, echo=again.append) == records
    assert sum("done before, skipped" in line for line in again) == 4


def test_a_cell_missing_a_value_at_a_selection_seed_waits(tmp_path):
    runs = [Run("gru_tiny", "adding", {"sequence_length": 6}, learning_rate=lr, seed=seed,
                searched=("learning_rate",)) for lr in (1e-3, 1e-2) for seed in (0, 1)]
    plan = [(run, "tensorflow") for run in runs]
    first, later = staged.split(plan, (0,))
    assert [r.seed for r, _ in first] == [0, 0] and [r.seed for r, _ in later] == [1, 1]

    def finish(run, validation):  # a seed-0 record on disk, as a sweep leaves it
        records.write_json_atomically(records.run_record_path(tmp_path, run.run_id), {
            "run_id": run.run_id, "run": run.to_dict(), "status": "finished",
            "metric": "mse", "higher_is_better": False, "validation": {"mse": [validation]},
            "best_epoch": 0})

    finish(runs[0], 0.1)  # 1e-2 at seed 0 not finished: the cell waits
    assert staged.at_chosen_values(later, tmp_path, (0,)) == ([], 1)
    finish(runs[2], 0.05)  # read from the folder, as with --only on seed 1 alone
    kept, waiting = staged.at_chosen_values(later, tmp_path, (0,))
    assert [r.learning_rate for r, _ in kept] == [1e-2] and waiting == 0


@pytest.mark.parametrize("seeds", [(), ("0",), (-1,), "0", True])
def test_a_bad_select_on_seeds_is_one_error_before_anything_trains(tmp_path, seeds):
    out = tmp_path / "runs"
    with pytest.raises(ValueError, match="SELECT_ON_SEEDS must be a non-empty tuple"):
        sweep.run_experiment(_experiment(tmp_path, seeds), out, echo=lambda *_: None)
    assert not out.exists() or not any(out.iterdir())


def test_a_run_without_a_search_trains_at_every_seed():
    plain = [(Run("gru_tiny", "adding", seed=s), "tensorflow") for s in (0, 1, 2)]
    first, later = staged.split(plain, (0,))
    assert len(first) == 3 and later == []
