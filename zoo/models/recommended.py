"""Recommended training settings per family, kept with the presets (as
timm keeps a default config with each model), each with where it came from.

    zoo.models.recommended("lstm_small").settings()
    # {"learning_rate": 0.03, "schedule": "warmup_cosine"}

They are starting points, not the protocol: comparisons search the learning
rate per model and choose on validation (`zoo.runner.Search`,
`zoo.report.selection`). `zoo run quick`, which has no room for a search,
trains each family at its recommended settings.
"""

import dataclasses

from zoo.names import split_model_name

# The zoo's one schedule (warm-up + cosine), the one every comparison trains
# with. The rates of rnn, lstm, gru and transformer were measured at quick's
# budget by `zoo run recommend` (results/recommend.md): quick's two tasks,
# 1,000 steps of 64, rates 1e-4 to 1e-1 at seeds 0-2, the rate with the best
# mean rank of validation score over both tasks (`recommend.chosen_rates`).
# The rates of lru, mingru, minlstm and linear_transformer, families quick
# does not train, come from the same rule applied to long_range's seed-0
# grids (its 8 cells: 4 tasks at 2 lengths; on those records the rule gives
# rnn 1e-3 and transformer 3e-3 too, and lstm and gru 1e-2, as 3e-2 was not
# tried in every cell). tests/models/test_recommended.py keeps both equal to
# what the committed records (results/runs/recommend/, results/runs/long_range/)
# choose.
SCHEDULE = "warmup_cosine"

_RECOMMEND = ("zoo run recommend (results/recommend.md): best mean rank of mean validation "
              "score over seeds 0-2 on adding T=50 and copying T=10 at 1,000 steps of 64, "
              "warm-up + cosine, of the {tried} rates tried on both; {outcome}")
_LONG_RANGE = ("zoo run long_range (results/long_range.md): best mean rank of seed-0 validation "
               "score over its 8 cells (adding, associative_recall, copying and "
               "selective_copying at two lengths each) at 1,000 steps of 64, warm-up + cosine, "
               "of the {tried} rates tried in every cell; at this rate seed 0 solves {solved}")
_LONGER = ("transformer_small pre-norm solves associative_recall T=32 at 1e-3 with warm-up + "
           "cosine in 500-800 steps (issue 14); not measured at this rate for this family")
_PAPER = ("the paper's rate for its synthetic tasks; not measured here: no committed run "
          "trains mamba (long_range trains it in its full profile only)")


@dataclasses.dataclass(frozen=True)
class Recommendation:
    learning_rate: float
    source: str
    schedule: str = SCHEDULE
    measured_by: str | None = None  # the experiment whose records chose the rate

    def settings(self):
        """The `Run` fields this recommends."""
        return {"learning_rate": self.learning_rate, "schedule": self.schedule}

    def describe(self):
        """One line: the settings and whether they were measured here."""
        where = (f"chosen on validation by `zoo run {self.measured_by}`" if self.measured_by
                 else "not measured here")
        return f"learning_rate={self.learning_rate:g}, schedule={self.schedule} ({where})"


def _measured(experiment, learning_rate, source):
    return Recommendation(learning_rate, source, measured_by=experiment)


RECOMMENDED = {
    "rnn": _measured("recommend", 1e-3, _RECOMMEND.format(
        tried=4, outcome="solves copying on 3/3 seeds (also at 3e-4); adding at no rate "
        "(best validation mse 0.076 here, baseline 0.167)")),
    "lstm": _measured("recommend", 3e-2, _RECOMMEND.format(
        tried=6, outcome="solves adding on 3/3 seeds (also at 3e-3 and 1e-2); copying at no "
        "rate (0.24 here, chance 0.125)")),
    "gru": _measured("recommend", 3e-2, _RECOMMEND.format(
        tried=6, outcome="solves adding on 3/3 seeds (at every rate from 1e-3); copying at no "
        "rate (0.69 here)")),
    "transformer": _measured("recommend", 3e-3, _RECOMMEND.format(
        tried=4, outcome="solves both on 3/3 seeds (adding at every rate tried, copying at 3e-4 "
        "to 3e-3; at 1e-2, adding's best, copying fails on seed 0)")),
    "transformer_decoder": Recommendation(1e-3, _LONGER),
    "linear_transformer": _measured("long_range", 1e-2, _LONG_RANGE.format(
        tried=4, solved="4 of 8 cells (adding and copying at both lengths)")),
    "lru": _measured("long_range", 1e-2, _LONG_RANGE.format(
        tried=4, solved="5 of 8 cells (adding and copying at both lengths, selective_copying "
        "T=16); Orvieto et al. 2023 train with Adam(W) at 1e-3 to 4e-3")),
    "mingru": _measured("long_range", 3e-3, _LONG_RANGE.format(
        tried=4, solved="2 of 8 cells (adding at both lengths)")),
    "minlstm": _measured("long_range", 3e-3, _LONG_RANGE.format(
        tried=4, solved="2 of 8 cells (adding at both lengths)")),
    "mamba": Recommendation(1e-3, "Gu & Dao 2023 (selective copying, induction heads): "
                            + _PAPER),
    "vit": Recommendation(1e-3, "keras-io's ViT example (AdamW 1e-3); not measured here as a "
                          "recommendation (claim 9 searches the rate on its one task)"),
    "seq2seq_transformer": Recommendation(1e-3, "as transformer_decoder; not measured here"),
    "seq2seq_lstm": Recommendation(3e-3, "the rate lstm had before `zoo run recommend`; "
                                   "not measured for seq2seq"),
}


def recommended(model):
    """The `Recommendation` of model `model` (`"lstm_small"`) or of a family."""
    family, _ = split_model_name(model)
    for name in (family, model):
        if name in RECOMMENDED:
            return RECOMMENDED[name]
    raise KeyError(f"No recommended settings for {model!r}; families with them: "
                   f"{sorted(RECOMMENDED)}")
