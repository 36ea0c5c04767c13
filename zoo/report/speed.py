"""The `zoo bench` report: tables, Markdown and plots from the records alone.

    from zoo.report import speed
    speed.write_report("results/runs/speed", "results")   # speed.csv, speed.md, plots

`results_table` turns the records (`zoo bench` writes one JSON file per
measurement) into one row per implementation, workload and length, with the
ratio to the fastest implementation there. `write_report` writes that table
as a CSV (the same records give the same bytes), a Markdown summary (verdicts
against the targets, per-length tables, fitted scaling exponents,
recurrent/Transformer crossover lengths, how it was measured) and log-log
plots. `fastest_backends` tells `zoo run --backend auto` where each family's
zoo model trained fastest.

Model FLOP utilisation (MFU) is the train FLOP/s (3x the zoo model's analytic
forward FLOPs, `zoo.measure.flops`) over the device's peak at the precision
measured: `--peak-tflops`, else a peak stored with the record, else one from
`PEAK_TFLOPS`; a device without a known peak has no MFU. Beside the
`transformer_base` rows (the LRA text Transformer) the Markdown shows Long
Range Arena's published TPU steps/s and memory (`LRA_TPU_TRANSFORMER`).
"""

import math

from zoo.names import family_rank
from zoo.record import load_bench_records

TARGET_ON_BEST_BACKEND = 1.2  # zoo on the backend it picks ÷ the fastest reference
TARGET_ON_TENSORFLOW = 1.5  # zoo on TensorFlow ÷ the fastest reference
WORKLOAD = ["device", "size", "batch_size", "threads", "precision"]
INTEGER_COLUMNS = ("batch_size", "sequence_length", "params_total", "params_mixer", "timed_steps")
COLUMNS = [
    "family", "size", "batch_size", "sequence_length", "implementation", "kind", "backend",
    "jit_compile", "attention_path", "precision", "device", "threads", "status", "params_total",
    "params_mixer",
    "train_step_ms", "train_ratio", "inference_ms", "inference_ratio",
    "train_samples_per_second", "train_tokens_per_second", "inference_tokens_per_second",
    "peak_memory_mb", "memory_above_start_mb", "peak_memory_kind", "flops_per_example",
    "train_flops_per_second", "peak_tflops", "peak_tflops_source", "model_flops_utilization",
    "timed_steps", "load_average_1m",
]
# Dense matrix-multiply peaks by a substring of the device's name and the
# precision they hold for; only ones with a source. Any other device gets no
# MFU unless `--peak-tflops` gives its peak: never a guess.
PEAK_TFLOPS = (
    # (device name contains, precision, TFLOP/s, source)
    ("H200", "mixed_bfloat16", 790.0, "issue 5 / zoo design, dense bf16 matrix peak"),
)
GIVEN_PEAK = "--peak-tflops"  # the source of a peak the user gave
# The vanilla Transformer of LRA's byte-level text task (4 layers, d 256,
# 4 heads, MLP 1024), batch 32, on TPU: published steps/s and peak memory.
LRA_TPU_TRANSFORMER = {
    "source": "Tay et al. 2021, Long Range Arena, efficiency table",
    "family": "transformer", "size": "base", "batch_size": 32,
    "steps_per_second": {1024: 8.1, 2048: 4.9, 3072: 2.3, 4096: 1.4},
    "peak_memory_gb": {1024: 0.85, 2048: 2.65, 3072: 5.51, 4096: 9.48},
}


def load_records(records_dir):
    """Every measurement record in `records_dir`, sorted by file name."""
    return load_bench_records(records_dir)


def fastest_backends(records_dir):
    """`{family: backend}`: where the zoo's model trained fastest, for `--backend auto`.

    Backends are compared by the geometric mean of their train-step times
    (each at its best jit setting) over the lengths measured on all of them.
    A family without records, or with a tie, maps to None.
    """
    return fastest_by_table(results_table(load_records(records_dir)))


def results_table(records, peak_tflops=None):
    """One row per implementation, workload and length, with ratios to the
    fastest and, where the device's peak is known (`device_peak`), MFU."""
    import pandas as pd

    if peak_tflops is not None and not peak_tflops > 0:
        raise ValueError(f"Received an invalid value for `peak_tflops`, expected a positive "
                         f"number. Received: peak_tflops={peak_tflops!r}")
    table = pd.DataFrame([_row(r) for r in records], columns=COLUMNS + ["measured_at", "key"])
    devices = set(table["device"]) - {None}
    if len(devices) == 1:  # records of a crashed worker say nothing of the device
        table["device"] = table["device"].fillna(devices.pop())
    table["device"] = table["device"].fillna("unknown")
    # A repeated measurement (e.g. jit "auto" and "off", both graph mode on a
    # CPU): keep one, preferring a finished one, then the latest.
    table["_ok"] = table["status"] == "ok"
    table = table.sort_values(["_ok", "measured_at", "key"]).drop_duplicates(
        WORKLOAD + ["family", "sequence_length", "implementation"], keep="last")
    ok = table["status"] == "ok"
    group = WORKLOAD + ["family", "sequence_length"]
    # One architecture, one FLOP count (model FLOPs): every row takes the zoo's.
    own = table["flops_per_example"].astype(float)
    zoo = own.where(table["kind"] == "zoo").groupby([table[c] for c in group]).transform("max")
    table["flops_per_example"] = zoo.fillna(own)
    table["train_flops_per_second"] = (3 * table["flops_per_example"] * table["batch_size"]
                                       / (table["train_step_ms"].astype(float) / 1000))
    _add_utilization(table, peak_tflops)
    for column, ratio in (("train_step_ms", "train_ratio"), ("inference_ms", "inference_ratio")):
        fastest = table[ok].groupby(group)[column].transform("min")
        table[ratio] = (table.loc[ok, column] / fastest).astype(float)
    table["_family"] = table["family"].map(
        lambda f: family_rank(f))
    table = table.sort_values(
        WORKLOAD + ["_family", "family", "sequence_length", "implementation"])
    return table[COLUMNS].reset_index(drop=True)


def _add_utilization(table, peak_tflops):
    """The peak each row is compared with (`peak_tflops`, else the record's,
    else `PEAK_TFLOPS`), its source, and MFU: train FLOP/s over the peak."""
    peaks = [device_peak(device, precision, peak_tflops or stored) for device, precision, stored
             in zip(table["device"], table["precision"], table["peak_tflops"])]
    table["peak_tflops"] = [float("nan") if peak is None else peak for peak, _ in peaks]
    table["peak_tflops_source"] = [source for _, source in peaks]
    table["model_flops_utilization"] = (table["train_flops_per_second"]
                                        / (table["peak_tflops"] * 1e12))


def device_peak(device, precision, given=None):
    """`(TFLOP/s, source)` of `device` at `precision`: `given` if any, else
    from `PEAK_TFLOPS` by name; `(None, None)` when unknown."""
    if given is not None and not missing(given):
        return float(given), GIVEN_PEAK
    for contains, at, tflops, source in PEAK_TFLOPS:
        if contains.lower() in str(device).lower() and precision == at:
            return tflops, source
    return None, None


def csv_text(table):
    """Numbers as text: integers whole, others to 4 significant digits (or whole
    from 1000 up), so the CSV reads well and the same records give the same bytes."""
    table = table.copy()
    for column in table.columns:
        if column in INTEGER_COLUMNS:
            table[column] = table[column].map(lambda v: "" if missing(v) else str(int(v)))
        elif table[column].dtype.kind == "f":
            table[column] = table[column].map(_number_text)
    return table


def _number_text(value):
    if missing(value):
        return ""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _row(record):
    params = record.get("params") or {}
    environment = record.get("environment") or {}
    peak, start = record.get("peak_memory_mb"), record.get("start_memory_mb")
    load = record.get("load_average")
    label = record["implementation"]
    return {
        **{k: record.get(k) for k in COLUMNS},
        "implementation": label, "device": environment.get("device"),
        # records from before `--precision` were all float32
        "precision": record.get("precision") or environment.get("precision") or "float32",
        "threads": str(record.get("threads") or "all"),
        "params_total": params.get("total"), "params_mixer": params.get("mixer"),
        "memory_above_start_mb": None if peak is None or start is None else peak - start,
        "load_average_1m": load[0] if load else None,
        "measured_at": record.get("measured_at") or "", "key": record["key"],
    }


def fastest_by_table(table):
    import numpy as np

    chosen = {family: None for family in sorted(set(table["family"]), key=family_rank)}
    zoo = table[(table["kind"] == "zoo") & (table["status"] == "ok")]
    for family, rows in zoo.groupby("family"):
        best = rows.groupby(["backend"] + WORKLOAD + ["sequence_length"])["train_step_ms"].min()
        common = best.unstack("backend").dropna()  # lengths measured on every backend
        if common.empty:
            continue
        score = np.exp(np.log(common.astype(float)).mean())
        winners = score[score <= score.min() * (1 + 1e-9)]
        chosen[family] = str(winners.index[0]) if len(winners) == 1 else None
    return chosen


def crossover(recurrent, transformer, family="lstm"):
    """Where two train-step-time curves first cross, interpolated in log-log; as text."""
    common = sorted(set(recurrent.index) & set(transformer.index))
    if len(common) < 2:
        return "too few common lengths"
    gaps = [math.log(recurrent[n] / transformer[n]) for n in common]  # > 0: recurrent slower
    first = next((gap for gap in gaps if gap != 0), 0.0)
    faster = "transformer" if first > 0 else family
    for index, (length, gap) in enumerate(zip(common, gaps)):
        if gap == 0 and 0 < index < len(common) - 1:
            return f"T ≈ {length}: {faster} faster below"
        if index and gap * gaps[index - 1] < 0:
            low, high = math.log(common[index - 1]), math.log(length)
            share = gaps[index - 1] / (gaps[index - 1] - gap)
            return f"T ≈ {math.exp(low + share * (high - low)):.0f}: {faster} faster below"
    return f"none in T={common[0]}-{common[-1]}: {faster} faster throughout"


def missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))
