"""Run records -> tables, Markdown and plots, regenerated from the records alone.

    from zoo import report
    report.regenerate("long_range", "results/runs/long_range", "results")

A report reads records (`zoo.record`) and nothing else: no model, task,
runner or benchmark code, so yesterday's records render the same today.

    tables.py      records -> one row per configuration (mean ± std over seeds)
    markdown.py    an experiment's page: NAME.md, NAME.csv, plots
    speed.py, speed_page.py   `zoo bench` records -> speed.csv, speed.md, plots
    claims/        results/claims.md: one file per claim, each a `Section`
    references.py  published numbers beside ours
    plots.py       PNG line plots, log-log with fitted exponents
"""

from pathlib import Path

from zoo.record import RECORD_FILE
from zoo.report.markdown import write_report
from zoo.report.tables import aggregate, format_table, load_records, solved_lengths, summary_table

__all__ = [
    "aggregate",
    "format_table",
    "load_records",
    "regenerate",
    "solved_lengths",
    "summary_table",
    "write_report",
]


def regenerate(name, runs_dir, results_dir):
    """Rewrite the page of `name` from the records in `runs_dir`.

    An experiment's run folders give `write_report`; a folder of benchmark
    records (one JSON file per measurement, no run folders) gives the speed
    page; `claims` also reads the `long_range` and `speed` folders beside
    `runs_dir`. Returns the paths written, the CSV first and the Markdown
    second.
    """
    runs_dir = Path(runs_dir)
    if name == "claims":
        from zoo.report import claims

        return claims.write_report(runs_dir, results_dir)
    if name == "reproduce":  # a missing or empty folder: every number "not run here"
        from zoo.report import reproduce

        return reproduce.write_report(runs_dir, results_dir)
    if runs_dir.is_dir() and not any(runs_dir.glob(f"*/{RECORD_FILE}")) \
            and any(runs_dir.glob("*.json")):
        from zoo.report import speed_page

        return speed_page.write_report(runs_dir, results_dir, name)
    return write_report(name, runs_dir, results_dir)
