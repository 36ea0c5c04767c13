"""`zoo.models.recommended`: the rates `zoo run quick` trains at agree with
the committed measurement behind them (`zoo run recommend`)."""

import pathlib

import pytest

from zoo import choice, experiments
from zoo.experiments import recommend
from zoo.models import recommended
from zoo.models.recommended import RECOMMENDED
from zoo.record import load_run_records

RECORDS = pathlib.Path(__file__).resolve().parents[2] / "results" / "runs" / "recommend"


def _chosen_rates(records):
    """`{family: learning rate chosen on validation}` on the deciding task."""
    groups = choice.group_records(records)
    chosen = choice.choose(groups)
    rates = {}
    for key, group in groups.items():
        run = group[0]["run"]
        if run["task"] == recommend.DECIDING_TASK and chosen[key]["selected"]:
            rates[run["model"].rsplit("_", 1)[0]] = run["learning_rate"]
    return rates


@pytest.mark.backend_independent  # reads JSON records: once, in CI's first step
def test_recommended_rates_are_the_ones_the_committed_records_chose():
    records = load_run_records(RECORDS)
    # every rate of the search at every seed (edges extended past it may add more)
    assert {r["run_id"] for r in records} >= {run.run_id for run in experiments.runs("recommend")}
    rates = _chosen_rates(records)
    assert set(rates) == set(recommend.FAMILIES)
    for family, rate in rates.items():
        assert RECOMMENDED[family].learning_rate == pytest.approx(rate), family
        assert RECOMMENDED[family].schedule == recommend.SCHEDULE, family


@pytest.mark.backend_independent
def test_quick_trains_each_family_at_its_recommendation():
    for run in experiments.runs("quick"):
        settings = recommended(run.model).settings()
        assert (run.learning_rate, run.schedule) == (
            settings["learning_rate"], settings["schedule"])


def test_an_unknown_family_is_named():
    with pytest.raises(KeyError, match="'nope_small'.*lstm"):
        recommended("nope_small")
