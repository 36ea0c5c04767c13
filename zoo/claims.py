"""`results/claims.md`: each claim about Transformers vs RNNs, the runs that
test it, and a verdict computed from their numbers.

    from zoo import claims
    claims.write_report("results/runs/claims", "results")   # claims.md, .csv, plots

Reads three folders of records: the one given (the `claims` experiment:
claims 2 and 4-9) and, beside it, `long_range` (claim 1) and `speed` (`zoo
bench`, claim 3). A claim whose records are missing says so instead of a
verdict. Every number shown is computed here from the records; the verdict
rules are stated in the page and applied by the functions below.

Comparison rule (`separated`): two settings differ when their means over
seeds differ by more than the sum of their standard deviations (their mean
± std intervals do not overlap); otherwise the page says "no difference
measured".
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from zoo import report

LONG_RANGE_DIR, SPEED_DIR = "long_range", "speed"  # beside the claims records
RECURRENT = ("rnn", "lstm", "gru")
FAMILY_ORDER = ("rnn", "lstm", "gru", "transformer", "transformer_decoder", "vit")
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

def _seeds_frame(records):
    """One row per finished record with what the claims group and compare by."""
    rows = []
    for record in records:
        run = record["run"]
        if record.get("status") != "finished":
            continue
        family, size = report.family_and_size(run["model"])
        rows.append({
            "model": run["model"], "family": family, "size": size, "task": run["task"],
            "knobs": run.get("task_knobs") or {}, "overrides": run.get("model_overrides") or {},
            "pretrain_steps": run.get("pretrain_steps"), "seed": run["seed"],
            "metric": record["metric"], "test": report._metric_value(record),
            "record": record,
        })
    return pd.DataFrame(rows)


def mean_std(values):
    """`(mean, sample std)` of finite values; std NaN for one value."""
    values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not values:
        return float("nan"), float("nan")
    std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
    return float(np.mean(values)), std


def separated(a, b):
    """Whether `(mean, std)` pairs `a` and `b` differ beyond the seeds' spread."""
    (ma, sa), (mb, sb) = a, b
    if not (math.isfinite(ma) and math.isfinite(mb)):
        return False
    return abs(ma - mb) > (sa if math.isfinite(sa) else 0.0) + (sb if math.isfinite(sb) else 0.0)


def fmt(pair, digits=3):
    mean, std = pair
    if not math.isfinite(mean):
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if math.isfinite(std) else f"{mean:.{digits}f}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _family_key(family):
    return FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER)


def _seeds_text(frame):
    settings = {}
    for record in frame["record"]:
        run = dict(record["run"], seed=None)
        settings.setdefault(json.dumps(run, sort_keys=True), set()).add(record["run"]["seed"])
    counts = [len(seeds) for seeds in settings.values()]
    low, high = min(counts), max(counts)
    return f"{low}" if low == high else f"{low}-{high}"


def _budget_text(record):
    run = record["run"]
    text = (f"{run.get('steps') or str(run.get('epochs')) + ' epoch(s)'} steps of batch "
            f"{run['batch_size']}, {run.get('optimizer', 'adam')} lr {run['learning_rate']}")
    if run.get("schedule", "constant") != "constant":
        text += f" ({run['schedule']})"
    return text


def _knobs_text(knobs):
    return ", ".join(f"{k}={v}" for k, v in sorted(knobs.items())) or "defaults"


def _common(knob_sets):
    """The knobs every run shares (those that vary are the variants)."""
    knob_sets = list(knob_sets)
    return {k: v for k, v in knob_sets[0].items() if all(ks.get(k) == v for ks in knob_sets)}


def _span(values):
    return f"{values[0]:,}" if values[0] == values[-1] else f"{values[0]:,}-{values[-1]:,}"


def _params_text(frame):
    mixer = sorted({r["params"]["mixer"] for r in frame["record"]})
    total = sorted({r["params"]["total"] for r in frame["record"]})
    return f"mixer parameters {_span(mixer)} (total {_span(total)})"


def _setup_line(frame, extra=""):
    first = frame["record"].iloc[0]
    tasks = sorted(frame["task"].unique())
    knobs = "; ".join(f"`{t}` {_knobs_text(_common(frame[frame['task'] == t]['knobs']))}"
                      for t in tasks)
    budgets = sorted({_budget_text(r) for r in frame["record"]})
    return (f"Setup: {', '.join(sorted(frame['model'].unique()))}; {knobs}; "
            f"{' / '.join(budgets)}; {_params_text(frame)}; seeds per setting: "
            f"{_seeds_text(frame)}.{(' ' + extra) if extra else ''} Records: "
            f"{len(frame)} runs, {frame['record'].map(lambda r: r.get('wall_seconds') or 0).sum() / 60:.1f} "
            f"min of run wall time ({first['environment'].get('backend')}).")


def _plot_lines(paths, folder):
    return [f"![{Path(p).stem}]({Path(p).relative_to(folder).as_posix()})" for p in paths] + [""]


def _missing_section(title, what, command=None):
    command = command or f"zoo run {what} --out results/runs/claims"
    return [f"## {title}", "", f"No records yet for this claim ({what}). Produce them with "
            f"`{command}`, then `zoo report claims`.", ""]


# --- 1. long range ----------------------------------------------------------

def section_long_range(records, folder):
    title = "1. Long-range dependencies: attention vs recurrence"
    if not records:
        return _missing_section(title, "long_range", "zoo run long_range --out "
                                "results/runs/long_range"), {}, []
    table = report.aggregate(records)
    lines = [f"## {title}", "", f"Source: {SOURCES['long_range']}.", "",
             "Claim: at equal parameters and steps, the Transformer solves longer "
             "dependencies than RNN, LSTM and GRU.", ""]
    first = records[0]
    lines += [f"Setup: the `long_range` experiment (`zoo run long_range`): "
              f"{', '.join(sorted(table['model'].unique()))}, {_budget_text(first)}, "
              f"{int(table['seeds'].max())} seeds; solved = the task's `solved_at` "
              "on the test split by a majority of seeds. Accuracy vs length: "
              "[long_range.md](long_range.md) and its plots.", ""]
    families = sorted(table["family"].unique(), key=_family_key)
    rows, verdicts = [], {}
    for task in sorted(table["task"].unique()):
        task_rows = table[table["task"] == task]
        longest = {}
        for family in families:
            fam = task_rows[task_rows["family"] == family]
            if fam.empty:
                continue
            won = fam[fam["solved (majority)"] == True]  # noqa: E712 (pandas)
            longest[family] = int(won["length"].max()) if len(won) else 0
        cells = []
        for family in families:
            fam = task_rows[task_rows["family"] == family].sort_values("length")
            values = ", ".join(f"{int(r['length'])}: {r['test mean']:.3f}"
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
    lines += _table(["task"] + list(families), rows)
    paths = [_long_range_plot(table, families, folder)]
    lines += _plot_lines(paths, folder)
    lines += [_verdict_line(verdicts), ""]
    return lines, verdicts, paths


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
            fam = rows[rows["family"] == family].sort_values("length")
            if len(fam):
                axes.errorbar(fam["length"], fam["test mean"], yerr=fam["test std"].fillna(0),
                              marker="o", markersize=3, capsize=2, label=family)
        axes.axhline(rows["baseline"].iloc[0], color="grey", linestyle="--", linewidth=1)
        axes.set_xscale("log")
        lengths = sorted(rows["length"].unique())
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


def _verdict_line(verdicts):
    parts = [f"`{task}`: {text}" for task, text in verdicts.items()]
    if not parts:
        return "**Verdict:** none yet (no setting has records on both sides of the comparison)."
    return "**Verdict:** " + "; ".join(parts) + "."


# --- 2. gradients -----------------------------------------------------------

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
        return _missing_section(title, "probe `gradients`",
                                "zoo run claim_gradients --out results/runs/claims"), {}, []
    lines = [f"## {title}", "", f"Source: {SOURCES['gradients']}.", "",
             "Claim: in a recurrent network the gradient of the loss with respect to an "
             "input shrinks with the distance between that input and the output; "
             "through attention it does not.", "",
             _setup_line(rows, "Probe: the norm of ∂loss/∂x_t of the last output, by "
                         "distance T-1-t, mean over 64 test examples "
                         "(`zoo.diagnostics.gradient_by_distance`), at initialisation and "
                         "after training."), "",
             "far / near = mean norm over the farthest tenth of the distances ÷ over the "
             "nearest tenth (1: no decay); mean ± std over seeds.", ""]
    table, curves, verdicts = [], {}, {}
    for family in sorted(rows["family"].unique(), key=_family_key):
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
    lines += _table(["family", "far / near at init", "far / near trained", f"test {metric}"],
                    table)
    paths = _gradient_plots(curves, folder, int(rows["knobs"].iloc[0].get("sequence_length", 0)))
    lines += _plot_lines(paths, folder)
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
    lines += ["Rule: gradients vanish for a family when its far/near ratio is under a tenth "
              "of the Transformer's.", "",
              "**Verdict:** " + "; ".join(texts) + ".", ""]
    return lines, verdicts, paths


def _gradient_plots(curves, folder, length):
    from matplotlib.figure import Figure

    paths = []
    figure = Figure(figsize=(9.6, 4.0), dpi=110)
    panels = figure.subplots(1, 2, sharey=True)
    for axes, stage in zip(panels, ("init", "trained")):
        for (family, at), norms in sorted(curves.items(), key=lambda i: _family_key(i[0][0])):
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


# --- 3. parallelism and O(n^2) ---------------------------------------------

def section_parallel(speed_dir, folder):
    title = "3. Parallel training and the O(n²) cost of attention"
    from zoo import bench_report
    from zoo.plots import fit_exponent

    records = bench_report.load_records(speed_dir) if Path(speed_dir).is_dir() else []
    if not records:
        return _missing_section(title, "speed", "zoo bench --out results/runs/speed"), {}
    table = bench_report.results_table(records)
    ok = table[(table["status"] == "ok") & (table["kind"] == "zoo")]
    lines = [f"## {title}", "", f"Source: {SOURCES['parallel']}.", "",
             "Claim: a Transformer's train step processes all positions at once (more "
             "tokens per second than a recurrent loop at short lengths), but its time and "
             "memory grow quadratically with the length, so an LSTM overtakes it at "
             "some length.", "",
             f"Setup: `zoo bench` ({len(records)} measurements; see [speed.md](speed.md) "
             "for the method and every implementation): the zoo's own layers, "
             f"{', '.join(sorted(ok['size'].unique()))} size, batch "
             f"{', '.join(map(str, sorted(ok['batch_size'].unique())))}, lengths "
             f"{', '.join(map(str, sorted(ok['sequence_length'].unique())))}; train-step "
             "time and peak memory are medians of timed steps (one measurement per "
             "length, no seeds: a speed, not a learning result).", ""]
    rows, facts = [], {}
    for (implementation, family), group in sorted(
            ok.groupby(["implementation", "family"]),
            key=lambda i: (i[0][0], _family_key(i[0][1]))):
        group = group.sort_values("sequence_length")
        lengths = group["sequence_length"].to_numpy()
        time_all = fit_exponent(lengths, group["train_step_ms"])
        time_top = fit_exponent(lengths[-2:], group["train_step_ms"].to_numpy()[-2:])
        memory = fit_exponent(lengths, group["memory_above_start_mb"])
        tokens = (group["train_tokens_per_second"].to_numpy()[0], int(lengths[0]))
        facts[(implementation, family)] = {"time": time_all, "time_top": time_top,
                                           "memory": memory, "first_tokens": tokens}
        rows.append([implementation, family, f"{lengths[0]}-{lengths[-1]}",
                     f"{time_all:.2f}", f"{time_top:.2f}",
                     "-" if math.isnan(memory) else f"{memory:.2f}",
                     f"{tokens[0]:,.0f} at T={tokens[1]}"])
    lines += ["Fitted k of y ~ T^k (1: linear, 2: quadratic) over all lengths, and between "
              "the two longest:", ""]
    lines += _table(["implementation", "family", "lengths", "train-step k",
                     "train-step k (two longest)", "memory k", "train tokens/s (shortest)"],
                    rows)
    crossovers = {}
    for implementation in sorted(ok["implementation"].unique()):
        group = ok[ok["implementation"] == implementation]
        lstm = group[group["family"] == "lstm"].set_index("sequence_length")["train_step_ms"]
        attention = group[group["family"] == "transformer"].set_index(
            "sequence_length")["train_step_ms"]
        if len(lstm) and len(attention):
            crossovers[implementation] = bench_report.crossover(lstm, attention, "lstm")
    lines += ["Where the LSTM's train step becomes faster than the Transformer's "
              "(interpolated in log-log between measured lengths):", ""]
    lines += _table(["implementation", "LSTM vs Transformer"],
                    [[k, v] for k, v in crossovers.items()])
    quadratic = {k: v for k, v in facts.items() if k[1] == "transformer"}
    recurrent = {k: v for k, v in facts.items() if k[1] == "lstm"}
    texts = []
    if quadratic:
        tops = [v["time_top"] for v in quadratic.values()]
        mems = [v["memory"] for v in quadratic.values() if not math.isnan(v["memory"])]
        lstm_tops = [v["time_top"] for v in recurrent.values()]
        time_text = (f"train-step exponent of attention between the two longest lengths "
                     f"{min(tops):.2f}-{max(tops):.2f}"
                     + (f" vs LSTM {min(lstm_tops):.2f}-{max(lstm_tops):.2f}"
                        if lstm_tops else ""))
        verdict_time = "holds" if min(tops) >= 1.5 else (
            "holds only at the longest lengths" if max(tops) >= 1.5 else "not reached")
        texts.append(f"O(n²) time: {verdict_time} ({time_text})")
        if mems:
            verdict_memory = "holds" if min(mems) >= 1.5 else (
                "holds for some backends" if max(mems) >= 1.5 else
                "not reached at these lengths")
            texts.append(f"O(n²) memory: {verdict_memory} (memory exponent "
                         f"{min(mems):.2f}-{max(mems):.2f})")
    if crossovers:
        crossed = {k: v for k, v in crossovers.items() if v.startswith("T ≈")}
        lstm_ahead = [k for k, v in crossovers.items() if v.endswith("lstm faster throughout")]
        if len(crossed) == len(crossovers):
            word = "holds"
        elif crossed:
            word = "holds only on " + ", ".join(crossed)
        elif len(lstm_ahead) == len(crossovers):
            word = "does not hold on this machine (the LSTM's step is faster at every length)"
        else:
            word = "holds only in part (attention faster at every length, no crossover)"
        texts.append(f"faster in parallel, then overtaken by the LSTM: {word} ("
                     + "; ".join(f"{k}: {v}" for k, v in crossovers.items()) + ")")
    lines += ["Rule: O(n²) holds when the exponent between the two longest lengths is "
              "≥ 1.5.", "", "**Verdict:** " + "; ".join(texts) + ".", ""]
    return lines, facts


# --- 4-9 from the claims runs -----------------------------------------------

def _by(frame, keys):
    """`{key tuple: (mean, std)}` of the test metric."""
    return {key if isinstance(key, tuple) else (key,): mean_std(group["test"])
            for key, group in frame.groupby(keys, dropna=False)}


def _preset_value(model, field):
    import zoo.models

    return getattr(zoo.models.config(model), field)


def _with_preset(frame, field):
    """Column `variant`: the override of `field`, or the preset's value."""
    return frame.assign(variant=[o.get(field, _preset_value(m, field))
                                 for o, m in zip(frame["overrides"], frame["model"])])


def section_positions(frame, folder):
    title = "4. Positional encoding"
    rows = frame[frame["task"].isin(["copying", "induction_heads"])
                 & frame["family"].isin(["transformer", "transformer_decoder"])] \
        if len(frame) else frame
    if rows.empty:
        return _missing_section(title, "claim_positions"), {}, []
    rows = _with_preset(rows, "position")
    lines = [f"## {title}", "", f"Source: {SOURCES['positions']}.", "",
             "Claim: without position information a Transformer cannot solve an "
             "order-sensitive task; and the encodings differ in how far they carry past "
             "the training length.", "", _setup_line(rows), ""]
    order = ("none", "sinusoidal", "learned", "rotary")
    verdicts, paths = {}, []
    for task in sorted(rows["task"].unique()):
        task_rows = rows[rows["task"] == task]
        scores = _by(task_rows, "variant")
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
        lines += [f"`{task}`:", ""] + _table(header, table)
        if curve:
            from zoo import plots

            path = Path(folder) / f"claims_positions_{task}.png"
            data = pd.DataFrame(curve).fillna({"std": 0.0})
            plots.line_plot(data, x="length", y="mean", group="position", path=path,
                            yerr="std", xlabel="test length", ylabel="accuracy",
                            title=f"claims: {task}, accuracy by test length "
                                  f"(trained at {task_rows['knobs'].iloc[0].get('sequence_length')})")
            paths.append(path)
        none = scores.get(("none",))
        others = {p: scores[(p,)] for p in order[1:] if (p,) in scores}
        if none and others:
            best = max(others, key=lambda p: others[p][0])
            if separated(others[best], none) and others[best][0] > none[0]:
                verdicts[task] = (f"holds ({best} {fmt(others[best])} vs none {fmt(none)})")
            else:
                verdicts[task] = (f"does not hold (none {fmt(none)}, best encoding {best} "
                                  f"{fmt(others[best])})")
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
    lines += _plot_lines(paths, folder)
    lines += ["Rule: positions are needed on a task when the best encoding's accuracy and "
              "`none`'s are separated (mean ± std intervals apart).", "",
              _verdict_line(verdicts), ""]
    return lines, verdicts, paths


def _ablation_section(title, source, claim, frame, tasks, field, order, verdict, experiment,
                      changed):
    """`(lines, scores)` of a table of settings x tasks, from the runs of the
    Transformer on `tasks` whose overrides touch only `changed`."""
    rows = frame[frame["task"].isin(tasks) & (frame["family"] == "transformer")
                 & (frame["pretrain_steps"].isna())
                 & frame["overrides"].map(lambda o: set(o) <= set(changed))] \
        if len(frame) else frame
    if len(rows):
        rows = _with_preset(rows, field) if isinstance(field, str) else field(rows)
        rows = rows[rows["variant"].isin(order)]
    if rows.empty:
        return _missing_section(title, experiment), {}
    lines = [f"## {title}", "", f"Source: {source}.", "", f"Claim: {claim}", "",
             _setup_line(rows), ""]
    table, scores = [], {}
    for variant in order:
        cells = [str(variant)]
        for task in tasks:
            group = rows[(rows["task"] == task) & (rows["variant"] == variant)]
            scores[(task, variant)] = mean_std(group["test"])
            cells.append(fmt(scores[(task, variant)]))
        table.append(cells)
    lines += _table(["setting"] + [f"`{t}` test accuracy" for t in tasks], table)
    lines += verdict(scores) + [""]
    return lines, scores


def _best(scores, task, variants):
    present = [v for v in variants if math.isfinite(scores.get((task, v), (math.nan,))[0])]
    return max(present, key=lambda v: scores[(task, v)][0]) if present else None


def section_heads(frame, folder):
    title = "5. Multi-head attention"
    tasks = ("associative_recall", "listops")

    def verdict(scores):
        parts = {}
        for task in tasks:
            single = scores.get((task, 1))
            best = _best(scores, task, (2, 4, 8))
            if single is None or best is None or not math.isfinite(single[0]):
                continue
            if separated(scores[(task, best)], single):
                word = "holds" if scores[(task, best)][0] > single[0] else "does not hold"
                parts[task] = (f"{word} ({best} heads {fmt(scores[(task, best)])} vs 1 head "
                               f"{fmt(single)})")
            else:
                parts[task] = (f"no difference measured (best {best} heads "
                               f"{fmt(scores[(task, best)])} vs 1 head {fmt(single)})")
        return ["Rule: multi-head helps on a task when the best of 2/4/8 heads is above 1 head "
                "with mean ± std intervals apart.", "", _verdict_line(parts)]

    return _ablation_section(
        title, SOURCES["heads"], "at equal width (head size = width / heads, same "
        "parameters), more heads give higher accuracy.", frame, tasks, "num_heads",
        (1, 2, 4, 8), verdict, "claim_heads", ("num_heads",))


def section_norm(frame, folder):
    title = "6. LayerNorm vs BatchNorm vs RMSNorm, pre vs post"
    tasks = ("imdb", "listops")

    def label(rows):
        return rows.assign(variant=[
            f"{o.get('norm', _preset_value(m, 'norm'))}, "
            f"{'pre' if o.get('normalize_first', _preset_value(m, 'normalize_first')) else 'post'}"
            for o, m in zip(rows["overrides"], rows["model"])])

    order = tuple(f"{n}, {p}" for n in ("layer", "batch", "rms") for p in ("post", "pre"))

    def verdict(scores):
        parts = {}
        for task in tasks:
            layer = _best(scores, task, order[0:2])
            batch = _best(scores, task, order[2:4])
            if layer is None or batch is None:
                continue
            a, b = scores[(task, layer)], scores[(task, batch)]
            if separated(a, b):
                word = "holds" if a[0] > b[0] else "does not hold (BatchNorm better)"
            else:
                word = "no difference measured"
            parts[task] = f"{word} (best LayerNorm: {layer} {fmt(a)}; best BatchNorm: {batch} {fmt(b)})"
        return ["Rule: LayerNorm suits a task better when its best placement is above "
                "BatchNorm's best with mean ± std intervals apart.", "", _verdict_line(parts)]

    return _ablation_section(
        title, SOURCES["norm"], "on text (padded, variable-length sequences) LayerNorm "
        "trains better than BatchNorm, whose batch statistics mix in padding.", frame, tasks,
        label, order, verdict, "claim_norm", ("norm", "normalize_first"))


def section_masking(frame, folder):
    title = "7. Masked (causal) attention"
    import zoo.tasks

    rows = frame[frame["task"] == "repeat_lm"] if len(frame) else frame
    if rows.empty:
        return _missing_section(title, "claim_masking"), {}
    rows = _with_preset(rows, "causal")
    knobs = dict(rows["knobs"].iloc[0])
    knobs.pop("causal", None)
    floor = zoo.tasks.get("repeat_lm", **knobs).loss_floor
    lines = [f"## {title}", "", f"Source: {SOURCES['masking']}.", "",
             "Claim: with the causal mask a decoder cannot see the future (its outputs do "
             "not change when later tokens change) and its loss stops at the honest floor; "
             "without it the training loss collapses below that floor while generation, "
             "which has no future to read, fails.", "",
             _setup_line(rows, f"Task `repeat_lm`: a random prefix then the same prefix "
                         f"again, next-token targets; no causal model can go below "
                         f"{floor:.4f} nats per step. Leak: every token after step "
                         f"{rows['record'].iloc[0]['probes']['leak']['cut']} replaced, "
                         "largest change of a predicted probability at or before it. "
                         "Generation: greedy, each output fed back, after the prefix."), ""]
    table, facts = [], {}
    for causal in (True, False):
        group = rows[rows["variant"] == causal]
        if group.empty:
            continue
        probes = [r["probes"] for r in group["record"]]
        fact = {
            "loss": mean_std([r["test"]["loss"] for r in group["record"]]),
            "accuracy": mean_std(group["test"]),
            "leak": max(p["leak"]["max_change"] for p in probes),
            "tokens": mean_std([p["generation"]["token_accuracy"] for p in probes]),
            "sequences": mean_std([p["generation"]["sequence_accuracy"] for p in probes]),
        }
        facts[causal] = fact
        table.append(["on (causal)" if causal else "off", fmt(fact["loss"], 4), f"{floor:.4f}",
                      fmt(fact["accuracy"]), f"{fact['leak']:.2e}", fmt(fact["tokens"]),
                      fmt(fact["sequences"])])
    lines += _table(["mask", "test loss (teacher-forced)", "honest floor",
                     "accuracy, predictable steps (teacher-forced)", "leak (max Δp, all seeds)",
                     "generated token accuracy", "generated sequences right"], table)
    texts = []
    on, off = facts.get(True), facts.get(False)
    if on:
        honest = on["leak"] <= LEAK_TOLERANCE and on["loss"][0] >= floor - 0.01
        texts.append(f"with the mask: {'no leak and' if on['leak'] <= LEAK_TOLERANCE else 'LEAKS;'}"
                     f" loss {on['loss'][0]:.4f} {'≥' if honest else 'vs'} floor {floor:.4f}, "
                     f"generation {on['sequences'][0]:.3f} of sequences right")
    if off:
        collapsed = off["loss"][0] < floor - 0.01
        fails = on is not None and separated(off["sequences"], on["sequences"]) \
            and off["sequences"][0] < on["sequences"][0]
        texts.append(f"without: leak {off['leak']:.2f}, loss {off['loss'][0]:.4f} "
                     f"{'below' if collapsed else 'not below'} the floor, generation "
                     f"{off['sequences'][0]:.3f} of sequences right")
        holds = on and on["leak"] <= LEAK_TOLERANCE and collapsed and fails
        texts.insert(0, "holds" if holds else "does not hold as stated")
    lines += ["**Verdict:** " + "; ".join(texts) + ".", ""]
    return lines, facts


def section_pretraining(frame, folder):
    title = "8. Self-pretraining, then fine-tuning"
    tasks = ("listops", "imdb_bytes")
    rows = frame[frame["task"].isin(tasks) & (frame["family"] == "transformer")
                 & (frame["overrides"].map(len) == 0)] if len(frame) else frame
    rows = rows[rows["task"].isin(tasks)] if len(rows) else rows
    if rows.empty or not rows["pretrain_steps"].notna().any():
        return _missing_section(title, "claim_pretraining"), {}
    rows = rows.assign(variant=rows["pretrain_steps"].map(
        lambda s: "from scratch" if s is None or (isinstance(s, float) and math.isnan(s))
        else f"pretrained {int(s)} steps"))
    lines = [f"## {title}", "", f"Source: {SOURCES['pretraining']}.", "",
             "Claim: a Transformer first pretrained with a masked-token objective on the "
             "task's own training inputs (no extra data; Amos et al. 2023), then fine-tuned, "
             "beats one trained from scratch with the same fine-tuning budget.", "",
             _setup_line(rows, "Pretraining masks 15 % of the (non-padding) tokens; the "
                         "pretrained model is saved to `pretrained.keras` and loaded back "
                         "before fine-tuning."), ""]
    table, verdicts = [], {}
    for task in tasks:
        group = rows[rows["task"] == task]
        if group.empty:
            continue
        scores = _by(group, "variant")
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
    lines += _table(["task", "training", "test accuracy", "masked-token accuracy after "
                     "pretraining (validation)"], table)
    lines += ["Rule: pretraining helps on a task when the pretrained mean is above the "
              "scratch mean with mean ± std intervals apart.", "", _verdict_line(verdicts), ""]
    return lines, verdicts


def time_to_accuracy(record, threshold):
    """Training seconds (validation left out) until validation first reached
    `threshold`; None if it never did."""
    scores = (record.get("validation") or {}).get(record["metric"]) or []
    seconds = record.get("validation_train_seconds") or []
    for score, at in zip(scores, seconds):
        if score is not None and score >= threshold:
            return at
    return None


def section_vit(frame, folder):
    title = "9. ViT vs sequence models on images"
    rows = frame[frame["task"].isin(["mnist_image", "smnist"])] if len(frame) else frame
    if rows.empty:
        return _missing_section(title, "claim_vit"), {}
    rows = rows.assign(variant=rows["model"])
    scores = _by(rows, ["model", "task"])
    finals = [pair[0] for pair in scores.values() if math.isfinite(pair[0])]
    threshold = math.floor(min(finals) * 20) / 20 if finals else 0.5  # all reach it
    lines = [f"## {title}", "", f"Source: {SOURCES['vit']}.", "",
             "Claim: a ViT (attention over image patches) classifies digits better, and "
             "sooner, than an LSTM or a Transformer reading the same image pixel by pixel, "
             "at an equal parameter budget.", "",
             _setup_line(rows, f"Time to accuracy: training seconds (validation time left "
                         f"out) until validation accuracy first reached {threshold:.2f}, the "
                         "highest 0.05 step every model's mean reaches; validation after "
                         "every epoch."), ""]
    table, facts = [], {}
    for (model, task), pair in sorted(scores.items(), key=lambda i: _family_key(
            report.family_and_size(i[0][0])[0])):
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
    lines += _table(["model", "task", "mixer params", "input length", "test accuracy",
                     f"seconds to {threshold:.2f}", "train seconds", "train steps/s"], table)
    vit = [m for m in facts if m.startswith("vit")]
    others = [m for m in facts if not m.startswith("vit")]
    texts = []
    if vit and others:
        v = facts[vit[0]]
        better = all(separated(v["accuracy"], facts[o]["accuracy"])
                     and v["accuracy"][0] > facts[o]["accuracy"][0] for o in others)
        sooner = all(v["time"][0] < facts[o]["time"][0] for o in others
                     if math.isfinite(facts[o]["time"][0]))
        word = "holds" if better and sooner else (
            "holds for accuracy only" if better else "does not hold")
        texts.append(f"{word}: {vit[0]} {fmt(v['accuracy'])} in {v['time'][0]:.1f} s to "
                     f"{threshold:.2f}, vs " + ", ".join(
                         f"{o} {fmt(facts[o]['accuracy'])} in "
                         f"{facts[o]['time'][0]:.1f} s" for o in others))
    lines += ["Rule: holds when the ViT's accuracy is above each sequence model's with "
              "mean ± std intervals apart and it reaches the threshold sooner.", "",
              "**Verdict:** " + "; ".join(texts) + ".", ""]
    return lines, facts


# --- the page ---------------------------------------------------------------

def _headline(verdict_lines):
    rows = []
    for number, (claim, line) in enumerate(verdict_lines, 1):
        text = line.replace("**Verdict:** ", "") if line else "no records yet"
        rows.append([str(number), claim, text])
    return _table(["#", "claim", "verdict (from the numbers below)"], rows)


def _verdict_of(lines):
    return next((line for line in lines if line.startswith("**Verdict:**")), "")


CLAIM_NAMES = ("long-range dependencies", "vanishing gradients", "parallelism and O(n²)",
               "positional encoding", "multi-head", "LayerNorm vs BatchNorm",
               "masked attention", "pretraining then fine-tuning", "ViT on images")


def markdown(claims_dir, folder):
    """The page and the plots it shows."""
    claims_dir = Path(claims_dir)
    runs_root = claims_dir.parent
    claims_records = report.load_records(claims_dir) if claims_dir.is_dir() else []
    long_range = report.load_records(runs_root / LONG_RANGE_DIR) \
        if (runs_root / LONG_RANGE_DIR).is_dir() else []
    frame = _seeds_frame(claims_records)
    sections, plots = [], []
    lines, _, paths = section_long_range(long_range, folder)
    sections.append(lines)
    plots += paths
    lines, _, paths = section_gradients(frame, folder)
    sections.append(lines)
    plots += paths
    lines, _ = section_parallel(runs_root / SPEED_DIR, folder)
    sections.append(lines)
    lines, _, paths = section_positions(frame, folder)
    sections.append(lines)
    plots += paths
    for section in (section_heads, section_norm, section_masking, section_pretraining,
                    section_vit):
        lines, _ = section(frame, folder)
        sections.append(lines)
    all_records = claims_records + long_range
    page = [
        "# Claims about Transformers vs RNNs, measured", "",
        "Each section states a claim, the wording it is usually given in, the setup, "
        "the measured table and a verdict that a rule stated in the section computes from "
        "those numbers (`zoo/claims.py`). Means ± sample standard deviations are over "
        "seeds. These are CPU-sized runs (`quick` profile: `_small` models, short "
        "sequences, a few hundred steps); a verdict holds for that setting, not for every "
        "scale. The same experiment files run at `--profile full` on an accelerator.", "",
        f"Time: the claims runs took {_minutes(claims_records)} of run wall time (sum over "
        f"runs; `long_range` another {_minutes(long_range)}), here run as two sweeps in "
        "parallel, each pinned to one of the 2 cores.", "",
        "Regenerate: `zoo run long_range --out results/runs/long_range`, "
        "`zoo bench --out results/runs/speed`, `zoo run claims --out results/runs/claims` "
        "(or one `claim_*` experiment at a time with the same `--out`), then "
        "`zoo report claims`.", "",
        "## Headline", "",
    ]
    page += _headline(list(zip(CLAIM_NAMES, (_verdict_of(s) for s in sections))))
    for section in sections:
        page += section
    page += ["## Where this was measured", "",
             report._environment_paragraph(all_records) if all_records else "-", ""]
    return "\n".join(page).rstrip() + "\n", plots


def _minutes(records):
    seconds = sum(r.get("wall_seconds") or 0 for r in records)
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def write_report(claims_dir, results_dir):
    """Write `claims.md`, `claims.csv` (the claims runs, one row per
    configuration) and the plots; return the paths, CSV and Markdown first."""
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / "claims.csv", folder / "claims.md"
    claims_dir = Path(claims_dir)
    records = report.load_records(claims_dir) if claims_dir.is_dir() else []
    if records:
        report.aggregate(records).to_csv(csv_path, index=False, float_format="%.6g",
                                         lineterminator="\n")
    text, plots = markdown(claims_dir, folder)
    md_path.write_text(text, encoding="utf-8")
    return ([csv_path] if records else []) + [md_path, *plots]


def headline_table(md_path):
    """The headline table of a written `claims.md` (for the README)."""
    lines = Path(md_path).read_text(encoding="utf-8").splitlines()
    start = lines.index("## Headline") + 2
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start:end])


__all__ = ["write_report", "markdown", "separated", "mean_std", "gradient_profile",
           "time_to_accuracy", "headline_table"]
