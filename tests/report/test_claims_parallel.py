"""Claim 3 from `zoo bench` records: fits within one workload, and attention's
memory verdict kept apart for the paths that keep the score matrix whole."""

import json

from zoo.report.claims.parallel import section_parallel


def bench_record(family, length, batch, step_ms, memory_mb, path=None, device="Test CPU"):
    record = {
        "key": f"zoo--{family}--B{batch}--T{length}", "implementation": "zoo/jax",
        "kind": "zoo", "backend": "jax", "family": family, "size": "small",
        "batch_size": batch, "sequence_length": length, "status": "ok", "threads": 1,
        "precision": "float32", "train_step_ms": step_ms, "inference_ms": step_ms / 3,
        "train_tokens_per_second": batch * length / step_ms * 1000,
        "peak_memory_mb": 100 + memory_mb, "start_memory_mb": 100,
        "measured_at": "2026-11-30T00:00:00", "environment": {"device": device},
    }
    if path:
        record["attention_path"] = path
    return record


def write(folder, records):
    folder.mkdir(exist_ok=True)
    for record in records:
        (folder / f"{record['key']}.json").write_text(json.dumps(record))


def test_workloads_are_fitted_apart_and_memory_by_path(tmp_path):
    lengths = [1024, 2048, 4096]
    records = (
        # batch 64, full attention (records from before the path was named): quadratic
        [bench_record("transformer", n, 64, (n / 1024) ** 2 * 1000, (n / 1024) ** 2 * 50)
         for n in lengths]
        + [bench_record("lstm", n, 64, n, n / 10) for n in lengths]
        # batch 1, chunked: time quadratic, memory linear, the same lengths
        + [bench_record("transformer", n, 1, (n / 1024) ** 2 * 100, n / 100, "chunked")
           for n in lengths]
    )
    write(tmp_path / "speed", records)
    section = section_parallel(tmp_path / "speed", tmp_path)
    text = "\n".join(section.lines)
    facts = section.verdicts
    full = facts[("zoo/jax", "transformer", "batch 64, float32, 1 thread, Test CPU")]
    chunked = facts[("zoo/jax", "transformer", "batch 1, float32, 1 thread, Test CPU")]
    assert abs(full["memory"] - 2) < 1e-6 and abs(chunked["memory"] - 1) < 1e-6
    assert abs(full["time"] - 2) < 1e-6 and abs(chunked["time"] - 2) < 1e-6
    assert chunked["path"] == "chunked" and full["path"] == "not recorded"
    assert "holds for the full score matrix (memory exponent 2.00-2.00)" in text
    assert "is avoided by chunked or fused attention (memory exponent 1.00-1.00" in text
    assert "O(n²) time: holds" in text
    # the crossover compares the LSTM with the Transformer of its own workload only
    assert "zoo/jax (batch 64, float32, 1 thread, Test CPU)" in text
    assert "zoo/jax (batch 1" not in text
