"""`zoo bench`: records, resumption, failures, profiles, the report. No timing is asserted."""

import argparse
import dataclasses
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

import keras
import pytest

from zoo import bench, cli
from zoo.bench import driver, options, worker
from zoo.bench import references as bench_references
from zoo.report import speed, speed_page

HAS_TORCH = importlib.util.find_spec("torch") is not None
TINY = ["--profile", "quick", "--families", "lstm", "--size", "tiny", "--lengths", "16,8",
        "--batch-size", "4", "--steps", "2", "--warmup-steps", "1", "--jit", "auto",
        "--threads", "1"]


def _args(*argv):
    return bench.add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """One real run: the zoo's LSTM on this process's backend and one reference."""
    root = tmp_path_factory.mktemp("bench")
    reference = "pytorch" if HAS_TORCH else "keras"
    args = _args(*TINY, "--backends", keras.backend.backend(), "--references", reference,
                 "--out", str(root / "records"), "--results", str(root / "results"))
    lines = []
    code = cli.bench_command(args, echo=lines.append)
    return args, code, lines


def test_a_run_writes_one_complete_record_per_measurement(measured):
    args, code, lines = measured
    assert code == 0, "\n".join(lines)
    records = speed.load_records(args.out)
    labels = {r["implementation"] for r in records}
    assert len(records) == 4 and len(labels) == 2
    assert sum(label.startswith(f"zoo/{keras.backend.backend()}") for label in labels) == 1
    for record in records:
        assert record["status"] == "ok" and record["measured"], record.get("reason")
        assert record["sequence_length"] in (8, 16) and record["batch_size"] == 4
        assert record["threads"] == 1 and record["precision"] == "float32"
        assert record["timed_steps"] == 2 and len(record["train_step_ms_all"]) == 2
        assert record["train_step_ms"] > 0 and record["inference_ms"] > 0
        assert record["train_tokens_per_second"] > record["train_samples_per_second"] > 0
        assert record["peak_memory_mb"] > 0 and record["peak_memory_kind"] in ("host_rss", "device")
        assert record["params"]["total"] > record["params"]["mixer"] > 0
        assert record["environment"]["versions"] and len(record["load_average"]) == 3


def test_a_rerun_measures_nothing_new(measured, monkeypatch):
    args, _, _ = measured
    before = {p.name: p.stat().st_mtime_ns for p in Path(args.out).iterdir()}

    def fail(*_):
        raise AssertionError("a finished measurement was started again")

    monkeypatch.setattr(driver, "_run_worker", fail)
    lines = []
    assert cli.bench_command(args, echo=lines.append) == 0
    assert sum("done before, skipped" in line for line in lines) == 2
    assert {p.name: p.stat().st_mtime_ns for p in Path(args.out).iterdir()} == before


def test_the_report_is_regenerated_from_the_records_alone(measured, tmp_path):
    args, _, _ = measured
    stale = tmp_path / "speed_train_lstm_w3.png"  # a plot of an earlier layout
    stale.write_bytes(b"")
    first = speed_page.write_report(args.out, tmp_path)
    csv_bytes = (tmp_path / "speed.csv").read_bytes()
    second = speed_page.write_report(args.out, tmp_path)
    assert first == second and (tmp_path / "speed.csv").read_bytes() == csv_bytes
    assert not stale.exists()
    assert {p.name for p in first} >= {"speed.csv", "speed.md", "speed_train_lstm.png",
                                       "speed_memory_lstm.png"}
    table = speed.results_table(speed.load_records(args.out))
    assert sorted(table["sequence_length"]) == [8, 8, 16, 16]
    assert table.groupby("sequence_length")["train_ratio"].min().tolist() == [1.0, 1.0]
    assert (table["train_ratio"] >= 1.0).all()
    markdown = (tmp_path / "speed.md").read_text()
    assert "| lstm |" in markdown and "load average" in markdown
    assert speed.fastest_backends(args.out) == {"lstm": keras.backend.backend()}


# ------------------------------------------------------- the measuring loop


class FakeSubject:
    """Steps that sleep, or fail from some length on; no framework involved."""

    params = {"total": 10, "embedding": 4, "mixer": 5, "head": 1}
    jit_compile = False

    def __init__(self, length, sleep=0.0, fail_from=None, error=MemoryError):
        if fail_from is not None and length >= fail_from and error is ValueError:
            raise ValueError("cannot build this")
        self.length, self.sleep, self.fail_from, self.error = length, sleep, fail_from, error

    def train_step(self):
        if self.fail_from is not None and self.length >= self.fail_from:
            raise self.error("failed to allocate 4.0GiB")
        time.sleep(self.sleep)
        return 1.0

    def predict_step(self):
        pass


def _job(tmp_path, **changes):
    job = {"kind": "zoo", "family": "lstm", "size": "tiny", "config": {"hidden_dim": 16},
           "backend": keras.backend.backend(), "jit": "off", "lengths": [8, 16, 32, 64],
           "batch_size": 2, "vocabulary_size": 8, "num_classes": 2, "steps": 2,
           "warmup_steps": 1, "max_step_seconds": 60.0, "out": str(tmp_path), "seed": 0}
    return {**job, **changes}


def _statuses(records):
    return [(r["sequence_length"], r["status"], r["measured"]) for r in records]


def _quiet(*args, **kwargs):
    pass


def test_running_out_of_memory_ends_the_lengths_of_an_implementation(tmp_path):
    job = _job(tmp_path)
    records = worker.run_job(job, lambda job, n: FakeSubject(n, fail_from=32), echo=_quiet)
    assert _statuses(records) == [(8, "ok", True), (16, "ok", True), (32, "oom", True),
                                  (64, "oom", False)]
    assert "MemoryError" in records[2]["reason"] and "32" in records[3]["reason"]
    again = worker.run_job(job, lambda job, n: pytest.fail("measured again"), echo=_quiet)
    assert _statuses(again) == _statuses(records)


def test_a_step_over_the_time_cap_ends_the_lengths_until_the_cap_grows(tmp_path):
    job = _job(tmp_path, lengths=[8, 16], max_step_seconds=0.001)
    records = worker.run_job(job, lambda job, n: FakeSubject(n, sleep=0.01), echo=_quiet)
    assert _statuses(records) == [(8, "ok", True), (16, "too_slow", False)]
    assert records[0]["timed_steps"] == 1 and "max-step-seconds" in records[1]["reason"]
    relaxed = worker.run_job({**job, "max_step_seconds": 60.0},
                            lambda job, n: FakeSubject(n), echo=_quiet)
    assert _statuses(relaxed) == [(8, "ok", True), (16, "ok", True)]


def test_an_error_is_recorded_stops_the_job_and_is_retried(tmp_path):
    job = _job(tmp_path)
    build = lambda job, n: FakeSubject(n, fail_from=16, error=ValueError)  # noqa: E731
    records = worker.run_job(job, build, echo=_quiet)
    assert _statuses(records) == [(8, "ok", True), (16, "error", True)]
    assert "cannot build this" in records[1]["reason"]
    retried = worker.run_job(job, lambda job, n: FakeSubject(n), echo=_quiet)
    assert _statuses(retried) == [(8, "ok", True), (16, "ok", True), (32, "ok", True),
                                  (64, "ok", True)]


def test_a_worker_killed_for_memory_is_recorded_as_oom(tmp_path, monkeypatch):
    job = _job(tmp_path)
    suicide = (f"import os, signal; print('{worker.PROTOCOL} start 16', flush=True); "
               "os.kill(os.getpid(), signal.SIGKILL)")
    monkeypatch.setattr(driver, "_worker_command", lambda job: [sys.executable, "-c", suicide])
    assert driver._run_worker(job, echo=_quiet) is False
    records = speed.load_records(tmp_path)
    assert sorted(_statuses(records)) == [(16, "oom", True), (32, "oom", False),
                                          (64, "oom", False)]


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("option, value, valid", [
    ("--families", "lstm,hyena", "'lstm', 'gru', 'transformer', 'lru'"),
    ("--backends", "theano", "['tensorflow', 'jax', 'torch']"),
    ("--references", "timm", "['keras', 'keras_hub', 'pytorch', 'all']"),
    ("--lengths", "64,abc", "positive integers"),
    ("--lengths", "0,64", "positive integers"),
    ("--batch-size", "0", "positive number"),
    ("--threads", "-2", "positive number"),
    ("--profile", "fast", "['quick', 'full']"),
    ("--precision", "float64", "['float32', 'mixed_bfloat16', 'mixed_float16']"),
    ("--peak-tflops", "-1", "positive number"),
])
def test_bad_options_are_refused_naming_the_valid_choices(option, value, valid):
    with pytest.raises(ValueError) as error:
        bench.plan_jobs(_args(option, value))
    assert valid in str(error.value) and value.split(",")[-1] in str(error.value)


def test_the_default_plan_measures_tensorflow_with_and_without_xla(monkeypatch):
    monkeypatch.setattr(options, "default_profile", lambda: "quick")  # as on a CPU
    jobs = bench.plan_jobs(_args("--families", "transformer", "--backends", "tensorflow"))
    planned = {(j["kind"], j["backend"], j["jit"]) for j in jobs}
    assert {("zoo", "tensorflow", "off"), ("zoo", "tensorflow", "on"),
            ("keras_hub", "tensorflow", "off"), ("keras_hub", "tensorflow", "on")} <= planned
    assert (("pytorch", "pytorch", "off") in planned) == HAS_TORCH
    assert jobs[0]["config"]["hidden_dim"] == 64 and jobs[0]["lengths"][-1] == 4096
    assert {j["precision"] for j in jobs} == {"float32"} and jobs[0]["batch_size"] == 64
    assert bench.plan_jobs(_args("--families", "gru", "--backends", "tensorflow",
                                 "--no-references", "--jit", "auto"))[0]["kind"] == "zoo"


def test_implementation_labels():
    assert bench.implementation_label("zoo", "tensorflow", True) == "zoo/tensorflow+xla"
    assert bench.implementation_label("keras", "tensorflow", False) == "keras/tensorflow"
    assert bench.implementation_label("keras_hub", "jax", True) == "keras_hub/jax"
    assert bench.implementation_label("zoo", "jax", False) == "zoo/jax-eager"
    assert bench.implementation_label("pytorch", "pytorch", False) == "pytorch"


# ---------------------------------------------------------- profiles, precision


def test_the_profile_is_quick_without_an_accelerator_and_asks_a_child_with_one(
        tmp_path, monkeypatch):
    def no_probe():
        raise AssertionError("probed a framework without an accelerator's device file")

    monkeypatch.setattr(options, "_ACCELERATOR_DEVICE_FILES", ())
    monkeypatch.setattr(options, "_profile_probe_command", no_probe)
    assert bench.default_profile() == "quick"
    (tmp_path / "nvidia0").touch()
    monkeypatch.setattr(options, "_ACCELERATOR_DEVICE_FILES", (str(tmp_path / "nvidia*"),))
    for answer, profile in (("print('full')", "full"), ("print('quick')", "quick"),
                            ("raise SystemExit(3)", "quick")):
        monkeypatch.setattr(options, "_profile_probe_command",
                            lambda answer=answer: [sys.executable, "-c", answer])
        assert bench.default_profile() == profile


def test_profiles_preset_the_workload_and_explicit_options_win(monkeypatch):
    monkeypatch.setattr(options, "default_profile", lambda: "quick")
    quick = bench.resolve_profile(_args())
    assert (quick.profile, quick.size, quick.batch_size, quick.jit, quick.precision) == (
        "quick", "small", 64, "both", "float32")
    assert quick.lengths == "64,128,256,512,1024,2048,4096"
    monkeypatch.setattr(options, "default_profile", lambda: "full")  # an accelerator
    full = bench.resolve_profile(_args())
    assert (full.profile, full.size, full.batch_size, full.jit, full.precision) == (
        "full", "base", 32, "on", "mixed_bfloat16")
    assert full.lengths == "1024,2048,3072,4096,8192,16384"
    chosen = bench.resolve_profile(_args("--batch-size", "8", "--precision", "float32",
                                         "--lengths", "64"))
    assert (chosen.profile, chosen.size, chosen.batch_size, chosen.precision, chosen.lengths) == (
        "full", "base", 8, "float32", "64")
    jobs = bench.plan_jobs(_args("--families", "transformer", "--backends", "tensorflow"))
    assert {(j["kind"], j["jit"], j["precision"], j["batch_size"]) for j in jobs} >= {
        ("zoo", "on", "mixed_bfloat16", 32), ("keras_hub", "on", "mixed_bfloat16", 32)}
    assert jobs[0]["config"]["hidden_dim"] == 256 and jobs[0]["config"]["num_layers"] == 4
    assert jobs[0]["lengths"] == [1024, 2048, 3072, 4096, 8192, 16384]


def test_precision_is_in_the_record_and_its_key_and_float32_keys_are_unchanged(tmp_path):
    job = _job(tmp_path, backend="tensorflow")
    old_key = "zoo--lstm_tiny--tensorflow--jit-off--T16--B2--2b9fef5c"  # before --precision
    assert bench.record_key(job, 16) == old_key
    assert bench.record_key({**job, "precision": "float32"}, 16) == old_key
    mixed = {**job, "precision": "mixed_bfloat16", "lengths": [8]}
    assert bench.record_key(mixed, 16) == (
        "zoo--lstm_tiny--tensorflow--jit-off--mixed_bfloat16--T16--B2--"
        + bench.record_key(mixed, 16)[-8:])
    assert bench.record_key(mixed, 16)[-8:] != old_key[-8:]
    records = worker.run_job(mixed, lambda job, n: FakeSubject(n), echo=_quiet)
    assert records[0]["precision"] == "mixed_bfloat16"
    assert speed.load_records(tmp_path)[0]["key"] == bench.record_key(mixed, 8)
    float32 = worker.run_job({**job, "lengths": [8]}, lambda job, n: FakeSubject(n), echo=_quiet)
    assert float32[0]["precision"] == "float32" and len(speed.load_records(tmp_path)) == 2


def _subject_job(family, kind, precision):
    import zoo.models

    config = dataclasses.asdict(zoo.models.config(f"{family}_tiny"))
    return {"kind": kind, "family": family, "size": "tiny", "config": config, "jit": "off",
            "backend": keras.backend.backend(), "batch_size": 2, "vocabulary_size": 8,
            "num_classes": 2, "seed": 0, "precision": precision}


def test_keras_subjects_are_built_under_the_precision_asked_for():

    previous = keras.config.dtype_policy()
    try:
        subject = bench_references.build_subject(_subject_job("lstm", "zoo", "mixed_bfloat16"), 8)
        assert subject.model.dtype_policy.name == "mixed_bfloat16"
        assert math.isfinite(subject.train_step())
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
def test_the_pytorch_reference_runs_under_autocast():

    subject = bench_references.build_subject(_subject_job("lstm", "pytorch", "mixed_bfloat16"), 8)
    assert str(subject.autocast_dtype) == "torch.bfloat16" and subject.scaler is None
    assert math.isfinite(subject.train_step())
    subject.predict_step()
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        bench_references.TorchSubject("lstm", {}, None, None, 8, 2, precision="bfloat17")


# ----------------------------------------------------------------- report


def _record(family, kind, backend, length, train_ms, jit_compile=False, status="ok",
            size="small", batch_size=64, precision=None, device="Test CPU"):
    label = bench.implementation_label(kind, backend, jit_compile)
    return {
        "key": f"{kind}--{family}_{size}--{backend}--{jit_compile}--{precision}--T{length}",
        "kind": kind, "family": family, "size": size, "backend": backend, "jit": "auto",
        "jit_compile": jit_compile, "implementation": label, "sequence_length": length,
        "batch_size": batch_size, "vocabulary_size": 64, "num_classes": 10,
        "precision": precision, "status": status, "measured": status == "ok", "reason": None,
        "params": {"total": 70000, "embedding": 4000, "mixer": 66000, "head": 650},
        "train_step_ms": train_ms, "inference_ms": train_ms and train_ms / 3,
        "train_step_ms_all": [train_ms], "peak_memory_mb": 500 + length / 10,
        "start_memory_mb": 500.0, "peak_memory_kind": "host_rss", "timed_steps": 5,
        "warmup_steps": 2, "load_average": [0.5, 0.5, 0.5], "measured_at": "2025-01-01T00:00:00",
        "flops_per_example": 1e9,
        "environment": {"device": device, "device_kind": "cpu", "cpu_count": 2,
                        "backend": backend, "precision": precision or "float32",
                        "versions": {"keras": "3.15.1"}, "commit": "abc"},
    }


def _synthetic_records(folder):
    lengths = [64, 128, 256, 512, 1024]
    records = []
    for n in lengths:
        records += [
            # LSTM grows linearly, the Transformer quadratically: they cross at 256.
            _record("lstm", "zoo", "tensorflow", n, 0.2 * n),
            _record("lstm", "zoo", "jax", n, 0.1 * n, jit_compile=True),
            _record("lstm", "pytorch", "pytorch", n, 0.1 * n),
            _record("transformer", "zoo", "tensorflow", n, 0.1 * n * n / 256),
            _record("transformer", "zoo", "jax", n, 0.2 * n * n / 256, jit_compile=True),
            _record("transformer", "pytorch", "pytorch", n, 0.1 * n * n / 256),
            _record("rnn", "zoo", "tensorflow", n, 1.0),  # a tie: no backend is faster
            _record("rnn", "zoo", "jax", n, 1.0, jit_compile=True),
        ]
    records.append(_record("transformer", "zoo", "jax", 2048, None, True, status="oom"))
    for record in records:
        (folder / f"{record['key']}.json").write_text(json.dumps(record))


def test_report_ratios_verdicts_exponents_and_crossover(tmp_path):
    _synthetic_records(tmp_path)
    assert speed.fastest_backends(tmp_path) == {
        "rnn": None, "lstm": "jax", "transformer": "tensorflow"}
    speed_page.write_report(tmp_path, tmp_path / "results")
    table = speed.results_table(speed.load_records(tmp_path))
    ok = table[table["status"] == "ok"]
    assert (ok.groupby(["family", "sequence_length"])["train_ratio"].min() == 1.0).all()
    slow = ok[(ok["implementation"] == "zoo/tensorflow") & (ok["family"] == "lstm")]
    assert slow["train_ratio"].tolist() == [2.0] * 5
    assert table[table["status"] == "oom"]["train_ratio"].isna().all()
    markdown = (tmp_path / "results" / "speed.md").read_text()
    assert "| lstm | jax | 1.00 (T=64) | 2.00 (T=64) | misses: > 1.5x on TensorFlow |" in markdown
    assert "| transformer | tensorflow | 1.00 (T=64) | 1.00 (T=64) | meets" in markdown
    for crossing in ("| zoo/tensorflow | lstm vs transformer | T ≈ 512: transformer faster below",
                     "| pytorch | lstm vs transformer | T ≈ 256: transformer faster below",
                     "| zoo/jax | lstm vs transformer | T ≈ 128: transformer faster below",
                     "| zoo/jax | rnn vs transformer | none in T=64-1024: rnn faster throughout"):
        assert crossing in markdown
    assert "| transformer | zoo/jax | 2.00 |" in markdown  # quadratic time
    assert "| 819 (2.00) | oom |" in markdown
    assert "Test CPU (cpu, 2 CPUs)" in markdown and "keras 3.15.1" in markdown


def test_crossover_interpolates_in_log_log():
    import pandas as pd

    lengths = [100, 200, 400, 800]
    recurrent = pd.Series([n * 1.0 for n in lengths], index=lengths)
    transformer = pd.Series([n * n / 400 for n in lengths], index=lengths)
    assert speed.crossover(recurrent, transformer) == "T ≈ 400: transformer faster below"
    assert "lstm faster throughout" in speed.crossover(recurrent, transformer * 100)


def test_model_flop_utilization_needs_a_known_or_given_peak(tmp_path):
    records = [_record("lstm", "zoo", "tensorflow", 64, 1000.0),  # 3e9 x 64 FLOPs a second
               _record("lstm", "zoo", "jax", 64, 1000.0, device="NVIDIA H200",
                       precision="mixed_bfloat16"),
               _record("lstm", "zoo", "jax", 64, 1000.0, device="NVIDIA H200",
                       precision="float32")]
    table = speed.results_table(records).set_index(["device", "precision"])
    assert table["train_flops_per_second"].tolist() == [192e9] * 3
    assert table.loc[("NVIDIA H200", "mixed_bfloat16"), "model_flops_utilization"] == (
        pytest.approx(192e9 / 790e12))
    assert "issue 5" in table.loc[("NVIDIA H200", "mixed_bfloat16"), "peak_tflops_source"]
    for cpu_or_unknown_peak in (("Test CPU", "float32"), ("NVIDIA H200", "float32")):
        assert math.isnan(table.loc[cpu_or_unknown_peak, "model_flops_utilization"])
    given = speed.results_table(records, peak_tflops=1.92).set_index(["device", "precision"])
    assert given["model_flops_utilization"].tolist() == pytest.approx([0.1] * 3)
    assert set(given["peak_tflops_source"]) == {"--peak-tflops"}
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "one.json").write_text(json.dumps(records[0]))
    for extra, mfu in (([], ""), (["--peak-tflops", "1.92"], "0.1")):
        args = _args("--report-only", "--out", str(tmp_path / "records"),
                     "--results", str(tmp_path), *extra)
        assert cli.bench_command(args, echo=_quiet) == 0
        row = (tmp_path / "speed.csv").read_text().splitlines()
        header = row[0].split(",")
        assert row[1].split(",")[header.index("model_flops_utilization")] == mfu


def test_the_lra_tpu_figures_stand_beside_transformer_base(tmp_path):
    h200 = {"size": "base", "batch_size": 32, "precision": "mixed_bfloat16",
            "device": "NVIDIA H200"}
    records = [_record("transformer", "zoo", "jax", n, 1000 / steps, True, **h200)
               for n, steps in ((1024, 81.0), (2048, 49.0), (4096, 7.0), (8192, 2.0))]
    records.append(_record("transformer", "zoo", "jax", 16384, None, True, "oom", **h200))
    records.append(_record("transformer", "pytorch", "pytorch", 1024, 20.0, **h200))
    records.append(_record("transformer", "zoo", "jax", 1024, 50.0, True))  # small: no LRA
    for record in records:
        (tmp_path / f"{record['key']}.json").write_text(json.dumps(record))
    speed_page.write_report(tmp_path, tmp_path / "results")
    markdown = (tmp_path / "results" / "speed.md").read_text()
    assert "## `base` presets, batch 32, mixed_bfloat16, on NVIDIA H200" in markdown
    section = markdown.split("### transformer_base beside Long Range Arena")[1]
    assert markdown.count("beside Long Range Arena") == 1 and "Tay et al. 2021" in section
    # ours, LRA's, ratio: steps/s, then GB (peak memory 500 + T/10 MB)
    assert "| zoo/jax | 1024 | 81 | 8.1 | 10.00 | 0.588 | 0.85 | 0.69 |" in section
    assert "| zoo/jax | 4096 | 7 | 1.4 | 5.00 |" in section
    assert "| pytorch | 1024 | 50 | 8.1 | 6.17 |" in section
    lra_rows = section.split("\n\n")[2].splitlines()[2:]
    assert [row.split(" | ")[1] for row in lra_rows] == ["1024", "2048", "4096", "1024"]
    assert "| MFU, % of the peak |" in markdown and "790 TFLOP/s" in markdown
