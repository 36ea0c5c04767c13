"""4. Positional encoding: none, sinusoidal, learned, rotary; length generalisation."""

from pathlib import Path

import pandas as pd

from zoo.report.claims.common import (
    RULE,
    SOURCES,
    Section,
    chosen_on_validation,
    fmt,
    mean_std,
    missing_section,
    plot_lines,
    scores_by,
    separated,
    setup_line,
    table_lines,
    verdict_line,
    with_setting,
)


def section_positions(frame, folder):
    title = "4. Positional encoding"
    rows = frame[frame["task"].isin(["copying", "induction_heads"])
                 & frame["family"].isin(["transformer", "transformer_decoder"])] \
        if len(frame) else frame
    if rows.empty:
        return Section(missing_section(title, "claim_positions"))
    rows = with_setting(rows, "position")
    lines = [f"## {title}", "", f"Source: {SOURCES['positions']}.", "",
             "Claim: without position information a Transformer cannot solve an "
             "order-sensitive task; and the encodings differ in how far they carry past "
             "the training length.", "", setup_line(rows), ""]
    order = ("none", "sinusoidal", "learned", "rotary")
    verdicts, paths = {}, []
    for task in sorted(rows["task"].unique()):
        task_rows = rows[rows["task"] == task]
        scores = scores_by(task_rows, "variant")
        extra_names = sorted({name for r in task_rows["record"] for name in r["extra_tests"]},
                             key=lambda n: int(n.rsplit("_", 1)[-1]) if n[-1].isdigit() else 0)
        header = ["position", f"test {task_rows['metric'].iloc[0]}"]
        header += [n.replace("test_length_", "T=") for n in extra_names]
        table, curve = [], []
        for position in order:
            if (position,) not in scores:
                continue
            group = task_rows[task_rows["variant"] == position]
            cells = [position, fmt(scores[(position,)])]
            for name in extra_names:
                pair = mean_std([r["extra_tests"].get(name, {}).get("accuracy")
                                 for r in group["record"]])
                cells.append(fmt(pair))
                curve.append({"position": position, "length": int(name.rsplit("_", 1)[-1]),
                              "mean": pair[0], "std": pair[1]})
            table.append(cells)
        lines += [f"`{task}`:", ""] + table_lines(header, table)
        if curve:
            from zoo.report import plots

            path = Path(folder) / f"claims_positions_{task}.png"
            data = pd.DataFrame(curve).fillna({"std": 0.0})
            plots.line_plot(data, x="length", y="mean", group="position", path=path,
                            yerr="std", xlabel="test length", ylabel="accuracy",
                            title=f"claims: {task}, accuracy by test length "
                                  f"(trained at {task_rows['knobs'].iloc[0].get('sequence_length')})")
            paths.append(path)
        none = scores.get(("none",))
        others = {p: scores[(p,)] for p in order[1:] if (p,) in scores}
        best = chosen_on_validation(others)
        if none and best is not None:
            differ = separated(others[best], none)
            if differ and others[best][0] > none[0]:
                verdicts[task] = (f"holds ({best} {fmt(others[best])} vs none {fmt(none)})")
            elif differ:
                verdicts[task] = (f"does not hold (none {fmt(none)}, best encoding {best} "
                                  f"{fmt(others[best])})")
            else:
                verdicts[task] = (f"no difference measured (best encoding {best} "
                                  f"{fmt(others[best])} vs none {fmt(none)})")
        if extra_names:
            trained_at = task_rows["knobs"].iloc[0].get("sequence_length")
            longest = extra_names[-1]
            at_longest = {p: mean_std([r["extra_tests"].get(longest, {}).get("accuracy")
                                       for r in task_rows[task_rows["variant"] == p]["record"]])
                          for p in order if (p,) in scores}
            carried = [p for p in at_longest
                       if at_longest[p][0] >= 0.9 * scores[(p,)][0] and scores[(p,)][0] > 0.5]
            best = max(at_longest, key=lambda p: at_longest[p][0])
            verdicts[f"{task} length generalisation"] = (
                f"kept ≥ 90 % of the training-length accuracy at "
                f"{longest.replace('test_length_', 'T=')} (trained at T={trained_at}): "
                f"{', '.join(carried) if carried else 'no encoding'}; best there: {best} "
                f"{fmt(at_longest[best])}")
    lines += plot_lines(paths, folder)
    lines += ["Rule: positions are needed on a task when the best encoding's accuracy (the "
              "encoding chosen on validation) and "
              f"`none`'s differ by the test ({RULE}) and the encoding's is higher; "
              "they are not needed when `none`'s is higher by that test.", "",
              verdict_line(verdicts), ""]
    return Section(lines, verdicts, paths)
