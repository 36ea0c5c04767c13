"""An experiment's page: `NAME.md`, `NAME.csv` and plots, from the aggregate
of its run records (`zoo.report.tables`)."""

import math
from pathlib import Path

from zoo.report import references
from zoo.report.selection import PROTOCOL
from zoo.report.tables import (
    LABELS,
    aggregate,
    as_float,
    human,
    joined,
    knobs_beside_length,
    load_records,
    mean_and_std,
    missing,
    multi_length_tasks,
    number,
    selected_rows,
    solved_lengths,
    solved_mark,
)

_BACKEND_LIBRARIES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"),
                      "torch": ("torch",)}


def markdown_table(header, rows):
    cell = lambda value: str(value).replace("|", "\\|")
    lines = ["| " + " | ".join(map(cell, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def environment_paragraph(records):
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
        found = joined((e.get("versions") or {}).get(library) for e in environments)
        if found:
            versions.append(f"{library} {found.replace(' ', ' / ')}")
    loads = [as_float(e["load_average"][0] if isinstance(e.get("load_average"), (list, tuple))
                    else e.get("load_average")) for e in environments]
    loads = [v for v in loads if math.isfinite(v)]
    text = (
        f"Measured on {'; '.join(devices)}, "
        f"backend {' / '.join(backends) or '-'}, "
        f"precision {joined(e.get('precision') for e in environments) or '-'}, "
        f"with {', '.join(versions) or 'unrecorded library versions'}, "
        f"{commits_text(e.get('commit') for e in environments)}."
    )
    if loads:
        text += (f" 1-minute load average of the machine as each run ended: "
                 f"{min(loads):.2f} to {max(loads):.2f}.")
    return (text + f" {len(records)} run records, {wall_time_text(records)} of run wall time "
            "(sum over runs).")


def commits_text(commits):
    """"zoo commit 03a6708" / "zoo commits 03a6708+dirty, 8d4e324 (2)": each
    commit the records name, short, "+dirty" where uncommitted changes ran."""
    short = sorted({f"{c[:7]}{'+dirty' if str(c).endswith('+dirty') else ''}"
                    for c in (str(c) for c in commits if c not in (None, ""))})
    if not short:
        return "zoo commit unrecorded"
    if len(short) == 1:
        return f"zoo commit {short[0]}"
    return f"zoo commits {', '.join(short)} ({len(short)})"


def wall_time_text(records):
    """The records' run wall time summed: "50 min", or "6.0 h" from 90 minutes."""
    seconds = sum(r.get("wall_seconds") or 0 for r in records)
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def _common_and_varying(rows):
    """Settings shared by every row of a task (said once) and those that vary (columns)."""
    common, varying = [], []
    for column in ("task_knobs", "model_overrides", "budget", "backend", "device"):
        values = sorted(set(rows[column]))
        if len(values) > 1:
            varying.append(column)
        elif values[0]:
            common.append(f"{LABELS.get(column, column)} `{values[0]}`")
    return common, varying


def _speed_column(rows):
    """Tokens per second where the records have it, else samples per second."""
    if rows["train_tokens_per_second"].notna().any():
        return "train_tokens_per_second"
    return "train_samples_per_second"


def _task_section(task, rows):
    first = rows.iloc[0]
    metric = first["metric"]
    direction = "higher" if first["higher_is_better"] else "lower"
    sign = "≥" if first["higher_is_better"] else "≤"
    baselines = sorted(set(rows["baseline"].map(number)))
    thresholds = sorted(set(rows["solved_at"].map(number)))
    rows = rows.assign(task_knobs=rows.apply(knobs_beside_length, axis=1))
    common, varying = _common_and_varying(rows)
    speed = _speed_column(rows)
    lines = [f"## {task}", "",
             f"Test {metric} ({direction} is better), mean ± std over seeds; baseline "
             f"{' / '.join(baselines)}; solved at {sign} {' / '.join(thresholds)}."]
    if common:
        lines.append(f"Every row: {'; '.join(common)}.")
    lines.append("Length: the input length the model sees.")
    searched = rows["tried"].fillna(1).gt(1).any()
    header = (["model", "length"] + [LABELS.get(c, c) for c in varying]
              + (["chosen on validation (of tried)"] if searched else [])
              + ["seeds", f"{metric}", "best (seed)", "solved", "reference", "params",
                 "mixer params", "state size", LABELS[speed], "inference samples/s",
                 "peak MB", "time to solve s"])
    body = []
    for _, row in rows.iterrows():
        seeds = str(row["seeds"]) + (f" ({row['diverged']} diverged)" if row["diverged"] else "")
        best = "-" if missing(row["best"]) else f"{number(row['best'])} ({row['best_seed']})"
        body.append(
            [row["model"], number(row["input_length"], 6)] + [row[c] or "-" for c in varying]
            + ([f"{row['search_value'] or '-'} ({row['tried']})"] if searched else [])
            + [seeds, mean_and_std(row), best,
               solved_mark(row), row["reference"] or "-", human(row["params_total"]),
               human(row["params_mixer"]), human(row["state_size"]), human(row[speed]),
               human(row["inference_samples_per_second"]), number(row["peak_memory_mb"]),
               number(row["time_to_solve_seconds"], 3)]
        )
    lines += ["", markdown_table(header, body)]
    if rows["extra_tests"].astype(bool).any():
        lines += ["", f"Further test splits ({metric}, mean over seeds):", ""]
        lines += [f"- {r['model']} at {r['input_length']}: {r['extra_tests']}"
                  for _, r in rows.iterrows() if r["extra_tests"]]
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
                + ["none" if missing(r["longest solved"]) else int(r["longest solved"])]
                for _, r in rows.iterrows()]
        lines += ["", f"### {task}", "", markdown_table(header, body)]
    return "\n".join(lines)


def markdown(name, table, records, plots=()):
    """The Markdown report of one experiment: where, how to regenerate, tables, plots."""
    parts = [
        f"# Results: {name}",
        "",
        environment_paragraph(records),
        "",
        f"Regenerate: `zoo run {name} --out DIR` trains the runs not yet in DIR, then "
        f"`zoo report {name} --runs DIR` rewrites this file, `{name}.csv` and the plots "
        "from the run records in DIR alone. Each row below is one configuration; its "
        "seeds are aggregated (std: sample standard deviation, \"-\" for one seed; "
        "diverged runs are counted, not averaged; speed and memory are medians over "
        "finished seeds). The reference column is the published number for the same "
        "model family, on the same scale (see `zoo/report/references.py`).",
    ]
    if table["tried"].fillna(1).gt(1).any():
        parts += ["", PROTOCOL]
    for task, rows in selected_rows(table).groupby("task", sort=True):
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
    speed = _speed_column(rows)
    kinds = joined(rows["peak_memory_kind"]) or "unknown kind"
    return [
        (metric, f"test {metric}, mean ± std over seeds",
         dict(y="test_mean", yerr="test_std", ylabel=f"test {metric}",
              hline=baselines.pop() if len(baselines) == 1 else None, hline_label="baseline")),
        ("throughput", f"{LABELS[speed]}, median over seeds",
         dict(y=speed, ylabel=LABELS[speed], log=True, fit=True)),
        ("memory", "peak memory, median over seeds",
         dict(y="peak_memory_mb", ylabel=f"peak memory MB ({kinds})", log=True, fit=True)),
    ]


def _plots(name, table, folder):
    """Per task run at >= 2 lengths: metric, throughput and memory against length."""
    from zoo.report import plots  # matplotlib only when plots are drawn

    written = []
    for task, rows in multi_length_tasks(selected_rows(table)):
        rows = rows.assign(**{"test_std": rows["test_std"].fillna(0.0)})  # one seed: no bar
        for suffix, title, options in _figures(rows):
            if not rows[options["y"]].notna().any():
                continue  # nothing recorded (older records)
            path = Path(folder) / f"{name}_{task}_{suffix}.png"
            plots.line_plot(rows, x="input_length", group="series", path=path, xlabel="input length",
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
