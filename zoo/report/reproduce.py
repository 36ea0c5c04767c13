"""`results/reproduce.md` + `.csv`: every published number of `zoo.published`
beside ours, with the setting each was measured in and a verdict by a stated
rule, from the run records of `zoo run reproduce` alone.

One line per reading (a published number and the row that reruns it):

    ours     the mean ± sample std over the row's seeds of the record's
             `metric` on the reading's split (`test`, scored with the best
             validation epoch's weights, or an extra test such as
             `test_length_512`); finished runs only
    gap      ours - theirs
    verdict  see `verdict`

A row's records are those whose `run` holds the row's model, task, task
knobs, model overrides and budget (`zoo.published.Row.matches`), at any seed.
"""

import csv
import math
import statistics
from pathlib import Path

from zoo import published
from zoo.record import RECORD_FILE, load_run_records
from zoo.report.markdown import environment_paragraph, markdown_table

NAME = "reproduce"
TOLERANCE = 0.02  # absolute, on the 0..1 scale of accuracy and exact match
MIN_SEEDS = 3
REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not reproduced", "not run here"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_RUN)

RULE = (
    f"A number is **{REPRODUCED}** when our mean lies within the source's spread where the "
    f"source gives one (low <= mean <= high), else within ±{TOLERANCE} (absolute, on the 0..1 "
    f"scale) of their number; a number the source states as a threshold (\"above 99 %\") is "
    f"{REPRODUCED} when our mean is at or above it. Otherwise it is **{NOT_REPRODUCED}** (the "
    f"gap says by how much), and **{NOT_RUN}** when no finished record of its row exists, "
    f"with the command that trains it. A verdict over fewer than {MIN_SEEDS} seeds is marked "
    "as such."
)

COLUMNS = (
    "row", "title", "profile", "published", "source", "their_model", "their_setting", "metric",
    "split", "theirs", "spread_low", "spread_high", "at_least", "conventions", "our_setting",
    "differences", "ours_mean", "ours_std", "seeds", "runs", "gap", "verdict", "command",
    "backend", "device", "commit",
)


def verdict(theirs, ours, spread=None, at_least=False, tolerance=TOLERANCE):
    """`reproduced` / `not reproduced` / `not run here` by `RULE`.

    theirs: the published number; ours: our mean (None or NaN: no finished
    run); spread: the source's `(low, high)` or None; at_least: the source
    states a threshold, not a value.
    """
    if ours is None or not math.isfinite(ours):
        return NOT_RUN
    if at_least:
        return REPRODUCED if ours >= theirs else NOT_REPRODUCED
    if spread is not None:
        low, high = spread
        return REPRODUCED if low <= ours <= high else NOT_REPRODUCED
    return REPRODUCED if abs(ours - theirs) <= tolerance else NOT_REPRODUCED


def records_of(row, records):
    """The records of `row` (any seed), in the order given."""
    return [record for record in records if row.matches(record.get("run") or {})]


def reading_value(record, split, metric):
    """`record[split][metric]` (`"test"`) or `record["extra_tests"][split][metric]`; NaN if absent."""
    scores = record.get("test") if split == "test" else (record.get("extra_tests") or {}).get(split)
    value = (scores or {}).get(metric)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _finished(records):
    return [r for r in records if r.get("status", "finished") == "finished"]


def line(row, reading, records):
    """One line of the table: a published number, its row and our records of it."""
    name, split, metric = reading
    entry = published.get(name)
    mine = records_of(row, records)
    values = [v for v in (reading_value(r, split, metric) for r in _finished(mine))
              if math.isfinite(v)]
    # `statistics` rounds exactly: the same records give the same bits on any machine
    mean = statistics.fmean(values) if values else math.nan
    std = statistics.stdev(values) if len(values) > 1 else math.nan
    decided = verdict(entry.value, mean, entry.spread, entry.at_least)
    if decided == NOT_RUN and mine:
        decided = NOT_REPRODUCED  # runs exist, none finished with a score
    return {
        "row": row.name, "title": row.title, "profile": row.profile, "published": name,
        "source": entry.source, "their_model": entry.model, "their_setting": entry.setting,
        "metric": metric, "split": split, "theirs": entry.value,
        "spread_low": entry.spread[0] if entry.spread else None,
        "spread_high": entry.spread[1] if entry.spread else None,
        "at_least": entry.at_least, "conventions": " | ".join(entry.conventions),
        "our_setting": row.setting, "differences": " | ".join(row.differences),
        "ours_mean": mean, "ours_std": std, "seeds": len(values), "runs": len(mine),
        "gap": mean - entry.value if values else math.nan, "verdict": decided,
        "command": row.command(), **_provenance(mine),
    }


def _provenance(records):
    """Where our numbers were measured: backend, device and zoo commit of the records."""
    def joined(key):
        return " ".join(sorted({str((r.get("environment") or {}).get(key))
                                for r in records if (r.get("environment") or {}).get(key)}))
    return {"backend": joined("backend"), "device": joined("device"), "commit": joined("commit")}


def unread_line(row, entry):
    """The line of a published number no run of ours reads (e.g. Mamba's
    test lengths past those the CPU rows score): not run here, no command."""
    return {
        "row": row.name, "title": row.title, "profile": row.profile, "published": entry.name,
        "source": entry.source, "their_model": entry.model, "their_setting": entry.setting,
        "metric": entry.metric, "split": None, "theirs": entry.value,
        "spread_low": entry.spread[0] if entry.spread else None,
        "spread_high": entry.spread[1] if entry.spread else None,
        "at_least": entry.at_least, "conventions": " | ".join(entry.conventions),
        "our_setting": row.setting, "differences": " | ".join(row.differences),
        "ours_mean": math.nan, "ours_std": math.nan, "seeds": 0, "runs": 0, "gap": math.nan,
        "verdict": NOT_RUN, "command": None, **_provenance([]),
    }


def table(records, rows=None):
    """Every line: per row of `zoo.published.ROWS`, its readings, then the
    published numbers of the row that no reading reads."""
    rows = published.ROWS if rows is None else rows
    read = {name for row in rows for name, _, _ in row.readings}
    items = []
    for row in rows:
        items += [line(row, reading, records) for reading in row.readings]
        items += [unread_line(row, entry) for entry in published.for_row(row.name)
                  if entry.name not in read]
    return items


# ---------------------------------------------------------------- writing


def _number(value, digits=4):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


def _theirs(item):
    text = ("> " if item["at_least"] else "") + _number(item["theirs"])
    if item["spread_low"] is not None:
        text += f" ({_number(item['spread_low'])}-{_number(item['spread_high'])})"
    return text


def _ours(item):
    if not item["seeds"]:
        return "-"
    spread = "" if math.isnan(item["ours_std"]) else f" ± {_number(item['ours_std'])}"
    return f"{_number(item['ours_mean'])}{spread} (n={item['seeds']})"


def _verdict_text(item):
    if item["verdict"] == NOT_RUN and item["command"] is None:
        return f"{NOT_RUN}: no run of ours scores it (see the row's differences)"
    if item["verdict"] == NOT_RUN:
        return f"{NOT_RUN}: `{item['command']}`"
    if item["seeds"] == 0:
        return f"{NOT_REPRODUCED} ({item['runs']} runs, none finished with a score)"
    text = item["verdict"]
    if item["verdict"] == NOT_REPRODUCED:
        text += f" (gap {item['gap']:+.4f})"
    if item["seeds"] < MIN_SEEDS:
        text += f"; only {item['seeds']} seed{'s' if item['seeds'] > 1 else ''}"
    return text


def _gap(item):
    return f"{item['gap']:+.4f}" if item["seeds"] else "-"


def _summary(items):
    counts = {name: sum(1 for item in items if item["verdict"] == name) for name in VERDICTS}
    return (f"{len(items)} published numbers: {counts[REPRODUCED]} {REPRODUCED}, "
            f"{counts[NOT_REPRODUCED]} {NOT_REPRODUCED}, {counts[NOT_RUN]} {NOT_RUN}.")


def _row_section(row, items):
    lines = [f"### {row.title} (`{row.name}`, {row.profile})", ""]
    sources = list(dict.fromkeys(item["source"] for item in items))
    lines.append(f"**Source.** {'; '.join(sources)}.")
    lines.append("")
    for entry in dict.fromkeys(published.get(item["published"]) for item in items):
        lines.append(f"- **Theirs** (`{entry.name}`): {entry.model}. {entry.setting}.")
    lines.append(f"- **Ours**: {row.setting}.")
    lines += ["", "**How ours differs.**", ""]
    lines += [f"- {difference}" for difference in row.differences]
    conventions = list(dict.fromkeys(c for item in items
                                     for c in published.get(item["published"]).conventions))
    if conventions:
        lines += ["", "**Conventions of the source.**", ""]
        lines += [f"- {convention}" for convention in conventions]
    sharing = published.sharing_command(row)
    also = f" (it also trains {', '.join(f'`{name}`' for name in sharing)})" if sharing else ""
    lines += ["", f"**Command**{also}: `{row.command()}`", ""]
    return lines


def markdown(items, records, rows=None):
    rows = published.ROWS if rows is None else rows
    header = ("Row", "Published number", "Metric (split)", "Theirs", "Ours (mean ± std, n seeds)",
              "Gap", "Verdict")
    body = [(f"[{item['title']}](#{_anchor(item)})", f"`{item['published']}`",
             f"{item['metric']} ({item['split'] or '-'})", _theirs(item), _ours(item), _gap(item),
             _verdict_text(item)) for item in items]
    lines = [
        "# Reproduce: published numbers beside ours",
        "",
        "Each line sets one published number beside ours, rerun here in the setting it was "
        "published in as closely as the zoo expresses it (presets and overrides; no model "
        "is written for this page). Numbers are on the 0..1 scale of the zoo's metric. "
        "Regenerate with `zoo report reproduce`; the rows, the published numbers and their "
        "sources are in `zoo/published.py`, nothing is typed in by hand.",
        "",
        "## How to read",
        "",
        "**Ours** is the mean ± sample standard deviation over the row's seeds (n finished "
        "runs) of the record's metric on the named split: `test` is scored with the weights "
        "of the best validation epoch; `test_length_L` is the same model scored at test "
        "length L. A row's records are those whose run holds exactly the row's model, task, "
        "task knobs, model overrides and budget (any seed). **Gap** = ours - theirs. "
        + RULE,
        "",
        "Every way our setting differs from the source's, and every convention of the "
        "source that a comparison must know (keras-io validates on the test split; "
        "addition_rnn reports per-character accuracy; LRA averages with or without Path-X; "
        "...), is listed under the row below. Rows of profile `quick` run on a 2-core CPU; "
        "rows of profile `full` need an accelerator (`--profile full`).",
        "",
        "## Results",
        "",
        _summary(items),
        "",
        markdown_table(header, body),
        "",
        "## Rows",
        "",
    ]
    for row in rows:
        lines += _row_section(row, [item for item in items if item["row"] == row.name])
    lines += ["## Environment", ""]
    if records:
        lines.append(environment_paragraph(records))
    else:
        lines.append("No run records of this experiment yet, so no backend, device, versions or "
                     "commit to give (each record carries them): every number above is "
                     f"\"{NOT_RUN}\". Train them with the command of each row (records go "
                     f"to `{published.RECORDS_FOLDER}`), then `zoo report reproduce`.")
    return "\n".join(lines) + "\n"


def _anchor(item):
    """The GitHub anchor of the row's heading (`### title (`name`, profile)`)."""
    heading = f"{item['title']} ({item['row']}, {item['profile']})".lower()
    kept = "".join(c for c in heading if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def _csv_cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def load(runs_dir):
    """The run records under `runs_dir`; none (an empty list) when the folder
    is missing or holds no finished run, which this page reports as such."""
    folder = Path(runs_dir)
    if not folder.is_dir() or not any(folder.glob(f"*/{RECORD_FILE}")):
        return []
    return load_run_records(folder)


def write_report(runs_dir, results_dir):
    """Write `reproduce.csv` and `reproduce.md` from the records in `runs_dir`
    (a missing or empty folder: every number "not run here"). Returns the
    paths, the CSV first."""
    records = load(runs_dir)
    items = table(records)
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / f"{NAME}.csv", folder / f"{NAME}.md"
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for item in items:
            writer.writerow([_csv_cell(item[column]) for column in COLUMNS])
    md_path.write_text(markdown(items, records), encoding="utf-8")
    return [csv_path, md_path]
