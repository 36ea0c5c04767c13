"""1. Long-range dependencies: the longest length each family solves (`long_range` records)."""

from pathlib import Path

import numpy as np

from zoo.report.claims.common import (
    RECURRENT,
    SOURCES,
    Section,
    budget_text,
    family_rank,
    missing_section,
    plot_lines,
    span,
    table_lines,
    value_text,
    verdict_line,
)
from zoo.report.tables import aggregate, selected_rows


def section_long_range(records, folder):
    title = "1. Long-range dependencies: attention vs recurrence"
    if not records:
        return Section(missing_section(title, "long_range", "zoo run long_range --out "
                                "results/runs/long_range"))
    every_value = aggregate(records)
    table = selected_rows(every_value)
    lines = [f"## {title}", "", f"Source: {SOURCES['long_range']}.", "",
             "Claim: at equal parameters and steps, the Transformer solves longer "
             "dependencies than RNN, LSTM and GRU.", ""]
    first = records[0]
    lines += [f"Setup: the `long_range` experiment (`zoo run long_range`): "
              f"{', '.join(sorted(table['model'].unique()))}, {budget_text(first)}, "
              f"{int(table['seeds'].max())} seeds; solved = the task's `solved_at` "
              "on the test split by a majority of seeds. Accuracy vs length: "
              "[long_range.md](long_range.md) and its plots.", ""]
    families = sorted(table["family"].unique(), key=family_rank)
    rows, verdicts = [], {}
    for task in sorted(table["task"].unique()):
        task_rows = table[table["task"] == task]
        longest = {}
        for family in families:
            fam = task_rows[task_rows["family"] == family]
            if fam.empty:
                continue
            won = fam[fam["solved_majority"] == True]  # noqa: E712 (pandas)
            longest[family] = int(won["input_length"].max()) if len(won) else 0
        cells = []
        for family in families:
            fam = task_rows[task_rows["family"] == family].sort_values("input_length")
            values = ", ".join(f"{int(r['input_length'])}: {r['test_mean']:.3f}"
                               for _, r in fam.iterrows())
            cells.append(f"**{longest.get(family) or 'none'}** ({values})")
        rows.append([f"`{task}` ({task_rows['metric'].iloc[0]})"] + cells)
        attention = longest.get("transformer", 0)
        recurrent = max(longest.get(f, 0) for f in RECURRENT if f in longest)
        if not attention and not recurrent:
            verdicts[task] = "undecided (no family solved any length)"
        elif attention > recurrent:
            verdicts[task] = "holds"
        elif attention == recurrent:
            verdicts[task] = "no difference measured"
        else:
            best = max((f for f in RECURRENT if f in longest), key=lambda f: longest[f])
            verdicts[task] = f"does not hold ({best} solves longer)"
    lines += ["Longest input length solved (majority of seeds), then the test metric "
              "(mean over seeds) at each length:", ""]
    lines += table_lines(["task"] + list(families), rows)
    lines += _chosen_lines(every_value, families)
    paths = [_long_range_plot(table, families, folder)]
    lines += plot_lines(paths, folder)
    lines += [verdict_line(verdicts), ""]
    return Section(lines, verdicts, paths)


def _long_range_plot(table, families, folder):
    """One panel per task: the test metric against length, a line per family."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    tasks = sorted(table["task"].unique())
    figure = Figure(figsize=(3.2 * len(tasks), 3.6), dpi=110)
    panels = np.atleast_1d(figure.subplots(1, len(tasks)))
    for axes, task in zip(panels, tasks):
        rows = table[table["task"] == task]
        for family in families:
            fam = rows[rows["family"] == family].sort_values("input_length")
            if len(fam):
                axes.errorbar(fam["input_length"], fam["test_mean"], yerr=fam["test_std"].fillna(0),
                              marker="o", markersize=3, capsize=2, label=family)
        axes.axhline(rows["baseline"].iloc[0], color="grey", linestyle="--", linewidth=1)
        axes.set_xscale("log")
        lengths = sorted(rows["input_length"].unique())
        axes.set_xticks(lengths, [str(int(n)) for n in lengths])
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_title(task, fontsize=9)
        axes.set_xlabel("input length")
        axes.set_ylabel(f"test {rows['metric'].iloc[0]}")
    panels[-1].legend(fontsize=7)
    figure.suptitle("claims: long-range tasks, mean ± std over seeds (dashed: baseline)",
                    fontsize=10)
    figure.tight_layout()
    path = Path(folder) / "claims_long_range.png"
    figure.savefig(path, metadata={"Software": None})
    return path


CELL = ["task", "input_length", "model", "task_knobs", "model_overrides", "budget"]


def _number(search_value):
    try:
        return float(search_value.partition("=")[2])
    except ValueError:
        return None


def _chosen_lines(every_value, families):
    """Which searched value each family's cells chose (the table shows the
    test scores at them), and how many chose the largest or the smallest
    value tried: there the family's best may lie beyond the grid."""
    if "tried" not in every_value or every_value["tried"].fillna(1).max() < 2:
        return []
    parts = []
    for family in families:
        rows = every_value[every_value["family"] == family]
        counts = rows[rows["selected"] == True]["search_value"].value_counts()  # noqa: E712
        text = f"{family} " + ", ".join(
            f"{value_text(value)} ×{count}" for value, count in sorted(counts.items()))
        top = bottom = full = 0
        for _, cell in rows.fillna({"model_overrides": "", "task_knobs": ""}).groupby(CELL):
            values = [_number(v) for v in cell["search_value"]]
            if len(values) < 2 or None in values:
                continue
            full += 1
            chosen = cell[cell["selected"] == True]["search_value"]  # noqa: E712
            value = _number(chosen.iloc[0]) if len(chosen) else None
            top += value == max(values)
            bottom += value == min(values)
        parts.append(text + (f" (the largest tried in {top} of {full}, the smallest in "
                             f"{bottom})" if full else ""))
    counts = span(sorted(int(t) for t in every_value["tried"].dropna().unique()))
    return [f"Chosen on validation, of {counts} values tried, in each family's cells "
            f"(task × length): {'; '.join(parts)}. Where a cell chose the largest or the "
            "smallest rate tried, its best may lie beyond the grid.", ""]
