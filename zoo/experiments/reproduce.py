"""reproduce: published numbers, each rerun here in the setting it was
published in, as closely as the zoo can express it (issue 17).

The rows are data in `zoo.published` (`ROWS`): for every row, which published
numbers it is compared with, the model (a preset and overrides: no model is
written for this experiment), the task and its knobs, the training budget,
which score of the record to read, and every way our setting differs from
the source's. The report (`zoo report reproduce`) reads the same rows and the
records; this module only turns the rows into runs, three seeds each:

`quick` = the rows a 2-core CPU trains (3.5 core-hours: about 1.75 hours with the parallel
sweep, `--workers 2`; keras-io's IMDB Transformer and BiLSTM, addition_rnn, SCAN's three
splits, Zoology's MQAR, Mamba's induction-heads table for MHA-Abs and
MHA-RoPE), `full` = the rows that need an accelerator (LRA ListOps, Text
and Image, sequential and permuted MNIST, MQAR at Zoology's vocabulary of
8,192, Mamba's induction-heads table at its budget and test lengths to 16,384).
"""

from zoo.published import ROWS, SEEDS, rows  # noqa: F401  (the experiment's rows)
from zoo.runner import Run

DESCRIPTION = ("published numbers rerun in their setting: keras-io IMDB Transformer/BiLSTM, "
               "addition_rnn, SCAN, Zoology MQAR, Mamba induction heads (quick); LRA, "
               "s/pMNIST, induction heads to 16,384 (full)")
PROFILES = ("quick", "full")


def row_runs(row):
    """The runs of one row (`zoo.published.Row`), one per seed of `SEEDS`."""
    return [Run(**row.run_fields(seed)) for seed in SEEDS]


def runs(profile="quick"):
    return [run for row in rows(profile) for run in row_runs(row)]
