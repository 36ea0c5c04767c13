"""Run records -> tables, Markdown and plots, regenerated from the records alone.

    from zoo import report
    records = report.load_records("results/runs/quick")    # every */metrics.json
    table = report.aggregate(records)                       # one row per configuration
    report.write_report("quick", "results/runs/quick", "results")

`aggregate` folds the seeds of one configuration into one row: mean and
sample standard deviation (ddof=1; NaN for a single seed) of the test metric
over the finished seeds, how many seeds solved the task, the published
reference number beside it (`zoo.references`), and the medians of speed and
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
from pathlib import Path

import numpy as np
import pandas as pd

from zoo import references

RECORD_FILE = "metrics.json"  # as zoo.runner.RECORD_FILE; not imported: reports need no Keras
FAMILY_ORDER = ("rnn", "lstm", "gru", "transformer", "transformer_decoder")
SIZE_ORDER = ("tiny", "small", "base")
LOWER_IS_BETTER = ("mse", "mae", "loss")  # for records older than `higher_is_better`
_BACKEND_LIBRARIES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"),
                      "torch": ("torch",)}
_RUN_IDENTITY = ("model", "task", "task_knobs", "model_overrides", "seed")
_BUDGET_ORDER = ("epochs", "steps", "max_seconds", "batch_size", "optimizer", "learning_rate",
                 "schedule", "weight_decay", "clipnorm", "jit_compile", "precision")

# The aggregate's columns, in CSV order, with their types.
COLUMNS = {
    "task": "str", "length": "int", "model": "str", "family": "str", "size": "str",
    "knobs": "str", "overrides": "str", "budget": "str",
    "seeds": "int", "finished": "int", "diverged": "int",
    "metric": "str", "higher is better": "bool", "test mean": "float", "test std": "float",
    "best": "float", "best seed": "int", "seeds solved": "int", "solved (majority)": "bool",
    "baseline": "float", "solved at": "float", "reference": "str", "reference source": "str",
    "params": "int", "embedding params": "int", "mixer params": "int", "head params": "int",
    "flops/example": "int", "train steps/s": "float", "train samples/s": "float",
    "train tokens/s": "float", "inference samples/s": "float", "peak memory MB": "float",
    "peak memory kind": "str", "time to solve s": "float", "train seconds": "float",
    "extra tests": "str", "backend": "str", "device": "str", "precision": "str",
    "commit": "str",
}


# ---------------------------------------------------------------- loading


def load_records(runs_dir):
    """The records (`<runs_dir>/*/metrics.json`) of every finished run, by run id.

    Raises `FileNotFoundError` naming the folder when it does not exist or
    holds no finished run, and `ValueError` naming a record that is not JSON.
    """
    folder = Path(runs_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"No run folder at {folder.resolve()}: nothing to report.")
    records = []
    for path in folder.glob(f"*/{RECORD_FILE}"):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"Run record {path} is not valid JSON: {error}") from error
        record.setdefault("run_id", path.parent.name)
        records.append(record)
    if not records:
        raise FileNotFoundError(
            f"No run records (*/{RECORD_FILE}) under {folder.resolve()}; "
            "train them first with `zoo run NAME --out DIR`."
        )
    return sorted(records, key=lambda r: str(r["run_id"]))


# ---------------------------------------------------------------- one record


def _float(value):
    """A float, or NaN for None / non-numbers."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _compact(value):
    """A knob value as one token: `0.003`, `True`, `[512,1024]`, `sinusoidal`."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _budget(run):
    """The run's settings but its identity, less those that are switched off
    (no probes; a mask rate without pretraining)."""
    budget = {k: v for k, v in run.items() if k not in _RUN_IDENTITY}
    if not budget.get("probes"):
        budget.pop("probes", None)
    if budget.get("pretrain_steps") is None:
        budget.pop("pretrain_mask_rate", None)
    return budget


def _settings(mapping, order=()):
    """`"name=value name=value"`: the `order` names first, then the rest sorted."""
    mapping = {k: v for k, v in (mapping or {}).items() if v is not None}
    names = [k for k in order if k in mapping] + sorted(k for k in mapping if k not in order)
    return " ".join(f"{k}={_compact(mapping[k])}" for k in names)


def family_and_size(model):
    """`"transformer_decoder_small"` -> `("transformer_decoder", "small")`."""
    family, _, size = str(model).rpartition("_")
    return (family, size) if family else (str(model), "")


def _metric_value(record):
    test = record.get("test") or {}
    return _float(test.get(record.get("metric")))


def _higher_is_better(record):
    value = record.get("higher_is_better")
    if value is None:
        return record.get("metric") not in LOWER_IS_BETTER
    return bool(value)


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


def _peak_memory(record):
    """`(MB, kind)`: `peak_memory_mb`, or older records' `peak_rss_mb` (host RSS)."""
    if record.get("peak_memory_mb") is not None:
        return _float(record["peak_memory_mb"]), record.get("peak_memory_kind") or ""
    if record.get("peak_rss_mb") is not None:
        return _float(record["peak_rss_mb"]), "host_rss"
    return math.nan, ""


def _configuration(record):
    """What makes two records seeds of one configuration: the run but its seed, and where."""
    run = {k: v for k, v in (record.get("run") or {}).items() if k != "seed"}
    environment = record.get("environment") or {}
    where = {"backend": environment.get("backend"), "device": environment.get("device")}
    return json.dumps({"run": run, "where": where}, sort_keys=True, default=str)


# ---------------------------------------------------------------- aggregate


def _extra_value(record, split):
    return _float(((record.get("extra_tests") or {}).get(split) or {}).get(record.get("metric")))


def _mean(values):
    # `statistics` rounds exactly: the same seeds give the same bits on any machine.
    values = [v for v in map(_float, values) if math.isfinite(v)]
    return statistics.fmean(values) if values else math.nan


def _median(values):
    values = [v for v in map(_float, values) if math.isfinite(v)]
    return float(statistics.median(values)) if values else math.nan


def _joined(values):
    return " ".join(sorted({str(v) for v in values if v not in (None, "")}))


def _aggregate_one(group):
    """The row of one configuration's records (its seeds)."""
    first = group[0]
    run, environment = first.get("run") or {}, first.get("environment") or {}
    params = first.get("params") or {}
    finished = [r for r in group if r.get("status", "finished") == "finished"]
    scored = [(r, _metric_value(r)) for r in finished]
    scored = [(r, v) for r, v in scored if math.isfinite(v)]
    values = [v for _, v in scored]
    higher = _higher_is_better(first)
    best = (max if higher else min)(scored, key=lambda pair: pair[1]) if scored else None
    solved = sum(bool(r.get("solved")) for r in finished)
    family, size = family_and_size(run.get("model", ""))
    reference = references.lookup(run.get("task"), family)
    memory = [_peak_memory(r) for r in finished]
    extra_names = sorted({name for r in finished for name in (r.get("extra_tests") or {})})
    extra = " ".join(f"{name}={_number(_mean(_extra_value(r, name) for r in finished))}"
                     for name in extra_names)
    return {
        "task": run.get("task"), "length": input_length(first), "model": run.get("model"),
        "family": family, "size": size,
        "knobs": _settings(run.get("task_knobs")),
        "overrides": _settings(run.get("model_overrides")),
        "budget": _settings(_budget(run), _BUDGET_ORDER),
        "seeds": len(group), "finished": len(finished),
        "diverged": sum(r.get("status") == "diverged" for r in group),
        "metric": first.get("metric"), "higher is better": higher,
        "test mean": _mean(values),
        "test std": statistics.stdev(values) if len(values) > 1 else math.nan,
        "best": best[1] if best else math.nan,
        "best seed": (best[0].get("run") or {}).get("seed") if best else None,
        "seeds solved": solved, "solved (majority)": 2 * solved > len(group),
        "baseline": _float(first.get("baseline")), "solved at": _float(first.get("solved_at")),
        "reference": reference.text() if reference else "",
        "reference source": reference.source if reference else "",
        "params": params.get("total"), "embedding params": params.get("embedding"),
        "mixer params": params.get("mixer"), "head params": params.get("head"),
        "flops/example": first.get("flops_per_example"),
        **{column: _median(r.get(key) for r in finished) for column, key in (
            ("train steps/s", "train_steps_per_second"),
            ("train samples/s", "train_samples_per_second"),
            ("train tokens/s", "train_tokens_per_second"),
            ("inference samples/s", "inference_samples_per_second"),
            ("time to solve s", "time_to_solve_seconds"),
            ("train seconds", "train_seconds"),
        )},
        "peak memory MB": _median(mb for mb, _ in memory),
        "peak memory kind": _joined(kind for _, kind in memory),
        "extra tests": extra,
        "backend": environment.get("backend"), "device": environment.get("device"),
        "precision": run.get("precision") or environment.get("precision"),
        "commit": _joined((r.get("environment") or {}).get("commit") for r in group),
    }


def _family_rank(family):
    if family in FAMILY_ORDER:
        return (FAMILY_ORDER.index(family), "")
    if family.startswith("seq2seq_"):
        return (len(FAMILY_ORDER), family)
    if family == "vit":
        return (len(FAMILY_ORDER) + 1, "")
    return (len(FAMILY_ORDER) + 2, family)


def _row_order(row):
    length = row["length"] if row["length"] is not None else math.inf
    size = SIZE_ORDER.index(row["size"]) if row["size"] in SIZE_ORDER else len(SIZE_ORDER)
    return (str(row["task"]), length, _family_rank(row["family"]), size, row["size"],
            str(row["model"]), row["knobs"], row["overrides"], row["budget"],
            str(row["backend"]), str(row["device"]))


def _column(values, kind):
    if kind == "int":
        return pd.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                         else int(v) for v in values], dtype="Int64")
    if kind == "float":
        return np.array([_float(v) for v in values], dtype="float64")
    if kind == "bool":
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    return pd.array(["" if v is None else str(v) for v in values], dtype=object)


def aggregate(records):
    """One row per configuration (all run fields but the seed), as a DataFrame.

    Columns are `COLUMNS`, in that order. Rows are ordered by task, input
    length, family (rnn, lstm, gru, transformer, transformer_decoder,
    seq2seq_*, vit, then others alphabetically), size, then the settings.
    """
    groups = {}
    for record in records:
        groups.setdefault(_configuration(record), []).append(record)
    rows = sorted((_aggregate_one(group) for group in groups.values()), key=_row_order)
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
    for task, task_rows in _multi_length_tasks(table):
        for series, group in task_rows.groupby("series", sort=False):  # family order
            group = group.sort_values("length")
            lengths = [int(n) for n in group["length"]]
            solved = [int(n) for n, ok in zip(group["length"], group["solved (majority)"]) if ok]
            rows.append({
                "task": task, "model": series, "lengths": lengths, "solved lengths": solved,
                "longest solved": max(solved) if solved else None,
                "marks": {int(r["length"]): _solved_mark(r) for _, r in group.iterrows()},
            })
    table = pd.DataFrame(rows, columns=["task", "model", "lengths", "solved lengths",
                                        "longest solved", "marks"])
    return table.astype({"longest solved": "Int64"})


def _multi_length_tasks(table):
    """`(task, rows with a "series" column)` for each task run at >= 2 lengths."""
    for task, rows in table.groupby("task", sort=True):
        rows = rows[rows["length"].notna()]
        if rows["length"].nunique() >= 2:
            yield task, rows.assign(series=_series_labels(rows))


def _knobs_beside_length(row):
    """The knobs less `sequence_length` when the length column already says it."""
    said = f"sequence_length={row['length']}"
    return " ".join(t for t in row["knobs"].split() if t != said)


def _series_labels(rows):
    """A line label per row: the model, plus whatever else tells two rows of one length apart."""
    labels = rows["model"].astype(str)
    other_knobs = rows.apply(_knobs_beside_length, axis=1)
    for values in (rows["overrides"], other_knobs, rows["budget"], rows["backend"],
                   rows["device"]):
        if not pd.DataFrame({"l": labels, "x": rows["length"]}).duplicated().any():
            break
        if values.nunique() > 1:
            labels = labels + values.map(lambda v: f" {v}" if v else "")
    return labels


# ---------------------------------------------------------------- text


def _missing(value):
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _number(value, digits=4):
    return "-" if _missing(value) else f"{float(value):.{digits}g}"


def _human(value):
    """`1234567` -> `"1.23M"`; "-" when missing."""
    if _missing(value):
        return "-"
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _mean_and_std(row):
    """`"0.9812 ± 0.0031"`; `"0.9812 ± -"` for one seed; `"-"` when no seed finished."""
    if _missing(row["test mean"]):
        return "-"
    return f"{_number(row['test mean'])} ± {_number(row['test std'], 2)}"


def _solved_mark(row):
    mark = "✓" if row["solved (majority)"] else "✗"
    return f"{mark} {row['seeds solved']}/{row['seeds']}"


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
            "metric": record.get("metric"), "test": _metric_value(record),
            "baseline": _float(record.get("baseline")),
            "solved": bool(record.get("solved")),
            "train samples/s": _float(record.get("train_samples_per_second")),
            "train tokens/s": _float(record.get("train_tokens_per_second")),
            "peak MB": _peak_memory(record)[0],
            "status": record.get("status"), "backend": environment.get("backend"),
        })
    return pd.DataFrame(rows)


def format_table(table):
    """A plain-text table with rounded numbers; "-" for missing values."""
    formatters = {"test": _number, "baseline": _number, "train samples/s": _human,
                  "train tokens/s": _human, "peak MB": lambda v: _number(v, 5),
                  "params": _human, "mixer params": _human}
    return table.to_string(index=False, na_rep="-", formatters={
        k: v for k, v in formatters.items() if k in table})


def _markdown_table(header, rows):
    cell = lambda value: str(value).replace("|", "\\|")
    lines = ["| " + " | ".join(map(cell, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _environment_paragraph(records):
    """Where the numbers were measured, from the records' `environment`."""
    environments = [r.get("environment") or {} for r in records]
    devices = sorted({
        f"{e.get('device') or 'unknown device'} ({e.get('device_kind') or '?'}, "
        f"{e.get('cpu_count') or '?'} CPU cores"
        + (f", runs pinned to {e['cpus_usable']}"
           if e.get("cpus_usable") and e["cpus_usable"] != e.get("cpu_count") else "")
        + ")" for e in environments
    })
    backends = sorted({e.get("backend") for e in environments if e.get("backend")})
    libraries = ["python", "keras"]
    libraries += [library for b in backends for library in _BACKEND_LIBRARIES.get(b, (b,))]
    versions = []
    for library in libraries:
        found = _joined((e.get("versions") or {}).get(library) for e in environments)
        if found:
            versions.append(f"{library} {found.replace(' ', ' / ')}")
    loads = [_float(e["load_average"][0] if isinstance(e.get("load_average"), (list, tuple))
                    else e.get("load_average")) for e in environments]
    loads = [v for v in loads if math.isfinite(v)]
    text = (
        f"Measured on {'; '.join(devices)}, "
        f"backend {' / '.join(backends) or '-'}, "
        f"precision {_joined(e.get('precision') for e in environments) or '-'}, "
        f"with {', '.join(versions) or 'unrecorded library versions'}, "
        f"zoo commit {_joined(e.get('commit') for e in environments) or 'unrecorded'}."
    )
    if loads:
        text += (f" 1-minute load average of the machine as each run ended: "
                 f"{min(loads):.2f} to {max(loads):.2f}.")
    return text + f" {len(records)} run records."


def _common_and_varying(rows):
    """Settings shared by every row of a task (said once) and those that vary (columns)."""
    common, varying = [], []
    for column in ("knobs", "overrides", "budget", "backend", "device"):
        values = sorted(set(rows[column]))
        if len(values) > 1:
            varying.append(column)
        elif values[0]:
            common.append(f"{column} `{values[0]}`")
    return common, varying


def _task_section(task, rows):
    first = rows.iloc[0]
    metric = first["metric"]
    direction = "higher" if first["higher is better"] else "lower"
    sign = "≥" if first["higher is better"] else "≤"
    baselines = sorted(set(rows["baseline"].map(_number)))
    thresholds = sorted(set(rows["solved at"].map(_number)))
    rows = rows.assign(knobs=rows.apply(_knobs_beside_length, axis=1))
    common, varying = _common_and_varying(rows)
    speed = "train tokens/s" if rows["train tokens/s"].notna().any() else "train samples/s"
    lines = [f"## {task}", "",
             f"Test {metric} ({direction} is better), mean ± std over seeds; baseline "
             f"{' / '.join(baselines)}; solved at {sign} {' / '.join(thresholds)}."]
    if common:
        lines.append(f"Every row: {'; '.join(common)}.")
    lines.append("Length: the input length the model sees.")
    header = (["model", "length"] + varying
              + ["seeds", f"{metric}", "best (seed)", "solved", "reference", "params",
                 "mixer params", speed, "inference samples/s",
                 "peak MB", "time to solve s"])
    body = []
    for _, row in rows.iterrows():
        seeds = str(row["seeds"]) + (f" ({row['diverged']} diverged)" if row["diverged"] else "")
        best = "-" if _missing(row["best"]) else f"{_number(row['best'])} ({row['best seed']})"
        body.append(
            [row["model"], _number(row["length"], 6)] + [row[c] or "-" for c in varying]
            + [seeds, _mean_and_std(row), best,
               _solved_mark(row), row["reference"] or "-", _human(row["params"]),
               _human(row["mixer params"]), _human(row[speed]),
               _human(row["inference samples/s"]), _number(row["peak memory MB"]),
               _number(row["time to solve s"], 3)]
        )
    lines += ["", _markdown_table(header, body)]
    if rows["extra tests"].astype(bool).any():
        lines += ["", f"Further test splits ({metric}, mean over seeds):", ""]
        lines += [f"- {r['model']} at {r['length']}: {r['extra tests']}"
                  for _, r in rows.iterrows() if r["extra tests"]]
    published = references.for_task(task)
    if published:
        lines += ["", "Published references:", ""]
        lines += [f"- {r.model} {r.text()} ({r.source}; beside "
                  f"{r.family + ' rows' if r.family else 'no zoo row'}). {r.note}"
                  for r in published]
    return "\n".join(lines)


def _longest_solved_section(table):
    solved = solved_lengths(table)
    if solved.empty:
        return ""
    lines = ["## Longest length solved", "",
             "A length counts as solved by a model when a majority of its seeds "
             "solved it (more than half; diverged seeds count as not solved). "
             "Cells: ✓/✗ and seeds solved / seeds."]
    for task, rows in solved.groupby("task", sort=True):
        lengths = sorted({n for ns in rows["lengths"] for n in ns})
        header = ["model"] + [str(n) for n in lengths] + ["longest solved"]
        body = [[r["model"]] + [r["marks"].get(n, "") for n in lengths]
                + ["none" if _missing(r["longest solved"]) else int(r["longest solved"])]
                for _, r in rows.iterrows()]
        lines += ["", f"### {task}", "", _markdown_table(header, body)]
    return "\n".join(lines)


def markdown(name, table, records, plots=()):
    """The Markdown report of one experiment: where, how to regenerate, tables, plots."""
    parts = [
        f"# Results: {name}",
        "",
        _environment_paragraph(records),
        "",
        f"Regenerate: `zoo run {name} --out DIR` trains the runs not yet in DIR, then "
        f"`zoo report {name} --runs DIR` rewrites this file, `{name}.csv` and the plots "
        "from the run records in DIR alone. Each row below is one configuration; its "
        "seeds are aggregated (std: sample standard deviation, \"-\" for one seed; "
        "diverged runs are counted, not averaged; speed and memory are medians over "
        "finished seeds). The reference column is the published number for the same "
        "model family, on the same scale (see `zoo/references.py`).",
    ]
    for task, rows in table.groupby("task", sort=True):
        parts += ["", _task_section(task, rows)]
    longest = _longest_solved_section(table)
    if longest:
        parts += ["", longest]
    if plots:
        parts += ["", "## Plots", ""]
        parts += [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- plots and files


def _figures(rows):
    """`(file suffix, title, line_plot options)` of one task's plots."""
    metric = rows["metric"].iloc[0]
    baselines = set(rows["baseline"].dropna())
    speed = "train tokens/s" if rows["train tokens/s"].notna().any() else "train samples/s"
    kinds = _joined(rows["peak memory kind"]) or "unknown kind"
    return [
        (metric, f"test {metric}, mean ± std over seeds",
         dict(y="test mean", yerr="test std", ylabel=f"test {metric}",
              hline=baselines.pop() if len(baselines) == 1 else None, hline_label="baseline")),
        ("throughput", f"{speed}, median over seeds", dict(y=speed, log=True, fit=True)),
        ("memory", "peak memory, median over seeds",
         dict(y="peak memory MB", ylabel=f"peak memory MB ({kinds})", log=True, fit=True)),
    ]


def _plots(name, table, folder):
    """Per task run at >= 2 lengths: metric, throughput and memory against length."""
    from zoo import plots  # matplotlib only when plots are drawn

    written = []
    for task, rows in _multi_length_tasks(table):
        rows = rows.assign(**{"test std": rows["test std"].fillna(0.0)})  # one seed: no bar
        for suffix, title, options in _figures(rows):
            if not rows[options["y"]].notna().any():
                continue  # nothing recorded (older records)
            path = Path(folder) / f"{name}_{task}_{suffix}.png"
            plots.line_plot(rows, x="length", group="series", path=path, xlabel="input length",
                            title=f"{name}, {task}: {title}", **options)
            written.append(path)
    return written


def write_report(name, runs_dir, results_dir):
    """Write `NAME.csv`, `NAME.md` and `NAME_<task>_<what>.png` from the records in `runs_dir`.

    Returns the paths written: the CSV, the Markdown, then the plots.
    """
    records = load_records(runs_dir)
    table = aggregate(records)
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / f"{name}.csv", folder / f"{name}.md"
    table.to_csv(csv_path, index=False, float_format="%.6g", lineterminator="\n")
    plot_paths = _plots(name, table, folder)
    md_path.write_text(markdown(name, table, records, plot_paths), encoding="utf-8")
    return [csv_path, md_path, *plot_paths]


def regenerate(name, runs_dir, results_dir):
    """`write_report` for experiment records; `zoo bench`'s own report for a
    folder of bench records (one JSON file per measurement, no run folders);
    for `claims`, `zoo.claims.write_report`, which also reads the
    `long_range` and `speed` folders beside `runs_dir`.
    Returns the paths written, the CSV first and the Markdown second."""
    runs_dir = Path(runs_dir)
    if name == "claims":
        from zoo import claims

        return claims.write_report(runs_dir, results_dir)
    if runs_dir.is_dir() and not any(runs_dir.glob(f"*/{RECORD_FILE}")) \
            and any(runs_dir.glob("*.json")):
        from zoo import bench

        return bench.write_report(runs_dir, results_dir, name)
    return write_report(name, runs_dir, results_dir)
