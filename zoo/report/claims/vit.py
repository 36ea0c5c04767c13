"""9. ViT vs sequence models on images."""

import math

import numpy as np

from zoo.report.claims.common import (
    RULE,
    SOURCES,
    Section,
    family_and_size,
    family_rank,
    fmt,
    mean_std,
    missing_section,
    scores_by,
    separated,
    setup_line,
    table_lines,
)


def time_to_accuracy(record, threshold):
    """Training seconds (validation left out) until validation first reached
    `threshold`; None if it never did."""
    scores = (record.get("validation") or {}).get(record["metric"]) or []
    seconds = record.get("validation_train_seconds") or []
    for score, at in zip(scores, seconds):
        if score is not None and score >= threshold:
            return at
    return None


def _time_text(facts, threshold):
    """"in 6.8 s to 0.30", or that no seed's validation reached the threshold."""
    if not math.isfinite(facts["time"][0]):
        return f"(validation never reached {threshold:.2f})"
    return f"in {facts['time'][0]:.1f} s to {threshold:.2f}"


def section_vit(frame, folder):
    title = "9. ViT vs sequence models on images"
    rows = frame[frame["task"].isin(["mnist_image", "smnist"])] if len(frame) else frame
    if rows.empty:
        return Section(missing_section(title, "claim_vit"))
    rows = rows.assign(variant=rows["model"])
    scores = scores_by(rows, ["model", "task"])
    finals = [pair[0] for pair in scores.values() if math.isfinite(pair[0])]
    threshold = math.floor(min(finals) * 20) / 20 if finals else 0.5  # all reach it
    lines = [f"## {title}", "", f"Source: {SOURCES['vit']}.", "",
             "Claim: a ViT (attention over image patches) classifies digits better, and "
             "sooner, than an LSTM or a Transformer reading the same image pixel by pixel, "
             "at an equal parameter budget.", "",
             setup_line(rows, f"Time to accuracy: training seconds (validation time left "
                         f"out) until validation accuracy first reached {threshold:.2f}, the "
                         "highest 0.05 step every model's mean reaches; validation after "
                         "every epoch."), ""]
    table, facts = [], {}
    for (model, task), pair in sorted(scores.items(), key=lambda i: family_rank(
            family_and_size(i[0][0])[0])):
        group = rows[(rows["model"] == model) & (rows["task"] == task)]
        records = list(group["record"])
        times = [time_to_accuracy(r, threshold) for r in records]
        reached = [t for t in times if t is not None]
        time_pair = mean_std(reached)
        facts[model] = {"accuracy": pair, "time": time_pair, "reached": len(reached),
                        "seconds": mean_std([r["train_seconds"] for r in records])}
        table.append([model, f"`{task}`", f"{records[0]['params']['mixer']:,}",
                      f"{records[0]['input_length']}", fmt(pair),
                      f"{fmt(time_pair, 1)} ({len(reached)}/{len(records)} seeds)",
                      fmt(facts[model]["seconds"], 1),
                      f"{np.median([r['train_steps_per_second'] for r in records]):.1f}"])
    lines += table_lines(["model", "task", "mixer params", "input length", "test accuracy",
                     f"seconds to {threshold:.2f}", "train seconds", "train steps/s"], table)
    vit = [m for m in facts if m.startswith("vit")]
    others = [m for m in facts if not m.startswith("vit")]
    texts = []
    if vit and others:
        v = facts[vit[0]]
        differs = {o: separated(v["accuracy"], facts[o]["accuracy"]) for o in others}
        better = all(differs[o] and v["accuracy"][0] > facts[o]["accuracy"][0] for o in others)
        worse = any(differs[o] and v["accuracy"][0] < facts[o]["accuracy"][0] for o in others)
        sooner = all(v["time"][0] < facts[o]["time"][0] for o in others
                     if math.isfinite(facts[o]["time"][0]))
        word = ("does not hold" if worse else "no difference measured" if not better
                else "holds" if sooner else "holds for accuracy only")
        texts.append(f"{word}: {vit[0]} {fmt(v['accuracy'])} {_time_text(v, threshold)}, vs "
                     + ", ".join(f"{o} {fmt(facts[o]['accuracy'])} "
                                 f"{_time_text(facts[o], threshold)}" for o in others))
    else:
        texts.append("not measured yet (the rule compares a ViT with a sequence model; "
                     f"records here: {', '.join(facts) or 'none'})")
    lines += ["Rule: holds when the ViT's accuracy is above each sequence model's and they "
              f"differ by the test ({RULE}), and it reaches the threshold sooner; does not "
              "hold when a sequence model's accuracy is above the ViT's by that test; no "
              "difference measured otherwise.", "",
              "**Verdict:** " + "; ".join(texts) + ".", ""]
    return Section(lines, facts)
