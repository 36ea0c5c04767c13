"""Run records -> one row per configuration (mean ± std over seeds), and the
short per-run table `zoo run` prints.

    from zoo import report
    records = report.load_records("results/runs/quick")    # every */metrics.json
    table = report.aggregate(records)                       # one row per configuration
    report.write_report("quick", "results/runs/quick", "results")

`aggregate` folds the seeds of one configuration into one row: mean and
sample standard deviation (ddof=1; NaN for a single seed) of the test metric
over the finished seeds, how many seeds solved the task, the published
reference number beside it (`zoo.report.references`), and the medians of speed and
memory over the finished seeds. A configuration is every field of the run
but its seed, plus the backend and device it ran on (so a CPU and a GPU
measurement never share a mean). Diverged runs count as seeds that did not
solve; they are counted in their own column and left out of the means.

Columns that need a word: `length` is the input length the model sees
(the record's `input_length`; for seq2seq the encoder's); `best` / `best
seed` the best finished seed; `seeds solved` counts seeds whose test metric
counts as solved and `solved (majority)` says whether more than half did;
`time to solve s` is the median, over the seeds that got there, of the
seconds until validation first counted as solved; `extra tests` gives the
mean over seeds of each further test split (e.g. longer test lengths).

`write_report` writes `NAME.csv` (the aggregate), `NAME.md` and PNG plots.
The same records give byte-identical CSV and Markdown: no timestamps, fixed
column order, fixed float formatting, a deterministic row order.

Records written before a field existed are read as they are: a missing value
shows as "-" (NaN in the CSV), never as an error.
"""

import json
import math
import statistics

import numpy as np
import pandas as pd

from zoo.names import family_rank, size_rank, split_model_name
from zoo.record import load_run_records
from zoo.report import references
from zoo.report.selection import (  # noqa: F401 (as_float: the reports' name for it)
    as_float,
    choose,
    group_records,
    higher_is_better,
    search_value,
    searched,
)

_BACKEND_LIBRARIES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"),
                      "torch": ("torch",)}
_RUN_IDENTITY = ("model", "task", "task_knobs", "model_overrides", "seed")
_BUDGET_ORDER = ("epochs", "steps", "max_seconds", "batch_size", "optimizer", "learning_rate",
                 "schedule", "weight_decay", "clipnorm", "jit_compile", "precision")

# The aggregate's columns, in CSV order, with their types.
COLUMNS = {
    "task": "str", "input_length": "int", "model": "str", "family": "str", "size": "str",
    "task_knobs": "str", "model_overrides": "str", "budget": "str",
    "searched": "str", "search_value": "str", "tried": "int", "selected": "bool",
    "validation_mean": "float",
    "seeds": "int", "finished": "int", "diverged": "int",
    "metric": "str", "higher_is_better": "bool", "test_mean": "float", "test_std": "float",
    "best": "float", "best_seed": "int", "seeds_solved": "int", "solved_majority": "bool",
    "baseline": "float", "solved_at": "float", "reference": "str", "reference_source": "str",
    "params_total": "int", "params_embedding": "int", "params_mixer": "int", "params_head": "int",
    "state_size": "int",
    "flops_per_example": "int", "train_steps_per_second": "float", "train_samples_per_second": "float",
    "train_tokens_per_second": "float", "inference_samples_per_second": "float", "peak_memory_mb": "float",
    "peak_memory_kind": "str", "time_to_solve_seconds": "float", "train_seconds": "float",
    "extra_tests": "str", "backend": "str", "device": "str", "precision": "str",
    "commit": "str",
}


# Labels of columns in the Markdown, where the record's name would read worse.
LABELS = {"task_knobs": "knobs", "model_overrides": "overrides",
          "train_tokens_per_second": "train tokens/s",
          "train_samples_per_second": "train samples/s"}


# ---------------------------------------------------------------- loading


def load_records(runs_dir):
    """The run records under `runs_dir`, sorted by run id (`zoo.record`)."""
    return load_run_records(runs_dir)


# ---------------------------------------------------------------- one record


def _compact(value):
    """A knob value as one token: `0.003`, `True`, `[512,1024]`, `sinusoidal`."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _budget(run):
    """The run's settings but its identity and its searched settings, less
    those that are switched off (no probes; a mask rate without pretraining)."""
    budget = {k: v for k, v in run.items()
              if k not in _RUN_IDENTITY and k not in searched(run) and k != "searched"}
    if not budget.get("probes"):
        budget.pop("probes", None)
    if budget.get("pretrain_steps") is None:
        budget.pop("pretrain_mask_rate", None)
    return budget


def _unsearched(run, group):
    """`run[group]` (its knobs or overrides) less the searched ones."""
    return {k: v for k, v in (run.get(group) or {}).items()
            if f"{group}.{k}" not in searched(run)}


def selected_rows(table):
    """The rows a page shows: each cell at its chosen value."""
    return table[table["selected"].fillna(True).astype(bool)]


def _settings(mapping, order=()):
    """`"name=value name=value"`: the `order` names first, then the rest sorted."""
    mapping = {k: v for k, v in (mapping or {}).items() if v is not None}
    names = [k for k in order if k in mapping] + sorted(k for k in mapping if k not in order)
    return " ".join(f"{k}={_compact(mapping[k])}" for k in names)


def family_and_size(model):
    """`"transformer_decoder_small"` -> `("transformer_decoder", "small")`."""
    family, size = split_model_name(model)
    return (family, size) if family else (str(model), "")


def metric_value(record):
    test = record.get("test") or {}
    return as_float(test.get(record.get("metric")))


def input_length(record):
    """The sequence length the model saw: `input_length` (the encoder's for
    seq2seq), else the `sequence_length` knob of older records, else None."""
    length = record.get("input_length")
    if isinstance(length, dict):  # seq2seq: {"encoder": T, "decoder": target length}
        length = length.get("encoder")
    if isinstance(length, (int, float)) and not isinstance(length, bool):
        return int(length)
    length = ((record.get("run") or {}).get("task_knobs") or {}).get("sequence_length")
    return int(length) if isinstance(length, (int, float)) else None


def peak_memory(record):
    """`(MB, kind)`: `peak_memory_mb`, or older records' `peak_rss_mb` (host RSS)."""
    if record.get("peak_memory_mb") is not None:
        return as_float(record["peak_memory_mb"]), record.get("peak_memory_kind") or ""
    if record.get("peak_rss_mb") is not None:
        return as_float(record["peak_rss_mb"]), "host_rss"
    return math.nan, ""


# ---------------------------------------------------------------- aggregate


def _extra_value(record, split):
    return as_float(((record.get("extra_tests") or {}).get(split) or {}).get(record.get("metric")))


def _mean(values):
    # `statistics` rounds exactly: the same seeds give the same bits on any machine.
    values = [v for v in map(as_float, values) if math.isfinite(v)]
    return statistics.fmean(values) if values else math.nan


def _median(values):
    values = [v for v in map(as_float, values) if math.isfinite(v)]
    return float(statistics.median(values)) if values else math.nan


def joined(values):
    return " ".join(sorted({str(v) for v in values if v not in (None, "")}))


def _first_given(records, key):  # the same for every seed, and older records lack some
    return next((r[key] for r in records if r.get(key) is not None), None)


def _aggregate_one(group, choice):
    """The row of one configuration's records (its seeds); `choice`: what the
    search of its cell tried and chose (`zoo.report.selection.choose`)."""
    first = group[0]
    run, environment = first.get("run") or {}, first.get("environment") or {}
    params = first.get("params") or {}
    finished = [r for r in group if r.get("status", "finished") == "finished"]
    scored = [(r, metric_value(r)) for r in finished]
    scored = [(r, v) for r, v in scored if math.isfinite(v)]
    values = [v for _, v in scored]
    higher = higher_is_better(first)
    best = (max if higher else min)(scored, key=lambda pair: pair[1]) if scored else None
    solved = sum(bool(r.get("solved")) for r in finished)
    family, size = family_and_size(run.get("model", ""))
    reference = references.lookup(run.get("task"), family)
    memory = [peak_memory(r) for r in finished]
    extra_names = sorted({name for r in finished for name in (r.get("extra_tests") or {})})
    extra = " ".join(f"{name}={number(_mean(_extra_value(r, name) for r in finished))}"
                     for name in extra_names)
    return {
        "task": run.get("task"), "input_length": input_length(first), "model": run.get("model"),
        "family": family, "size": size,
        "task_knobs": _settings(_unsearched(run, "task_knobs")),
        "model_overrides": _settings(_unsearched(run, "model_overrides")),
        "budget": _settings(_budget(run), _BUDGET_ORDER),
        "searched": " ".join(searched(run)), "search_value": search_value(run),
        "tried": choice["tried"], "selected": choice["selected"],
        "validation_mean": choice["validation_mean"],
        "seeds": len(group), "finished": len(finished),
        "diverged": sum(r.get("status") == "diverged" for r in group),
        "metric": first.get("metric"), "higher_is_better": higher,
        "test_mean": _mean(values),
        "test_std": statistics.stdev(values) if len(values) > 1 else math.nan,
        "best": best[1] if best else math.nan,
        "best_seed": (best[0].get("run") or {}).get("seed") if best else None,
        "seeds_solved": solved, "solved_majority": 2 * solved > len(group),
        "baseline": as_float(first.get("baseline")), "solved_at": as_float(first.get("solved_at")),
        "reference": reference.text() if reference else "",
        "reference_source": reference.source if reference else "",
        "params_total": params.get("total"), "params_embedding": params.get("embedding"),
        "params_mixer": params.get("mixer"), "params_head": params.get("head"),
        **{key: _first_given(group, key) for key in ("state_size", "flops_per_example")},
        **{column: _median(r.get(key) for r in finished) for column, key in (
            ("train_steps_per_second", "train_steps_per_second"),
            ("train_samples_per_second", "train_samples_per_second"),
            ("train_tokens_per_second", "train_tokens_per_second"),
            ("inference_samples_per_second", "inference_samples_per_second"),
            ("time_to_solve_seconds", "time_to_solve_seconds"),
            ("train_seconds", "train_seconds"),
        )},
        "peak_memory_mb": _median(mb for mb, _ in memory),
        "peak_memory_kind": joined(kind for _, kind in memory),
        "extra_tests": extra,
        "backend": environment.get("backend"), "device": environment.get("device"),
        "precision": run.get("precision") or environment.get("precision"),
        "commit": joined((r.get("environment") or {}).get("commit") for r in group),
    }


def _row_order(row):
    length = row["input_length"] if row["input_length"] is not None else math.inf
    return (str(row["task"]), length, family_rank(row["family"]), size_rank(row["size"]),
            row["size"],
            str(row["model"]), row["task_knobs"], row["model_overrides"], row["budget"],
            row["search_value"],
            str(row["backend"]), str(row["device"]))


def _column(values, kind):
    if kind == "int":
        return pd.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                         else int(v) for v in values], dtype="Int64")
    if kind == "float":
        return np.array([as_float(v) for v in values], dtype="float64")
    if kind == "bool":
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    return pd.array(["" if v is None else str(v) for v in values], dtype=object)


def aggregate(records):
    """One row per configuration (all run fields but the seed), as a DataFrame.

    Columns are `COLUMNS`, in that order. Rows are ordered by task, input
    length, family (rnn, lstm, gru, transformer, transformer_decoder,
    seq2seq_*, vit, then others alphabetically), size, then the settings.
    """
    groups = group_records(records)
    chosen = choose(groups)
    rows = sorted((_aggregate_one(group, chosen[key]) for key, group in groups.items()),
                  key=_row_order)
    return pd.DataFrame({name: _column([row[name] for row in rows], kind)
                         for name, kind in COLUMNS.items()})


def solved_lengths(table):
    """Per (task, model series): which lengths were solved, and the longest.

    A length counts as solved by a model when a majority of its seeds solved
    it (diverged seeds count as not solved). Only tasks run at two or more
    lengths appear. Columns: task, model (the series label of the plots),
    lengths, solved lengths (both lists of ints) and longest solved (Int64,
    NA when no length was solved), plus `marks` `{length: "✓ 3/3"}`.
    """
    rows = []
    for task, task_rows in multi_length_tasks(selected_rows(table)):
        for series, group in task_rows.groupby("series", sort=False):  # family order
            group = group.sort_values("input_length")
            lengths = [int(n) for n in group["input_length"]]
            solved = [int(n) for n, ok in zip(group["input_length"], group["solved_majority"]) if ok]
            rows.append({
                "task": task, "model": series, "lengths": lengths, "solved lengths": solved,
                "longest solved": max(solved) if solved else None,
                "marks": {int(r["input_length"]): solved_mark(r) for _, r in group.iterrows()},
            })
    table = pd.DataFrame(rows, columns=["task", "model", "lengths", "solved lengths",
                                        "longest solved", "marks"])
    return table.astype({"longest solved": "Int64"})


def multi_length_tasks(table):
    """`(task, rows with a "series" column)` for each task run at >= 2 lengths."""
    for task, rows in table.groupby("task", sort=True):
        rows = rows[rows["input_length"].notna()]
        if rows["input_length"].nunique() >= 2:
            yield task, rows.assign(series=_series_labels(rows))


def knobs_beside_length(row):
    """The knobs less `sequence_length` when the length column already says it."""
    said = f"sequence_length={row['input_length']}"
    return " ".join(t for t in row["task_knobs"].split() if t != said)


def _series_labels(rows):
    """A line label per row: the model, plus whatever else tells two rows of one length apart."""
    labels = rows["model"].astype(str)
    other_knobs = rows.apply(knobs_beside_length, axis=1)
    for values in (rows["model_overrides"], other_knobs, rows["budget"], rows["backend"],
                   rows["device"]):
        if not pd.DataFrame({"l": labels, "x": rows["input_length"]}).duplicated().any():
            break
        if values.nunique() > 1:
            labels = labels + values.map(lambda v: f" {v}" if v else "")
    return labels


# ---------------------------------------------------------------- text


def missing(value):
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def number(value, digits=4):
    return "-" if missing(value) else f"{float(value):.{digits}g}"


def human(value):
    """`1234567` -> `"1.23M"`; "-" when missing."""
    if missing(value):
        return "-"
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def mean_and_std(row):
    """`"0.9812 ± 0.0031"`; `"0.9812 ± -"` for one seed; `"-"` when no seed finished."""
    if missing(row["test_mean"]):
        return "-"
    return f"{number(row['test_mean'])} ± {number(row['test_std'], 2)}"


def solved_mark(row):
    mark = "✓" if row["solved_majority"] else "✗"
    return f"{mark} {row['seeds_solved']}/{row['seeds']}"


def summary_table(records):
    """One row per run: model, task, length, params, test metric, speed, status."""
    rows = []
    for record in records:
        run, environment = record.get("run") or {}, record.get("environment") or {}
        rows.append({
            "model": run.get("model"), "task": run.get("task"),
            "knobs": _settings({k: v for k, v in (run.get("task_knobs") or {}).items()
                                if not k.startswith("num_")}),
            "seed": run.get("seed"), "length": input_length(record),
            "params": (record.get("params") or {}).get("total"),
            "mixer params": (record.get("params") or {}).get("mixer"),
            "metric": record.get("metric"), "test": metric_value(record),
            "baseline": as_float(record.get("baseline")),
            "solved": bool(record.get("solved")),
            "train samples/s": as_float(record.get("train_samples_per_second")),
            "train tokens/s": as_float(record.get("train_tokens_per_second")),
            "peak MB": peak_memory(record)[0],
            "status": record.get("status"), "backend": environment.get("backend"),
        })
    return pd.DataFrame(rows)


def format_table(table):
    """A plain-text table with rounded numbers; "-" for missing values."""
    formatters = {"test": number, "baseline": number, "train samples/s": human,
                  "train tokens/s": human, "peak MB": lambda v: number(v, 5),
                  "params": human, "mixer params": human}
    return table.to_string(index=False, na_rep="-", formatters={
        k: v for k, v in formatters.items() if k in table})
