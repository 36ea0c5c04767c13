"""What every claim section shares: the `Section` it returns, the frame of
records it reads, mean ± std, the comparison rule, and the text helpers."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.names import RECURRENT_LOOPS as RECURRENT  # noqa: F401 (the sections' name)
from zoo.names import family_rank  # noqa: F401 (for the sections)
from zoo.report.selection import search_value, select_records_tried, validation_mean
from zoo.report.tables import family_and_size, metric_value


@dataclasses.dataclass
class Section:
    """One claim's part of the page: its Markdown lines, what it decided
    (`verdicts`: per task or family, the numbers behind the verdict) and the
    plots it drew."""

    lines: list
    verdicts: dict = dataclasses.field(default_factory=dict)
    plots: list = dataclasses.field(default_factory=list)

    @property
    def verdict(self):
        """The section's verdict line ("" when it has none yet)."""
        return next((line for line in self.lines if line.startswith("**Verdict:**")), "")


LONG_RANGE_DIR, SPEED_DIR = "long_range", "speed"  # beside the claims records
LEAK_TOLERANCE = 1e-5  # largest probability change that still counts as no leak
NEAR_CHANCE = 0.05  # accuracies this close to chance decide nothing

SOURCES = {
    "long_range": "“self-attention captures long-range dependencies that RNNs/LSTMs lose”",
    "gradients": "“RNNs/LSTMs lose long-range dependencies to vanishing gradients”",
    "parallel": "“attention trains in parallel but costs O(n²) time and memory”",
    "positions": "“positional encoding is needed”",
    "heads": "“multi-head attention helps”",
    "norm": "“LayerNorm suits text better than BatchNorm”",
    "masking": "“masked (causal) attention keeps decoders autoregressive”",
    "pretraining": "“pretraining then fine-tuning helps”",
    "vit": "“ViT carries the idea (attention) to images”",
}


# --- records -> per-configuration numbers -----------------------------------

def seeds_frame(records):
    """One row per finished record at its cell's chosen value (the fair
    protocol, `zoo.report.selection`) with what the claims group and compare by."""
    rows = []
    for record, tried in select_records_tried(records):
        run = record["run"]
        if record.get("status") != "finished":
            continue
        family, size = family_and_size(run["model"])
        rows.append({
            "model": run["model"], "family": family, "size": size, "task": run["task"],
            "knobs": run.get("task_knobs") or {}, "overrides": run.get("model_overrides") or {},
            "pretrain_steps": run.get("pretrain_steps"), "seed": run["seed"],
            "metric": record["metric"], "test": metric_value(record),
            "chosen": search_value(run), "tried": tried, "record": record,
        })
    return pd.DataFrame(rows)


SIGNIFICANCE = 0.05  # Welch's t-test over seeds: settings differ when p is below this
RULE = (f"two settings differ when Welch's t-test over their seeds gives p < {SIGNIFICANCE} "
        "(two-sided; unequal variances)")


class MeanStd(tuple):
    """`(mean, sample std)` over seeds, which also knows how many seeds (`n`)
    and, for a setting's test scores, the mean validation score of the same
    runs (`validation`, NaN when not known): what a choice between settings
    reads, never the test score."""

    def __new__(cls, mean, std, n, validation=math.nan):
        pair = super().__new__(cls, (mean, std))
        pair.n = n
        pair.validation = validation
        return pair


def setting_scores(group):
    """`MeanStd` of the test metric of `group`'s runs, carrying their mean
    validation score (for `chosen_on_validation`)."""
    pair = mean_std(group["test"])
    return MeanStd(pair[0], pair[1], pair.n, validation_mean(list(group["record"])))


def chosen_on_validation(candidates):
    """The key of `candidates` (`{setting: MeanStd}`, higher is better) with the
    best mean validation score, the first in order on a tie; None when no
    candidate has one. The claims compare the setting chosen this way, so
    that, as for the learning rate, test scores play no part in the choice."""
    known = [k for k, v in candidates.items() if math.isfinite(getattr(v, "validation", math.nan))]
    return max(known, key=lambda k: candidates[k].validation) if known else None


def mean_std(values):
    """`MeanStd(mean, sample std, n)` of the finite values; std NaN for one value."""
    values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not values:
        return MeanStd(float("nan"), float("nan"), 0)
    std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
    return MeanStd(float(np.mean(values)), std, len(values))


def welch_p(a, b):
    """Two-sided p-value of Welch's t-test between `MeanStd` `a` and `b`; NaN
    when either side has fewer than two seeds. Two zero-spread sides with
    different means give 0 (they differ on every seed), equal means 1."""
    from scipy import stats

    (ma, sa), (mb, sb) = a, b
    na, nb = getattr(a, "n", 0), getattr(b, "n", 0)
    if na < 2 or nb < 2 or not all(math.isfinite(x) for x in (ma, mb, sa, sb)):
        return math.nan
    if sa == 0 and sb == 0:
        return 0.0 if ma != mb else 1.0
    return float(stats.ttest_ind_from_stats(ma, sa, na, mb, sb, nb, equal_var=False).pvalue)


def separated(a, b):
    """Whether `MeanStd` `a` and `b` differ by the stated test (`RULE`)."""
    p = welch_p(a, b)
    return math.isfinite(p) and p < SIGNIFICANCE


def fmt(pair, digits=3):
    mean, std = pair
    if not math.isfinite(mean):
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if math.isfinite(std) else f"{mean:.{digits}f}"


def table_lines(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]




def seeds_text(frame):
    settings = {}
    for record in frame["record"]:
        run = dict(record["run"], seed=None)
        settings.setdefault(json.dumps(run, sort_keys=True), set()).add(record["run"]["seed"])
    counts = [len(seeds) for seeds in settings.values()]
    low, high = min(counts), max(counts)
    return f"{low}" if low == high else f"{low}-{high}"


def budget_text(record):
    run = record["run"]
    rate = ("chosen on validation per setting" if "learning_rate" in (run.get("searched") or ())
            else run["learning_rate"])
    text = (f"{run.get('steps') or str(run.get('epochs')) + ' epoch(s)'} steps of batch "
            f"{run['batch_size']}, {run.get('optimizer', 'adam')} lr {rate}")
    if run.get("schedule", "constant") != "constant":
        text += f" ({run['schedule']})"
    return text


def knobs_text(knobs):
    return ", ".join(f"{k}={v}" for k, v in sorted(knobs.items())) or "defaults"


def common_knobs(knob_sets):
    """The knobs every run shares (those that vary are the variants)."""
    knob_sets = list(knob_sets)
    return {k: v for k, v in knob_sets[0].items() if all(ks.get(k) == v for ks in knob_sets)}


def span(values):
    return f"{values[0]:,}" if values[0] == values[-1] else f"{values[0]:,}-{values[-1]:,}"


def params_text(frame):
    mixer = sorted({r["params"]["mixer"] for r in frame["record"]})
    total = sorted({r["params"]["total"] for r in frame["record"]})
    return f"mixer parameters {span(mixer)} (total {span(total)})"


def value_text(search_value_text):
    """`"learning_rate=0.001"` as the pages write it: `"lr 0.001"`."""
    return search_value_text.replace("learning_rate=", "lr ").replace("=", " ")


def chosen_text(frame):
    """"Chosen on validation, of 3 values tried: lr 0.001 for ...; lr 0.003
    for ..." (each setting of `frame` by its `variant`, model and task where
    these vary); "" where nothing was searched."""
    if not len(frame) or "tried" not in frame or frame["tried"].max() < 2:
        return ""
    parts = ["variant"] if "variant" in frame else []
    parts += [c for c in ("model", "task") if frame[c].nunique() > 1]
    by_value = {}
    for _, row in frame.drop_duplicates(["chosen"] + parts).iterrows():
        names = dict.fromkeys(str(row[c]) for c in parts)  # a variant named as its model: once
        label = " ".join(f"`{n}`" if n == str(row.get("task")) else n for n in names)
        by_value.setdefault(row["chosen"], []).append(label or "every setting")
    counts = span(sorted(int(t) for t in frame["tried"].unique()))
    values = "; ".join(f"{value_text(v)} for {', '.join(labels)}"
                       for v, labels in sorted(by_value.items()))
    return f"Chosen on validation, of {counts} values tried: {values}."


def setup_line(frame, extra=""):
    first = frame["record"].iloc[0]
    tasks = sorted(frame["task"].unique())
    knobs = "; ".join(f"`{t}` {knobs_text(common_knobs(frame[frame['task'] == t]['knobs']))}"
                      for t in tasks)
    budgets = sorted({budget_text(r) for r in frame["record"]})
    minutes = frame["record"].map(lambda r: r.get("wall_seconds") or 0).sum() / 60
    chosen = chosen_text(frame)
    return (f"Setup: {', '.join(sorted(frame['model'].unique()))}; {knobs}; "
            f"{' / '.join(budgets)}; {params_text(frame)}; seeds per setting: "
            f"{seeds_text(frame)}.{(' ' + extra) if extra else ''} Records: "
            f"{len(frame)} runs{' at the chosen values' if chosen else ''}, {minutes:.1f} "
            f"min of run wall time ({first['environment'].get('backend')})."
            + (f" {chosen}" if chosen else ""))


def plot_lines(paths, folder):
    return [f"![{Path(p).stem}]({Path(p).relative_to(folder).as_posix()})" for p in paths] + [""]


def missing_section(title, what, command=None):
    command = command or f"zoo run {what} --out results/runs/claims"
    return [f"## {title}", "", f"No records yet for this claim ({what}). Produce them with "
            f"`{command}`, then `zoo report claims`.", ""]


def verdict_line(verdicts):
    parts = [f"`{task}`: {text}" for task, text in verdicts.items()]
    if not parts:
        return "**Verdict:** none yet (no setting has records on both sides of the comparison)."
    return "**Verdict:** " + "; ".join(parts) + "."


def scores_by(frame, keys):
    """`{key tuple: (mean, std)}` of the test metric."""
    return {key if isinstance(key, tuple) else (key,): setting_scores(group)
            for key, group in frame.groupby(keys, dropna=False)}


def model_setting(record, field):
    """The value of model hyperparameter `field` the run trained with (the
    record's resolved `model_config`: the preset with the run's overrides)."""
    return record["model_config"][field]


def with_setting(frame, field):
    """Column `variant`: the value of model hyperparameter `field` in each run."""
    return frame.assign(variant=[model_setting(r, field) for r in frame["record"]])


def ablation_section(title, source, claim, frame, tasks, field, order, verdict, experiment,
                      changed):
    """`(lines, scores)` of a table of settings x tasks, from the runs of the
    Transformer on `tasks` whose overrides touch only `changed`."""
    rows = frame[frame["task"].isin(tasks) & (frame["family"] == "transformer")
                 & (frame["pretrain_steps"].isna())
                 & frame["overrides"].map(lambda o: set(o) <= set(changed))] \
        if len(frame) else frame
    if len(rows):
        rows = with_setting(rows, field) if isinstance(field, str) else field(rows)
        rows = rows[rows["variant"].isin(order)]
    if rows.empty:
        return Section(missing_section(title, experiment))
    lines = [f"## {title}", "", f"Source: {source}.", "", f"Claim: {claim}", "",
             setup_line(rows), ""]
    table, scores = [], {}
    for variant in order:
        cells = [str(variant)]
        for task in tasks:
            group = rows[(rows["task"] == task) & (rows["variant"] == variant)]
            scores[(task, variant)] = setting_scores(group)
            cells.append(fmt(scores[(task, variant)]))
        table.append(cells)
    lines += table_lines(["setting"] + [f"`{t}` test accuracy" for t in tasks], table)
    lines += verdict(scores) + [""]
    return Section(lines, scores)


def best_of(scores, task, variants):
    """Of `variants` measured on `task`, the one chosen on validation."""
    return chosen_on_validation({v: scores[(task, v)] for v in variants
                                 if math.isfinite(scores.get((task, v), (math.nan,))[0])})
