"""2. Vanishing gradients: gradient norm by distance, at initialisation and trained."""

from pathlib import Path

import numpy as np

from zoo.report.claims.common import (
    RECURRENT,
    SOURCES,
    Section,
    family_rank,
    fmt,
    mean_std,
    missing_section,
    plot_lines,
    setup_line,
    table_lines,
)


def gradient_profile(norms):
    """`(near, far, ratio)`: mean norm over the nearest and the farthest tenth
    of the distances, and far / near."""
    norms = np.asarray(norms, dtype=float)
    tenth = max(1, len(norms) // 10)
    near, far = float(norms[:tenth].mean()), float(norms[-tenth:].mean())
    return near, far, far / near if near > 0 else float("nan")


def section_gradients(frame, folder):
    title = "2. Vanishing gradients, measured"
    rows = frame[frame["record"].map(lambda r: "gradients" in (r.get("probes") or {}))] \
        if len(frame) else frame
    if rows.empty:
        return Section(missing_section(title, "probe `gradients`",
                                "zoo run claim_gradients --out results/runs/claims"))
    lines = [f"## {title}", "", f"Source: {SOURCES['gradients']}.", "",
             "Claim: in a recurrent network the gradient of the loss with respect to an "
             "input shrinks with the distance between that input and the output; "
             "through attention it does not.", "",
             setup_line(rows, "Probe: the norm of ∂loss/∂x_t of the last output, by "
                         "distance T-1-t, mean over 64 test examples "
                         "(`zoo.runner.diagnostics.gradient_by_distance`), at initialisation and "
                         "after training."), "",
             "far / near = mean norm over the farthest tenth of the distances ÷ over the "
             "nearest tenth (1: no decay); mean ± std over seeds.", ""]
    table, curves, verdicts = [], {}, {}
    for family in sorted(rows["family"].unique(), key=family_rank):
        fam = rows[rows["family"] == family]
        probe = [r["probes"]["gradients"] for r in fam["record"]]
        cells, means = [family], []
        for stage in ("init", "trained"):
            ratios = [gradient_profile(p[stage])[2] for p in probe]
            cells.append(fmt(mean_std(ratios), 3) if max(ratios) >= 1e-3 else
                         f"{np.mean(ratios):.1e}")
            means.append(float(np.mean(ratios)))
            curves[(family, stage)] = np.mean([p[stage] for p in probe], axis=0)
        cells.append(fmt(mean_std(fam["test"]), 4))
        verdicts[family] = tuple(means)  # (at init, trained)
        table.append(cells)
    metric = rows["metric"].iloc[0]
    lines += table_lines(["family", "far / near at init", "far / near trained", f"test {metric}"],
                    table)
    paths = _gradient_plots(curves, folder, int(rows["knobs"].iloc[0].get("sequence_length", 0)))
    lines += plot_lines(paths, folder)
    attention = verdicts.get("transformer")
    texts = []
    for family in RECURRENT:
        if family not in verdicts or attention is None:
            continue
        init_ratio, trained_ratio = verdicts[family]
        vanishes = [stage for stage, ratio, other in
                    (("at initialisation", init_ratio, attention[0]),
                     ("after training", trained_ratio, attention[1]))
                    if ratio < 0.1 * other]
        if len(vanishes) == 2:
            texts.append(f"{family}: holds (far/near {init_ratio:.1e} at init, "
                         f"{trained_ratio:.1e} trained, vs transformer {attention[0]:.2f} / "
                         f"{attention[1]:.2f})")
        elif vanishes:
            texts.append(f"{family}: holds only {vanishes[0]} (far/near {init_ratio:.1e} "
                         f"at init, {trained_ratio:.1e} trained; transformer "
                         f"{attention[0]:.2f} / {attention[1]:.2f})")
        else:
            texts.append(f"{family}: does not hold (far/near {init_ratio:.2f} at init, "
                         f"{trained_ratio:.2f} trained; transformer {attention[0]:.2f} / "
                         f"{attention[1]:.2f})")
    if attention is None:
        texts = ["not measured yet (the rule compares with the Transformer, which has no "
                 "records here yet)"]
    elif not texts:
        texts = ["not measured yet (no recurrent family has records here yet)"]
    lines += ["Rule: gradients vanish for a family when its far/near ratio is under a tenth "
              "of the Transformer's.", "",
              "**Verdict:** " + "; ".join(texts) + ".", ""]
    return Section(lines, verdicts, paths)


def _gradient_plots(curves, folder, length):
    from matplotlib.figure import Figure

    paths = []
    figure = Figure(figsize=(9.6, 4.0), dpi=110)
    panels = figure.subplots(1, 2, sharey=True)
    for axes, stage in zip(panels, ("init", "trained")):
        for (family, at), norms in sorted(curves.items(), key=lambda i: family_rank(i[0][0])):
            if at == stage:
                axes.plot(np.arange(len(norms)), np.maximum(norms, 1e-30), label=family)
        axes.set_yscale("log")
        axes.set_xlabel("distance from the output (steps)")
        axes.set_title(f"{'at initialisation' if stage == 'init' else 'after training'}",
                       fontsize=10)
    panels[0].set_ylabel("mean ‖∂loss/∂x_t‖ (log)")
    panels[1].legend(fontsize=8)
    figure.suptitle(f"claims: gradient norm by distance, adding T={length}", fontsize=10)
    figure.tight_layout()
    path = Path(folder) / "claims_gradients.png"
    figure.savefig(path, metadata={"Software": None})
    paths.append(path)
    return paths
