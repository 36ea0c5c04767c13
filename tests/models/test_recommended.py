"""`zoo.models.recommended`: the rates `zoo run quick` trains at agree with
the committed measurement behind them (`zoo run recommend`)."""

import pathlib

import pytest

from zoo import experiments
from zoo.experiments import recommend
from zoo.models import recommended
from zoo.models.recommended import RECOMMENDED
from zoo.names import split_model_name
from zoo.record import load_run_records

RUNS = pathlib.Path(__file__).resolve().parents[2] / "results" / "runs"
RECORDS = RUNS / "recommend"


def _measured_by(experiment):
    return sorted(name for name, r in RECOMMENDED.items() if r.measured_by == experiment)


@pytest.mark.backend_independent  # reads JSON records: once, in CI's first step
def test_recommended_rates_are_the_ones_the_committed_records_choose():
    records = load_run_records(RECORDS)
    # every rate of the search at every seed (edges extended past it add more)
    assert {r["run_id"] for r in records} >= {run.run_id for run in experiments.runs("recommend")}
    rates = recommend.chosen_rates(records)
    assert set(rates) == set(recommend.FAMILIES)
    for family, rate in rates.items():
        assert RECOMMENDED[family].learning_rate == pytest.approx(rate), family
        assert RECOMMENDED[family].schedule == recommend.SCHEDULE, family


@pytest.mark.backend_independent
def test_the_other_families_rates_are_the_ones_long_range_chooses():
    records = load_run_records(RUNS / "long_range")
    rates = recommend.chosen_rates(records)
    families = _measured_by("long_range")
    assert families and not set(families) & set(recommend.FAMILIES)
    for family in families:
        assert RECOMMENDED[family].learning_rate == pytest.approx(rates[family]), family
        assert RECOMMENDED[family].schedule == recommend.SCHEDULE, family
        # the source's "solves N of 8 cells" counts seed 0 at that rate
        at_rate = [r for r in records if split_model_name(r["run"]["model"])[0] == family
                   and r["run"]["seed"] == 0 and r["run"]["learning_rate"] == rates[family]]
        assert len(at_rate) == 8, family
        solved = sum(bool(r["solved"]) for r in at_rate)
        assert f"solves {solved} of 8 cells" in RECOMMENDED[family].source, family
    # where both measured, rnn and transformer agree (lstm and gru: 1e-2 in
    # long_range, whose every cell tried up to 1e-2 only; 3e-2 in recommend)
    assert rates["rnn"] == RECOMMENDED["rnn"].learning_rate
    assert rates["transformer"] == RECOMMENDED["transformer"].learning_rate


def _record(family, task, rate, seed, validation, test, length=None):
    higher = task == "copying"
    metric = "accuracy" if higher else "mse"
    run = {"model": f"{family}_small", "task": task, "learning_rate": rate, "seed": seed,
           "searched": ["learning_rate"],
           "task_knobs": {} if length is None else {"sequence_length": length}}
    return {"run_id": f"{family}-{task}-{rate}-{seed}-{length}", "run": run, "status": "finished",
            "metric": metric, "higher_is_better": higher, "validation": {metric: [validation]},
            "best_epoch": 0, "test": {metric: test}, "baseline": 0.5 if higher else 0.17}


@pytest.mark.backend_independent
def test_the_rate_is_ranked_on_both_tasks_on_validation_alone():
    # adding alone would choose 1e-2; copying fails there: 3e-3 ranks best over both
    validation = {("adding", 1e-3): 0.05, ("adding", 3e-3): 0.002, ("adding", 1e-2): 0.001,
                  ("copying", 1e-3): 1.0, ("copying", 3e-3): 1.0, ("copying", 1e-2): 0.6,
                  ("copying", 3e-2): 0.9}  # tried on copying only: not ranked
    records = [_record("gru", task, rate, seed, score, test=seed / 10)
               for (task, rate), score in validation.items() for seed in (0, 1)]
    assert recommend.chosen_rates(records) == {"gru": 3e-3}
    # test scores play no part: reversing them leaves the choice
    flipped = [_record("gru", task, rate, seed, score, test=1 - seed / 10)
               for (task, rate), score in validation.items() for seed in (0, 1)]
    assert recommend.chosen_rates(flipped) == {"gru": 3e-3}
    # a tie of mean ranks goes to the smaller rate
    tied = {("adding", 1e-3): 0.01, ("adding", 3e-3): 0.02,
            ("copying", 1e-3): 0.8, ("copying", 3e-3): 0.9}
    records = [_record("gru", task, rate, 0, score, 0.0) for (task, rate), score in tied.items()]
    assert recommend.chosen_rates(records) == {"gru": 1e-3}


@pytest.mark.backend_independent
def test_each_length_of_a_task_is_ranked_as_its_own_cell():
    # both lengths of adding prefer 1e-2, copying prefers 1e-3: ranked per
    # cell, 1e-2 wins 2 to 1; one entry per task would tie 1 to 1 (-> 1e-3)
    validation = {("adding", 25, 1e-3): 0.002, ("adding", 25, 1e-2): 0.001,
                  ("adding", 100, 1e-3): 0.02, ("adding", 100, 1e-2): 0.01,
                  ("copying", 10, 1e-3): 1.0, ("copying", 10, 1e-2): 0.2}
    records = [_record("lru", task, rate, 0, score, 0.0, length)
               for (task, length, rate), score in validation.items()]
    assert recommend.chosen_rates(records) == {"lru": 1e-2}


@pytest.mark.backend_independent
def test_every_family_has_a_recommendation_that_says_where_it_came_from():
    import zoo.models

    assert set(RECOMMENDED) == set(zoo.models.families())
    # every measured rate is one the tests above hold to the records
    assert _measured_by("recommend") == sorted(recommend.FAMILIES)
    assert {r.measured_by for r in RECOMMENDED.values()} == {"recommend", "long_range", None}
    for name, r in RECOMMENDED.items():
        assert ("not measured" in r.source) == (r.measured_by is None), name
    assert RECOMMENDED["lru"].describe() == (
        "learning_rate=0.01, schedule=warmup_cosine (chosen on validation by `zoo run long_range`)")
    assert RECOMMENDED["mamba"].describe().endswith("(not measured here)")


@pytest.mark.backend_independent
def test_quick_trains_each_family_at_its_recommendation():
    for run in experiments.runs("quick"):
        settings = recommended(run.model).settings()
        assert (run.learning_rate, run.schedule) == (
            settings["learning_rate"], settings["schedule"])


def test_an_unknown_family_is_named():
    with pytest.raises(KeyError, match="'nope_small'.*lstm"):
        recommended("nope_small")
