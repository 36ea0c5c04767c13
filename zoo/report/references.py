"""Published reference numbers, set beside ours in the result tables.

Every number here is one of DESIGN.md's task table, converted to the scale
of the task's own metric (LRA ListOps Transformer 36.37 % -> 0.3637
accuracy). Nothing is measured or typed in elsewhere: a number not in that
table does not belong here.

    from zoo import references
    references.lookup("listops", "transformer")   # -> Reference(value=0.3637, ...)
    references.lookup("listops", "lstm")          # -> None

Matching a zoo row to a reference (`lookup(task, family)`) is by exact model
family. The published Transformers (LRA, keras-io, the pixel-MNIST baselines) are
bidirectional encoders that classify a whole sequence, which is the zoo's
`transformer` family; `transformer_decoder` (causal) and the `seq2seq_*`
families do not get them, because their setup differs in kind, not in detail.
keras-io's IMDB BiLSTM is set beside `lstm` rows (a bidirectional LSTM is the
`lstm` family with `bidirectional=True`; the table shows the overrides).
References for models the zoo does not have (S4) carry `family=None`: they
never sit in a row, but `for_task` lists them so a report can give context.
"""

import dataclasses
from typing import Optional

_LRA = "Long Range Arena, Tay et al. 2021 (ICLR), Table 1"
_S4 = "S4, Gu et al. 2022 (ICLR), LRA table"


@dataclasses.dataclass(frozen=True)
class Reference:
    """One published number for one task.

    task: the zoo task it applies to, e.g. `"listops"`.
    family: the zoo model family whose rows it sits beside (`"transformer"`),
        or None for a model outside the zoo (S4).
    model: the model as the source names it (`"Transformer"`, `"BiLSTM"`).
    value: the number on the scale of the task's metric (accuracy in 0..1).
    high: the upper end when the published numbers are a range (`value` is
        then the lower end), else None.
    source: where the number comes from.
    note: how the published setup differs from the zoo's task, in one line.
    """

    task: str
    family: Optional[str]
    model: str
    value: float
    source: str
    note: str
    high: Optional[float] = None

    def text(self):
        """The number as a table shows it: `"0.3637"` or `"0.982-0.989"`."""
        if self.high is None:
            return f"{self.value:.4g}"
        return f"{self.value:.4g}-{self.high:.4g}"


REFERENCES = (
    Reference("listops", "transformer", "Transformer", 0.3637, _LRA,
              "LRA tokens without closing brackets (our bracket fix keeps them); "
              "LRA's length window 500-2000."),
    Reference("listops", None, "S4", 0.5960, _S4,
              "S4 model (not in the zoo); S4's tokenizer keeps ']' like our bracket fix."),
    Reference("imdb", "transformer", "Transformer", 0.8745,
              "keras-io, Text classification with Transformer",
              "word level, 20k vocabulary, maxlen 200, 2 epochs; keras-io validates "
              "on the test set."),
    Reference("imdb", "lstm", "BiLSTM", 0.8428,
              "keras-io, Bidirectional LSTM on IMDB",
              "bidirectional LSTM, word level, 20k vocabulary, maxlen 200, 2 epochs; "
              "keras-io validates on the test set."),
    Reference("imdb_bytes", "transformer", "Transformer", 0.6427, _LRA,
              "LRA Text: raw review bytes; ours are rebuilt from Keras's word index "
              "(lowercase, no punctuation)."),
    Reference("smnist", "lstm", "LSTM", 0.982,
              "published LSTM baselines, range as given in DESIGN.md (papers not named there)",
              "range over papers with different LSTM sizes and training budgets.",
              high=0.989),
    Reference("smnist", "transformer", "Transformer", 0.989,
              "published Transformer baseline as given in DESIGN.md (paper not named there)",
              "pixel by pixel, 784 steps, as ours."),
    Reference("pmnist", "lstm", "LSTM", 0.88,
              "published LSTM baselines, range as given in DESIGN.md (papers not named there)",
              "range over papers; each paper draws its own fixed permutation.",
              high=0.951),
    Reference("pmnist", "transformer", "Transformer", 0.979,
              "published Transformer baseline as given in DESIGN.md (paper not named there)",
              "the paper's own fixed permutation, not ours."),
    Reference("scifar", "transformer", "Transformer", 0.4244, _LRA,
              "LRA Image: grayscale CIFAR-10 as 1024 pixel tokens, as ours."),
    Reference("scifar", None, "S4", 0.8865, _S4,
              "S4 model (not in the zoo)."),
)


def for_task(task):
    """Every reference of `task` (zoo families first, then others), as a list."""
    return [r for r in REFERENCES if r.task == task and r.family is not None] + [
        r for r in REFERENCES if r.task == task and r.family is None
    ]


def lookup(task, family):
    """The reference beside rows of model `family` on `task`, or None.

    `family` is the model name before its size, e.g. `"transformer"` for
    `transformer_small`; the match is exact (see the module docstring).
    """
    if family is None:
        return None
    for reference in REFERENCES:
        if reference.task == task and reference.family == family:
            return reference
    return None
