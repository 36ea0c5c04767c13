"""`results/claims.md`: each claim about Transformers vs RNNs, the runs that
test it, and a verdict computed from their numbers.

    from zoo.report import claims
    claims.write_report("results/runs/claims", "results")   # claims.md, .csv, plots

Reads three folders of records: the one given (the `claims` experiment:
claims 2 and 4-9) and, beside it, `long_range` (claim 1) and `speed` (`zoo
bench`, claim 3). A claim whose records are missing says so instead of a
verdict. Every number shown is computed here from the records; the verdict
rules are stated in the page and applied by the functions below.

Comparison rule (`common.separated`): two settings differ when Welch's
t-test over their seeds gives p < 0.05; otherwise the page says "no
difference measured" (and "undecided" where both sides are near chance).
Where an experiment searched a setting, each cell is read at the value
chosen on validation (`zoo.report.selection`).

One file per claim (`long_range.py` ... `vit.py`), each a function of the
records that returns a `Section` (`common.py`); this module puts them on
the page.
"""

from pathlib import Path

from zoo.record import RECORD_FILE
from zoo.report.claims.changes import headline_lines, section_changes
from zoo.report.claims.common import LONG_RANGE_DIR, SPEED_DIR, seeds_frame, table_lines
from zoo.report.claims.gradients import section_gradients
from zoo.report.claims.heads import section_heads
from zoo.report.claims.long_range import section_long_range
from zoo.report.claims.masking import section_masking
from zoo.report.claims.norm import section_norm
from zoo.report.claims.parallel import section_parallel
from zoo.report.claims.positions import section_positions
from zoo.report.claims.pretraining import section_pretraining
from zoo.report.claims.vit import section_vit
from zoo.report.markdown import environment_paragraph, wall_time_text
from zoo.report.selection import PROTOCOL
from zoo.report.tables import aggregate, load_records

CLAIMS_PROTOCOL = (
    " Where a claim compares the best of several settings with another (the best placement "
    "of a norm, the best number of heads, the best encoding), that setting too is the one "
    "with the best mean validation score (a tie goes to the first in the table), each at its "
    "own chosen rate; its test score is "
    "then compared by the section's test."
)


def _headline(verdict_lines):
    rows = []
    for number, (claim, line) in enumerate(verdict_lines, 1):
        text = line or "no records yet"
        rows.append([str(number), claim, text])
    return table_lines(["#", "claim", "verdict (from the numbers below)"], rows)


CLAIM_NAMES = ("long-range dependencies", "vanishing gradients", "parallelism and O(n²)",
               "positional encoding", "multi-head", "LayerNorm vs BatchNorm",
               "masked attention", "pretraining then fine-tuning", "ViT on images")


def markdown(claims_dir, folder):
    """The page and the plots it shows."""
    claims_dir = Path(claims_dir)
    runs_root = claims_dir.parent
    claims_records = _records(claims_dir)
    long_range = _records(runs_root / LONG_RANGE_DIR)
    frame = seeds_frame(claims_records)
    sections = [section_long_range(long_range, folder), section_gradients(frame, folder),
                section_parallel(runs_root / SPEED_DIR, folder)]
    sections += [section(frame, folder) for section in (
        section_positions, section_heads, section_norm, section_masking, section_pretraining,
        section_vit)]
    all_records = claims_records + long_range
    page = [
        "# Claims about Transformers vs RNNs, measured", "",
        "Each section states a claim, the wording it is usually given in, the setup, "
        "the measured table and a verdict that a rule stated in the section computes from "
        "those numbers (`zoo/report/claims/`). Means ± sample standard deviations are over "
        "seeds. These are CPU-sized runs (`quick` profile: `_small` models, short "
        f"sequences, {_steps(all_records)}); a verdict holds for that setting, not for "
        "every scale. The same experiment files run at `--profile full` on an "
        "accelerator.", "",
        *([PROTOCOL + CLAIMS_PROTOCOL, ""] if any(r["run"].get("searched") for r in all_records)
          else []),
        f"Time: the claims runs took {wall_time_text(claims_records)} of run wall time (sum over "
        f"runs; `long_range` another {wall_time_text(long_range)}), run two at a time, one on "
        "each of the 2 cores.", "",
        "Regenerate: `zoo run long_range --out results/runs/long_range`, "
        "`zoo bench --out results/runs/speed`, `zoo run claims --out results/runs/claims` "
        "(or one `claim_*` experiment at a time with the same `--out`), then "
        "`zoo report claims`.", "",
        "## Headline", "",
    ]
    verdicts = [(name, s.verdict.replace("**Verdict:** ", ""))
                for name, s in zip(CLAIM_NAMES, sections)]
    page += _headline(verdicts)
    page += section_changes(verdicts, runs_root)
    for section in sections:
        page += section.lines
    page += ["## Where this was measured", "",
             environment_paragraph(all_records) if all_records else "-", ""]
    return "\n".join(page).rstrip() + "\n", [p for s in sections for p in s.plots]


def _records(folder):
    """The records in `folder`; none when it is missing or holds none yet."""
    folder = Path(folder)
    return load_records(folder) if any(folder.glob(f"*/{RECORD_FILE}")) else []


def _steps(records):
    steps = sorted({r["run"].get("steps") for r in records if r["run"].get("steps")})
    if not steps:
        return "short budgets"
    return (f"{steps[0]:,} steps" if steps[0] == steps[-1]
            else f"{steps[0]:,}-{steps[-1]:,} steps")


def write_report(claims_dir, results_dir):
    """Write `claims.md`, `claims.csv` (the claims runs, one row per
    configuration) and the plots; return the paths, CSV and Markdown first."""
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / "claims.csv", folder / "claims.md"
    claims_dir = Path(claims_dir)
    records = _records(claims_dir)
    if records:
        aggregate(records).to_csv(csv_path, index=False, float_format="%.6g",
                                         lineterminator="\n")
    elif csv_path.exists():
        csv_path.unlink()  # the rows of records no longer in the folder
    text, plots = markdown(claims_dir, folder)
    md_path.write_text(text, encoding="utf-8")
    for stale in set(folder.glob("claims_*.png")) - {Path(p) for p in plots}:
        stale.unlink()  # a plot of records no longer in the folder
    return ([csv_path] if records else []) + [md_path, *plots]


def headline_table(md_path):
    """The headline table of a written `claims.md` (for the README)."""
    return "\n".join(headline_lines(Path(md_path).read_text(encoding="utf-8")))
