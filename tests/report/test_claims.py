"""The claims page: experiment files, verdict rules, and the page built from records."""

import math

import pytest

from zoo import experiments, report
from zoo.report import claims
from zoo.report.claims import common, gradients, vit
from zoo.runner import Run, train_and_evaluate

CLAIM_FILES = [name for name in experiments.names() if name.startswith("claim_")]


def test_every_claim_has_an_experiment_file():
    assert CLAIM_FILES == ["claim_gradients", "claim_heads", "claim_masking", "claim_norm",
                           "claim_positions", "claim_pretraining", "claim_vit"]


@pytest.mark.parametrize("profile", ["quick", "full"])
@pytest.mark.parametrize("name", CLAIM_FILES)
def test_each_setting_runs_with_three_seeds(name, profile):
    runs = experiments.runs(name, profile=profile)
    settings = {}
    for run in runs:
        settings.setdefault(run.replace(seed=0).run_id, set()).add(run.seed)
    assert settings and all(seeds == {0, 1, 2} for seeds in settings.values())
    sizes = {run.model.rsplit("_", 1)[-1] for run in runs}
    assert sizes == ({"small"} if profile == "quick" else {"base"})


def test_claims_lists_every_claim_run_once():
    union = experiments.runs("claims")
    ids = [run.run_id for run in union]
    assert len(ids) == len(set(ids))
    assert set(ids) == {r.run_id for name in CLAIM_FILES for r in experiments.runs(name)}
    # the default Transformer on listops is one run shared by heads, norm and pretraining
    heads = {r.run_id for r in experiments.runs("claim_heads")}
    norm = {r.run_id for r in experiments.runs("claim_norm")}
    pretraining = {r.run_id for r in experiments.runs("claim_pretraining")}
    assert len(heads & norm & pretraining) == 3 * 4  # 3 seeds x 4 learning rates searched


def test_a_bad_profile_is_named():
    with pytest.raises(ValueError, match="'huge'.*quick"):
        experiments.runs("claim_heads", profile="huge")


def test_separated_is_welchs_t_test_over_seeds():
    far = common.mean_std([0.90, 0.91, 0.89]), common.mean_std([0.50, 0.52, 0.48])
    assert common.separated(*far) and common.welch_p(*far) < 1e-4
    # scipy's Welch test on the raw seeds gives the same p-value
    from scipy import stats
    raw = stats.ttest_ind([0.90, 0.91, 0.89], [0.50, 0.52, 0.48], equal_var=False).pvalue
    assert common.welch_p(*far) == pytest.approx(raw)
    spread = common.mean_std([0.9, 0.5, 0.7]), common.mean_std([0.5, 0.9, 0.6])
    assert not common.separated(*spread)
    assert not common.separated(common.mean_std([0.9]), common.mean_std([0.1]))  # one seed
    assert common.separated(common.mean_std([1.0] * 3), common.mean_std([0.0] * 3))
    assert not common.separated(common.mean_std([0.9] * 3), (math.nan, math.nan))
    assert common.mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert common.mean_std([1.0, 2.0, 3.0]).n == 3
    assert math.isnan(common.mean_std([4.0])[1])


def test_gradient_profile_and_time_to_accuracy():
    near, far, ratio = gradients.gradient_profile([1.0] * 10 + [0.01] * 10)
    assert (near, far, ratio) == (1.0, 0.01, 0.01)
    record = {"metric": "accuracy", "validation": {"accuracy": [0.5, 0.8, 0.95]},
              "validation_train_seconds": [10.0, 20.0, 30.0]}
    assert vit.time_to_accuracy(record, 0.8) == 20.0
    assert vit.time_to_accuracy(record, 0.99) is None


def _train(runs, folder):
    for run in runs:
        train_and_evaluate(run, folder, verbose=0)


def test_the_page_is_built_from_records_with_verdicts_and_missing_claims_named(tmp_path):
    runs_root = tmp_path / "runs"
    lm = {"prefix_length": 4, "vocabulary_size": 6, "num_train": 64, "num_validation": 16,
          "num_test": 16}
    adding = {"sequence_length": 8, "num_train": 64, "num_validation": 16, "num_test": 16}
    budget = {"steps": 2, "batch_size": 16}
    runs = [Run(f"{family}_tiny", "adding", adding, probes=("gradients",), seed=seed, **budget)
            for family in ("rnn", "transformer") for seed in (0,)]
    runs += [Run("transformer_decoder_tiny", "repeat_lm", {**lm, "causal": causal},
                 {"causal": causal}, probes=("leak", "generation"), seed=seed, **budget)
             for causal in (True, False) for seed in (0,)]
    _train(runs, runs_root / "claims")
    results = tmp_path / "results"
    written = report.regenerate("claims", runs_root / "claims", results)
    assert [p.name for p in written[:2]] == ["claims.csv", "claims.md"]
    assert (results / "claims_gradients.png").stat().st_size > 1000
    page = (results / "claims.md").read_text()
    assert page.count("**Verdict:**") == 2  # gradients and masking have records
    assert "| 2 | vanishing gradients | rnn:" in page
    assert "| 7 | masked attention |" in page and "leak" in page
    for missing in ("claim_heads", "claim_norm", "claim_positions", "claim_pretraining",
                    "claim_vit", "long_range", "speed"):
        assert f"No records yet for this claim ({missing}" in page
    # the same records give the same page
    again = report.regenerate("claims", runs_root / "claims", tmp_path / "again")
    assert again[1].read_bytes() == written[1].read_bytes()
    assert "| 2 | vanishing gradients |" in claims.headline_table(results / "claims.md")


def test_a_comparison_missing_one_side_is_not_measured_yet(tmp_path):
    runs_root = tmp_path / "runs"
    lm = {"prefix_length": 4, "vocabulary_size": 6, "num_train": 64, "num_validation": 16,
          "num_test": 16, "causal": True}
    adding = {"sequence_length": 8, "num_train": 64, "num_validation": 16, "num_test": 16}
    budget = {"steps": 2, "batch_size": 16}
    _train([Run("rnn_tiny", "adding", adding, probes=("gradients",), **budget),
            Run("transformer_decoder_tiny", "repeat_lm", lm, {"causal": True},
                probes=("leak", "generation"), **budget)], runs_root / "claims")
    results = tmp_path / "results"
    report.regenerate("claims", runs_root / "claims", results)
    headline = claims.headline_table(results / "claims.md")
    # no Transformer to compare the RNN's gradients with, no run without the mask
    assert "| 2 | vanishing gradients | not measured yet (the rule compares with the " \
           "Transformer" in headline
    assert "| 7 | masked attention | not measured yet (the rule needs records with the " \
           "mask and without); with the mask:" in headline


def test_the_setting_a_claim_compares_is_chosen_on_validation_not_test():
    import pandas as pd

    def group(tests, validations):
        records = [{"metric": "accuracy", "status": "finished", "best_epoch": 0,
                    "validation": {"accuracy": [v]}, "run": {"seed": s}}
                   for s, v in enumerate(validations)]
        return pd.DataFrame({"test": tests, "record": records})

    pre = common.setting_scores(group([0.70, 0.72], [0.90, 0.92]))
    post = common.setting_scores(group([0.95, 0.97], [0.60, 0.62]))
    assert pre == (pytest.approx(0.71), pytest.approx(0.01414, abs=1e-4))
    assert pre.validation == pytest.approx(0.91) and pre.n == 2
    scores = {("imdb", "layer, pre"): pre, ("imdb", "layer, post"): post}
    # post has the better test score, pre the better validation score: pre is compared
    assert common.best_of(scores, "imdb", ("layer, post", "layer, pre")) == "layer, pre"
    # swapping the test scores leaves the choice where it was
    swapped = {("imdb", "layer, pre"): common.MeanStd(*post, 2, pre.validation),
               ("imdb", "layer, post"): common.MeanStd(*pre, 2, post.validation)}
    assert common.best_of(swapped, "imdb", ("layer, post", "layer, pre")) == "layer, pre"
    # a tie goes to the first in order; no validation score, no choice
    tie = {"a": common.MeanStd(0.1, 0.0, 3, 0.5), "b": common.MeanStd(0.9, 0.0, 3, 0.5)}
    assert common.chosen_on_validation(tie) == "a"
    assert common.chosen_on_validation({"a": common.mean_std([0.9, 0.8])}) is None
