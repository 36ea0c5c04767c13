"""The speed page: `speed.md` and its plots, from `zoo.report.speed`'s table."""

import math
from pathlib import Path

from zoo.names import family_rank
from zoo.report.speed import (
    LRA_TPU_TRANSFORMER,
    TARGET_ON_BEST_BACKEND,
    TARGET_ON_TENSORFLOW,
    WORKLOAD,
    crossover,
    csv_text,
    fastest_by_table,
    load_records,
    missing,
    results_table,
)


def write_report(records_dir, results_dir, name="speed", peak_tflops=None):
    """`<name>.csv`, `<name>.md` and log-log plots, from the records alone.

    peak_tflops: the device's peak for MFU, over what the records know.
    Returns the paths written. The same records give the same CSV bytes.
    """
    records = load_records(records_dir)
    if not records:
        raise FileNotFoundError(
            f"No bench records in {str(records_dir)!r}; run `zoo bench` first.")
    table = results_table(records, peak_tflops)
    results = Path(results_dir)
    results.mkdir(parents=True, exist_ok=True)
    csv_path = results / f"{name}.csv"
    csv_text(table).to_csv(csv_path, index=False, lineterminator="\n")
    plots = _write_plots(table, results, name)
    # plots of an earlier layout (a workload's index moves when one is added)
    for stale in set(results.glob(f"{name}_*_*.png")) - set(plots.values()):
        stale.unlink()
    md_path = results / f"{name}.md"
    md_path.write_text(_markdown(table, records, plots, records_dir))
    return [csv_path, md_path, *plots.values()]


# ------------------------------------------------------------ Markdown and plots


def _write_plots(table, results, name):
    from zoo.report import plots

    written = {}
    workloads = list(table.groupby(WORKLOAD, sort=True))
    for index, (workload, rows) in enumerate(workloads):
        suffix = f"_w{index}" if len(workloads) > 1 else ""
        ok = rows[rows["status"] == "ok"]
        for family, family_rows in ok.groupby("family", sort=True):
            for what, column, label in (("train", "train_step_ms", "train step (ms)"),
                                        ("memory", "peak_memory_mb", "peak memory (MB)")):
                path = results / f"{name}_{what}_{family}{suffix}.png"
                plots.line_plot(
                    family_rows, x="sequence_length", y=column, group="implementation",
                    path=path, log=True, fit=True, ylabel=label, xlabel="sequence length",
                    title=f"{family}_{workload[1]}, batch {workload[2]}"
                          f"{_precision_text(workload[4])}: {label}")
                written[(workload, family, what)] = path
    return written


def _markdown(table, records, plots, records_dir):
    lines = ["# Speed and peak memory by sequence length", "",
             f"Written by `zoo bench` from its {len(records)} measurement records "
             f"(`{Path(records_dir).name}/`, one JSON file per implementation and length; "
             "committed as `results/runs/speed/`). Regenerate with `zoo report speed` "
             "(or `zoo bench --report-only`); do not edit.", "",
             *_environment_lines(records), ""]
    workloads = list(table.groupby(WORKLOAD, sort=True))
    for workload, rows in workloads:
        device, size, batch, threads, precision = workload
        cores = "" if threads == "all" else f", {threads} core(s)"
        lines += [f"## `{size}` presets, batch {batch}{_precision_text(precision)}, "
                  f"on {device}{cores}", ""]
        lines += _verdict_lines(rows)
        for family, family_rows in sorted(rows.groupby("family"),
                                          key=lambda item: _family_order(item[0])):
            lines += [f"### {family}_{size}", ""]
            lines += _length_table(family_rows, "train step, ms (÷ fastest)", _time_cell("train"))
            lines += _length_table(family_rows, "inference, ms (÷ fastest)",
                                   _time_cell("inference"))
            lines += _length_table(family_rows, "peak memory, MB (+ above the start)",
                                   _memory_cell)
            if family_rows["model_flops_utilization"].notna().any():
                lines += _length_table(family_rows, "MFU, % of the peak", _utilization_cell)
            images = [plots[key] for key in ((workload, family, "train"),
                                             (workload, family, "memory")) if key in plots]
            lines += [" ".join(f"![{p.stem}]({p.name})" for p in images), ""]
        lines += _lra_lines(rows) + _exponent_lines(rows) + _crossover_lines(rows)
    lines += _method_lines(records) + _utilization_method_lines(table)
    return "\n".join(lines).rstrip() + "\n"


def _precision_text(precision):
    return "" if precision == "float32" else f", {precision}"


def _family_order(family):
    return family_rank(family)


def _environment_lines(records):
    def values(get):
        found = sorted({str(get(r)) for r in records if get(r) is not None})
        return ", ".join(found) or "unknown"

    environments = [r["environment"] for r in records if r.get("environment")]
    versions = {}
    for environment in environments:
        for library, version in (environment.get("versions") or {}).items():
            versions.setdefault(library, set()).add(version)
    loads = [r["load_average"][0] for r in records if r.get("load_average")]
    cpus = min((e.get("cpu_count") or math.inf for e in environments), default=math.inf)
    busy = [f"- **the machine was busy** (load over its {cpus} CPUs): times are noisy; "
            "PyTorch on a CPU suffers most"] if loads and max(loads) > cpus else []
    return [
        f"- hardware: {values(lambda r: _device_text(r.get('environment')))}",
        f"- backends: {values(lambda r: r.get('backend'))}; precision: "
        f"{values(lambda r: (r.get('environment') or {}).get('precision'))}",
        "- versions: " + ", ".join(f"{library} {'/'.join(sorted(found))}"
                                   for library, found in sorted(versions.items())),
        f"- commit: {values(lambda r: (r.get('environment') or {}).get('commit'))}",
        "- load average (1 min) while measuring: "
        + (f"{min(loads):.2f} to {max(loads):.2f}" if loads else "unknown"),
        *busy,
    ]


def _device_text(environment):
    if not environment:
        return None
    return (f"{environment.get('device')} ({environment.get('device_kind')}, "
            f"{environment.get('cpu_count')} CPUs)")


def _verdict_lines(rows):
    ok = rows[rows["status"] == "ok"]
    chosen = fastest_by_table(ok)
    lines = ["| family | zoo's fastest backend | zoo there ÷ fastest reference, worst length "
             f"(target ≤ {TARGET_ON_BEST_BACKEND}) | zoo on TensorFlow ÷ fastest reference "
             f"(target ≤ {TARGET_ON_TENSORFLOW}) | verdict |", "|---|---|---|---|---|"]
    for family in sorted(set(ok["family"]), key=_family_order):
        family_rows = ok[ok["family"] == family]
        zoo, references = family_rows[family_rows["kind"] == "zoo"], family_rows[
            family_rows["kind"] != "zoo"]
        if zoo.empty:
            continue
        fastest = references.groupby("sequence_length")["train_step_ms"].min()
        there = zoo[zoo["backend"] == chosen[family]] if chosen[family] else zoo
        best = _worst_ratio(there, fastest)
        on_tensorflow = _worst_ratio(zoo[zoo["backend"] == "tensorflow"], fastest)
        verdict = _verdict(best, on_tensorflow)
        lines.append(f"| {family} | {chosen[family] or 'undecided'} | {_ratio_text(best)} | "
                     f"{_ratio_text(on_tensorflow)} | {verdict} |")
    return lines + [""]


def _worst_ratio(zoo_rows, fastest_reference):
    """`(worst ratio, its length)` of the zoo's best time to the fastest reference's."""
    zoo = zoo_rows.groupby("sequence_length")["train_step_ms"].min()
    ratios = (zoo / fastest_reference).dropna()
    if ratios.empty:
        return None
    length = ratios.idxmax()
    return float(ratios[length]), int(length)


def _ratio_text(worst):
    return "not measured" if worst is None else f"{worst[0]:.2f} (T={worst[1]})"


def _verdict(best, on_tensorflow):
    if best is None and on_tensorflow is None:
        return "no reference measured"
    missed = []
    if best is not None and best[0] > TARGET_ON_BEST_BACKEND:
        missed.append(f"> {TARGET_ON_BEST_BACKEND}x on its backend")
    if on_tensorflow is not None and on_tensorflow[0] > TARGET_ON_TENSORFLOW:
        missed.append(f"> {TARGET_ON_TENSORFLOW}x on TensorFlow")
    return "misses: " + ", ".join(missed) if missed else "meets the targets measured"


def _length_table(rows, title, cell):
    lengths = sorted(set(rows["sequence_length"]))
    lines = [f"| {title} | mixer params | " + " | ".join(f"T={n}" for n in lengths) + " |",
             "|---|---:|" + "---:|" * len(lengths)]
    for label, implementation in sorted(rows.groupby("implementation"), key=_implementation_order):
        by_length = {int(r.sequence_length): r for r in implementation.itertuples()}
        params = implementation["params_mixer"].dropna()
        lines.append(f"| {label} | {int(params.iloc[0]) if len(params) else ''} | " + " | ".join(
            cell(by_length[n]) if n in by_length else "" for n in lengths) + " |")
    return lines + [""]


def _implementation_order(item):
    label = item[0]
    return (not label.startswith("zoo/"), label == "pytorch", label)


def _time_cell(which):
    def cell(row):
        if row.status != "ok":
            return row.status.replace("_", " ")
        value = getattr(row, "train_step_ms" if which == "train" else "inference_ms")
        ratio = getattr(row, f"{which}_ratio")
        return f"{value:.3g} ({ratio:.2f})"

    return cell


def _memory_cell(row):
    if row.status != "ok":
        return row.status.replace("_", " ")
    above = "" if missing(row.memory_above_start_mb) else f" (+{row.memory_above_start_mb:.0f})"
    return f"{row.peak_memory_mb:.0f}{above}"


def _utilization_cell(row):
    if row.status != "ok":
        return row.status.replace("_", " ")
    utilization = row.model_flops_utilization
    return "" if missing(utilization) else f"{100 * utilization:.1f}"


def _lra_lines(rows):
    """Our `transformer_base` steps/s and peak memory beside LRA's on TPU, at the
    lengths and batch LRA published."""
    lra = LRA_TPU_TRANSFORMER
    ours = rows[(rows["family"] == lra["family"]) & (rows["size"] == lra["size"])
                & (rows["batch_size"] == lra["batch_size"])
                & rows["sequence_length"].isin(list(lra["steps_per_second"]))]
    if ours.empty:
        return []
    lines = [f"### {lra['family']}_{lra['size']} beside Long Range Arena's TPU figures", "",
             f"LRA's text-task Transformer (same sizes, batch {lra['batch_size']}) on TPU, "
             f"from {lra['source']}. Ours: steps/s = 1000 ÷ train step (ms); memory in "
             "GB = MB ÷ 1024.", "",
             "| implementation | length | steps/s | LRA TPU steps/s | ÷ TPU | peak memory, GB "
             "| LRA TPU GB | ÷ TPU |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in sorted(ours.itertuples(), key=lambda r: (
            _implementation_order((r.implementation,)), r.sequence_length)):
        length = int(row.sequence_length)
        steps, memory = lra["steps_per_second"][length], lra["peak_memory_gb"][length]
        if row.status == "ok":
            ours_steps, ours_gb = 1000 / row.train_step_ms, row.peak_memory_mb / 1024
            cells = [f"{ours_steps:.3g}", f"{steps:g}", f"{ours_steps / steps:.2f}",
                     f"{ours_gb:.3g}", f"{memory:g}", f"{ours_gb / memory:.2f}"]
        else:
            status = row.status.replace("_", " ")
            cells = [status, f"{steps:g}", "", status, f"{memory:g}", ""]
        lines.append(f"| {row.implementation} | {length} | " + " | ".join(cells) + " |")
    return lines + [""]


def _exponent_lines(rows):
    from zoo.report.plots import fit_exponent

    ok = rows[rows["status"] == "ok"]
    lines = ["### Scaling with sequence length", "",
             "Fitted k of y ~ T^k over the lengths measured (1: linear, 2: quadratic).", "",
             "| family | implementation | train step | inference | memory above the start "
             "| lengths |", "|---|---|---:|---:|---:|---|"]
    for (family, label), group in sorted(ok.groupby(["family", "implementation"]),
                                         key=lambda item: (_family_order(item[0][0]),
                                                           _implementation_order(item[0][1:]))):
        exponents = [fit_exponent(group["sequence_length"], group[c]) for c in
                     ("train_step_ms", "inference_ms", "memory_above_start_mb")]
        lengths = f"{group['sequence_length'].min()}-{group['sequence_length'].max()}"
        lines.append(f"| {family} | {label} | " + " | ".join(
            "" if math.isnan(k) else f"{k:.2f}" for k in exponents) + f" | {lengths} |")
    return lines + [""]


def _crossover_lines(rows):
    ok = rows[(rows["status"] == "ok")].copy()
    # keras-hub stands in for Keras's own layers in the transformer family
    ok["pair"] = ok["implementation"].str.replace("keras_hub/", "keras/", regex=False)
    lines = ["### Where recurrent and Transformer train steps cross", "",
             "| implementation | family | crossover |", "|---|---|---|"]
    found = False
    for pair, group in sorted(ok.groupby("pair"), key=_implementation_order):
        transformer = group[group["family"] == "transformer"].set_index("sequence_length")
        for family in ("rnn", "lstm", "gru"):
            recurrent = group[group["family"] == family].set_index("sequence_length")
            if transformer.empty or recurrent.empty:
                continue
            found = True
            text = crossover(recurrent["train_step_ms"], transformer["train_step_ms"], family)
            lines.append(f"| {pair} | {family} vs transformer | {text} |")
    return (lines if found else []) + [""]


def _method_lines(records):
    steps = sorted({r.get("timed_steps") for r in records if r.get("timed_steps")})
    warmups = sorted({r.get("warmup_steps") for r in records if r.get("warmup_steps")})
    sources = sorted({r.get("peak_memory_kind") for r in records if r.get("peak_memory_kind")})
    vocabularies = sorted({r["vocabulary_size"] for r in records if r.get("vocabulary_size")})
    classes = sorted({r["num_classes"] for r in records if r.get("num_classes")})
    return [
        "## How this was measured", "",
        "Each implementation, family and backend ran in its own process, which first "
        "stepped a throwaway model at the shortest length. At each length: build, compile, "
        f"at least {'/'.join(map(str, warmups))} untimed warm-up step(s) (more until two "
        "in a row agreed within 1.5x), then the "
        f"median of {'/'.join(map(str, steps))} timed `train_on_batch` (Adam) and "
        "`predict_on_batch` calls on one synthetic batch of random tokens (vocabulary "
        f"{'/'.join(map(str, vocabularies)) or 'unknown'}, "
        f"{'/'.join(map(str, classes)) or 'unknown'} classes); each call returns host "
        "values, so the device had finished when the clock was read (PyTorch: `loss.item()` and "
        "`torch.cuda.synchronize()`). The ratio in brackets divides by the fastest "
        "implementation at that length. Peak memory: "
        f"{', '.join(sources) or 'none'} (host_rss: the process's peak resident memory, restarted "
        "before each length; device: the accelerator's peak allocation); in brackets, the "
        "growth over the process's memory when the length started.",
        "",
        f"Targets: the zoo on the backend `zoo bench` found fastest for the family within "
        f"{TARGET_ON_BEST_BACKEND}x, and the zoo on TensorFlow within {TARGET_ON_TENSORFLOW}x, of "
        "the fastest reference (any backend) at every length measured. Labels: `zoo/<backend>` "
        "is the zoo's model, `keras/` Keras's own recurrent layers, `keras_hub/` keras-hub's "
        "`TransformerEncoder`, `pytorch` native PyTorch; `+xla` marks `jit_compile=True` on "
        "TensorFlow, `+compile` `torch.compile`.",
    ]


def _utilization_method_lines(table):
    """How MFU was computed and the peaks used, where any row has one."""
    used = table[table["model_flops_utilization"].notna()]
    if used.empty:
        return []
    peaks = sorted({(row.device, row.precision, row.peak_tflops, row.peak_tflops_source)
                    for row in used.itertuples()})
    return [
        "",
        "MFU (model FLOP utilisation): train FLOP/s over the device's peak. Train FLOP/s: "
        "3 x the zoo model's analytic forward FLOPs per example (`zoo/measure/flops.py`: matrix "
        "products and attention, one count for every implementation of a family) x batch "
        "÷ the train step. Peaks used: " + "; ".join(
            f"{device} in {precision}: {tflops:g} TFLOP/s ({source})"
            for device, precision, tflops, source in peaks) + ".",
    ]
