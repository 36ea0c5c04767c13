"""8. Masked-token self-pretraining, then fine-tuning."""

import math

from zoo.report.claims.common import (
    NEAR_CHANCE,
    RULE,
    SOURCES,
    Section,
    fmt,
    mean_std,
    missing_section,
    scores_by,
    separated,
    setup_line,
    table_lines,
    verdict_line,
)


def section_pretraining(frame, folder):
    title = "8. Self-pretraining, then fine-tuning"
    tasks = ("listops", "imdb_bytes")
    rows = frame[frame["task"].isin(tasks) & (frame["family"] == "transformer")
                 & (frame["overrides"].map(len) == 0)] if len(frame) else frame
    rows = rows[rows["task"].isin(tasks)] if len(rows) else rows
    if rows.empty or not rows["pretrain_steps"].notna().any():
        return Section(missing_section(title, "claim_pretraining"))
    rows = rows.assign(variant=rows["pretrain_steps"].map(
        lambda s: "from scratch" if s is None or (isinstance(s, float) and math.isnan(s))
        else f"pretrained {int(s)} steps"))
    lines = [f"## {title}", "", f"Source: {SOURCES['pretraining']}.", "",
             "Claim: a Transformer first pretrained with a masked-token objective on the "
             "task's own training inputs (no extra data; Amos et al. 2023), then fine-tuned, "
             "beats one trained from scratch with the same fine-tuning budget.", "",
             setup_line(rows, "Pretraining masks 15 % of the (non-padding) tokens; the "
                         "pretrained model is saved to `pretrained.keras` and loaded back "
                         "before fine-tuning."), ""]
    table, verdicts = [], {}
    for task in tasks:
        group = rows[rows["task"] == task]
        if group.empty:
            continue
        scores = scores_by(group, "variant")
        for (variant,), pair in sorted(scores.items()):
            pre = [r.get("pretraining") for r in group[group["variant"] == variant]["record"]]
            masked = mean_std([p["validation_masked_accuracy"] for p in pre if p])
            table.append([f"`{task}`", variant, fmt(pair),
                          fmt(masked) if math.isfinite(masked[0]) else "-"])
        scratch = scores.get(("from scratch",))
        pretrained = [k for k in scores if k[0] != "from scratch"]
        if scratch and pretrained:
            best = scores[pretrained[0]]
            chance = group["record"].iloc[0].get("baseline")
            if chance is not None and max(best[0], scratch[0]) < chance + NEAR_CHANCE:
                word = f"undecided (both within {NEAR_CHANCE} of chance, {chance:.2f})"
            elif separated(best, scratch):
                word = "holds" if best[0] > scratch[0] else "does not hold (scratch better)"
            else:
                word = "no difference measured"
            verdicts[task] = f"{word} ({pretrained[0][0]} {fmt(best)} vs scratch {fmt(scratch)})"
    lines += table_lines(["task", "training", "test accuracy", "masked-token accuracy after "
                     "pretraining (validation)"], table)
    lines += ["Rule: pretraining helps on a task when the pretrained mean is above the "
              f"scratch mean and they differ by the test ({RULE}).", "", verdict_line(verdicts), ""]
    return Section(lines, verdicts)
