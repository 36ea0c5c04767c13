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


def _finish(folder, run, validation, here=False):
    """A finished record of `run` on disk with this validation mse, as a sweep
    leaves it (`here`: with this machine's backend and device, as a record
    trained here has them, so it shares a cell with those)."""
    record = {"run_id": run.run_id, "run": run.to_dict(), "status": "finished",
              "metric": "mse", "higher_is_better": False, "validation": {"mse": [validation]},
              "best_epoch": 0}
    if here:
        import keras

        from zoo.measure import environment

        record["environment"] = {"backend": keras.backend.backend(),
                                 "device": environment.device()["device"]}
    records.write_json_atomically(records.run_record_path(folder, run.run_id), record)


def _grid(search, seeds=(0,)):
    from zoo.runner import expand

    listed = Run("gru_tiny", "adding", {"sequence_length": 6}, learning_rate=search)
    return [(run.replace(seed=seed), "tensorflow") for run in expand(listed) for seed in seeds]


@pytest.mark.parametrize("scores, expected", [
    ({1e-3: 0.3, 3e-3: 0.2, 1e-2: 0.1}, [3e-2]),  # the largest chosen: the next above
    ({1e-3: 0.1, 3e-3: 0.2, 1e-2: 0.3}, [3e-4]),  # the smallest chosen: the next below
    ({1e-3: 0.3, 3e-3: 0.1, 1e-2: 0.2}, []),      # inside the grid: nothing more
])
def test_a_cell_that_chose_an_edge_of_its_grid_tries_the_next_value(tmp_path, scores, expected):
    from zoo.runner import Search

    first = _grid(Search(1e-3, 3e-3, 1e-2, above=(3e-2, 1e-1), below=(3e-4,)), seeds=(0, 1))
    assert first[0][0].run_id == _grid(Search(1e-3, 3e-3, 1e-2))[0][0].run_id  # ids unchanged
    assert staged.beyond_the_grid(first, tmp_path, (0,)) == []  # nothing finished: no choice
    for run, _ in first:
        _finish(tmp_path, run, scores[run.learning_rate])
    extra = staged.beyond_the_grid(first, tmp_path, (0,))
    assert [(r.learning_rate, r.seed) for r, _ in extra] == [(v, 0) for v in expected]
    if expected:  # the next value in turn chose the edge: one more, then none left
        later = [(run.replace(seed=1), b) for run, b in extra]
        assert staged.other_seeds(extra, [(first[1][0], "tensorflow")]) == later
        _finish(tmp_path, extra[0][0], 0.01)
        again = staged.beyond_the_grid(first + extra, tmp_path, (0,))
        assert [r.learning_rate for r, _ in again] == ([1e-1] if expected == [3e-2] else [])


def test_search_edges_are_checked_and_leave_the_ids_alone():
    from zoo.runner import Search, expand

    for bad in ({"above": (1e-3,)}, {"above": (1e-1, 3e-2)}, {"below": (1e-1,)}):
        with pytest.raises(ValueError, match="Search (above|below)="):
            Search(1e-3, 1e-2, **bad)
    with pytest.raises(ValueError, match="need numbers"):
        Search(False, True, above=(2,))
    with pytest.raises(ValueError, match="must be the run's only one"):
        expand(Run("gru_tiny", "adding", {"sequence_length": Search(6, 8)},
                   learning_rate=Search(1e-3, 1e-2, above=(3e-2,))))
    run = expand(Run("gru_tiny", "adding", learning_rate=Search(1e-3, above=(1e-2,))))[0]
    assert run.edges == (("learning_rate", (), (1e-2,)),)
    assert "edges" not in run.to_dict() and Run.from_dict(run.to_dict()) == run


EDGE_EXPERIMENT = '''
from zoo.runner import Run, Search
DESCRIPTION = "a grid that may be extended past its largest value"
SELECT_ON_SEEDS = (0,)
def runs():
    knobs = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 16}
    return [Run("gru_tiny", "adding", knobs, epochs=1, batch_size=16,
                learning_rate=Search(1e-4, 1e-3, above=(1e-2,)), seed=s) for s in (0, 1)]
'''


def test_the_sweep_trains_past_the_edge_then_the_other_seed_at_the_choice(tmp_path):
    from zoo import experiments

    path, out = tmp_path / "edge.py", tmp_path / "runs"
    path.write_text(EDGE_EXPERIMENT)
    grid = [r for r in experiments.runs(str(path)) if r.seed == 0]
    for run in grid:  # seed 0 chose the largest value, 1e-3
        _finish(out, run, {1e-4: 0.5, 1e-3: 0.2}[run.learning_rate], here=True)
    lines = []
    done = sweep.run_experiment(str(path), out, echo=lines.append)
    assert any("Beyond the grid: 1 run at the next value" in line for line in lines)
    seed_0 = [r for r in done if r["run"]["seed"] == 0]
    assert sorted(r["run"]["learning_rate"] for r in seed_0) == [1e-4, 1e-3, 1e-2]
    chosen = choice.chosen_runs(seed_0)
    seed_1 = [r for r in done if r["run"]["seed"] == 1]
    assert len(seed_1) == 1 and choice.run_key(seed_1[0]["run"]) in chosen


def test_a_cells_other_seeds_start_as_soon_as_it_chose_ahead_of_the_next_grid(tmp_path):
    from zoo.runner import Search, expand
    from zoo.sweep import schedule

    plan = [(run.replace(seed=seed), "tensorflow")
            for length in (6, 8) for seed in (0, 1)
            for run in expand(Run("gru_tiny", "adding", {"sequence_length": length},
                                  learning_rate=Search(1e-3, 1e-2)))]
    first, later = staged.split(plan, (0,))
    trained = []

    def train(run):  # a stand-in trainer: 1e-2 always has the better validation
        trained.append((run.task_knobs["sequence_length"], run.seed, run.learning_rate))
        _finish(tmp_path, run, {1e-3: 0.2, 1e-2: 0.1}[run.learning_rate])
        return records.load_run_record(records.run_record_path(tmp_path, run.run_id))

    lines = []
    pipeline = staged.Pipeline(first, later, tmp_path, (0,), lines.append)
    done = schedule.drive(first, tmp_path, schedule.InProcess(train), lines.append,
                          "tensorflow", follow_up=pipeline.ready)
    # the first cell's seed 1 trains before the second cell's grid begins
    assert trained == [(6, 0, 1e-3), (6, 0, 1e-2), (6, 1, 1e-2),
                       (8, 0, 1e-3), (8, 0, 1e-2), (8, 1, 1e-2)]
    assert [r["run_id"] for r in done] == [
        run.run_id for run, _ in first + [p for p in later if p[0].learning_rate == 1e-2]]
    assert sum("1 cell, 1 run at other seeds join the sweep" in line for line in lines) == 2
    assert pipeline.summary().startswith("Chosen on seed 0: 2 of the 4 runs at other seeds")
    # runs count on in the order they start, the added ones too, and the total grows with them
    started = [line.split(" ")[0] for line in lines if line.startswith("[")]
    assert started == ["[1/4]", "[2/4]", "[3/5]", "[4/5]", "[5/5]", "[6/6]"]
