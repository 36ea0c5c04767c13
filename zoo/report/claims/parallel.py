"""3. Parallel training and the O(n²) cost of attention (`zoo bench` records)."""

import math
from pathlib import Path

from zoo.report.claims.common import SOURCES, Section, family_rank, missing_section, table_lines

# the families whose recurrence trains with a parallel scan (or a cumulative sum)
PARALLEL_SCAN = ("lru", "mingru", "minlstm", "mamba", "linear_transformer")


def section_parallel(speed_dir, folder):
    title = "3. Parallel training and the O(n²) cost of attention"
    from zoo.report import speed
    from zoo.report.plots import fit_exponent

    records = speed.load_records(speed_dir) if Path(speed_dir).is_dir() else []
    if not records:
        return Section(missing_section(title, "speed", "zoo bench --out results/runs/speed"))
    table = speed.results_table(records)
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
    rows, facts, crossovers = [], {}, {}
    # A fit or a crossover compares lengths within one workload (machine,
    # batch, threads, precision), never across two.
    for workload, measured in ok.groupby(speed.WORKLOAD, sort=True):
        label = _workload_label(dict(zip(speed.WORKLOAD, workload)))
        for (implementation, family), group in sorted(
                measured.groupby(["implementation", "family"]),
                key=lambda i: (i[0][0], family_rank(i[0][1]))):
            group = group.sort_values("sequence_length")
            lengths = group["sequence_length"].to_numpy()
            time_all = fit_exponent(lengths, group["train_step_ms"])
            time_top = fit_exponent(lengths[-2:], group["train_step_ms"].to_numpy()[-2:])
            memory = fit_exponent(lengths, group["memory_above_start_mb"])
            tokens = (group["train_tokens_per_second"].to_numpy()[0], int(lengths[0]))
            paths = sorted({str(p) for p in group["attention_path"] if isinstance(p, str) and p})
            facts[(implementation, family, label)] = {
                "time": time_all, "time_top": time_top, "memory": memory, "first_tokens": tokens,
                "path": ", ".join(paths) or "not recorded"}
            rows.append([label, implementation, family, f"{lengths[0]}-{lengths[-1]}",
                         f"{time_all:.2f}", f"{time_top:.2f}",
                         "-" if math.isnan(memory) else f"{memory:.2f}",
                         f"{tokens[0]:,.0f} at T={tokens[1]}"])
        for implementation in sorted(measured["implementation"].unique()):
            group = measured[measured["implementation"] == implementation]
            lstm = group[group["family"] == "lstm"].set_index("sequence_length")["train_step_ms"]
            attention = group[group["family"] == "transformer"].set_index(
                "sequence_length")["train_step_ms"]
            if len(lstm) and len(attention):
                crossovers[f"{implementation} ({label})"] = speed.crossover(
                    lstm, attention, "lstm")
    lines += ["Fitted k of y ~ T^k (1: linear, 2: quadratic) over all lengths, and between "
              "the two longest:", ""]
    lines += table_lines(["workload", "implementation", "family", "lengths", "train-step k",
                          "train-step k (two longest)", "memory k",
                          "train tokens/s (shortest)"], rows)
    lines += ["Where the LSTM's train step becomes faster than the Transformer's "
              "(interpolated in log-log between measured lengths):", ""]
    lines += table_lines(["implementation", "LSTM vs Transformer"],
                    [[k, v] for k, v in crossovers.items()])
    quadratic = {k: v for k, v in facts.items() if k[1] == "transformer"}
    recurrent = {k: v for k, v in facts.items() if k[1] == "lstm"}
    texts = []
    if quadratic:
        tops = [v["time_top"] for v in quadratic.values()]
        lstm_tops = [v["time_top"] for v in recurrent.values()]
        time_text = (f"train-step exponent of attention between the two longest lengths "
                     f"{min(tops):.2f}-{max(tops):.2f}"
                     + (f" vs LSTM {min(lstm_tops):.2f}-{max(lstm_tops):.2f}"
                        if lstm_tops else ""))
        verdict_time = "holds" if min(tops) >= 1.5 else (
            "holds only at the longest lengths" if max(tops) >= 1.5 else "not reached")
        texts.append(f"O(n²) time: {verdict_time} ({time_text})")
        texts.append(_memory_text(quadratic))
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
    scan = _parallel_scan_text(facts)
    if scan:
        texts.append(scan)
    lines += ["Rule: O(n²) holds when the exponent between the two longest lengths is "
              "≥ 1.5; a recurrence trained with a parallel scan is linear when its exponent "
              "over all lengths is ≤ 1.2.", "", "**Verdict:** " + "; ".join(texts) + ".", ""]
    return Section(lines, facts)


def _memory_text(attention):
    """Attention's memory exponent, apart for the paths that keep the score
    matrix whole and those that do not (bench records name the path; older
    ones do not, and count as whole: they predate the other paths)."""
    whole, tiled = [], []
    for (implementation, _, label), fact in attention.items():
        if math.isnan(fact["memory"]):
            continue
        lean = "chunked" in fact["path"] or "fused" in fact["path"]
        (tiled if lean else whole).append((fact["memory"], f"{implementation}, {label}"))
    parts = []
    if whole:
        low, high = min(whole)[0], max(whole)[0]
        word = ("holds" if low >= 1.5 else "holds for some implementations" if high >= 1.5
                else "not reached")
        parts.append(f"{word} for the full score matrix (memory exponent {low:.2f}-{high:.2f})")
    if tiled:
        low, high = min(tiled)[0], max(tiled)[0]
        word = "is avoided" if high <= 1.2 else "is not avoided"
        parts.append(f"{word} by chunked or fused attention (memory exponent {low:.2f}-{high:.2f}: "
                     + "; ".join(f"{name} {k:.2f}" for k, name in sorted(tiled)) + ")")
    return "O(n²) memory: " + ("; ".join(parts) if parts else "no memory measured")


def _workload_label(workload):
    threads = workload["threads"]
    return (f"batch {workload['batch_size']}, {workload['precision']}, "
            f"{threads} thread{'s' if str(threads) != '1' else ''}, {workload['device']}")


def _parallel_scan_text(facts):
    """'RNNs are sequential, attention is parallel': a recurrence whose state
    update is linear trains with a parallel scan, at a linear cost."""
    scans = {k: v for k, v in facts.items() if k[1] in PARALLEL_SCAN}
    if not scans:
        return ""
    exponents = [v["time"] for v in scans.values()]
    lstm = [v["time"] for k, v in facts.items() if k[1] == "lstm"]
    attention = [v["time"] for k, v in facts.items() if k[1] == "transformer"]
    word = "linear" if max(exponents) <= 1.2 else (
        "linear for some" if min(exponents) <= 1.2 else "not linear at these lengths")
    families = ", ".join(sorted({k[1] for k in scans}))
    return (f"a recurrent model trained with a parallel scan ({families}): {word} (train-step "
            f"exponent {min(exponents):.2f}-{max(exponents):.2f}"
            + (f"; LSTM loop {min(lstm):.2f}-{max(lstm):.2f}" if lstm else "")
            + (f"; attention {min(attention):.2f}-{max(attention):.2f}" if attention else "")
            + ")")
