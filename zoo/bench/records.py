"""Benchmark records: one JSON file per measurement, named by what was
measured, written atomically (`zoo.record`), so a rerun measures only what is
missing."""

import hashlib
import json
import os
import time
from pathlib import Path

from zoo import record as run_record
from zoo.bench.references import implementation_label

FINAL_STATUSES = ("ok", "oom", "too_slow")  # "error" is measured again on a rerun
_JIT_GUESS = {"on": True, "off": False}  # before a measurement resolves "auto"


def record_key(job, length):
    """A file stem naming the measurement and unique to its workload.

    float32 adds nothing to the key, so records measured before `--precision`
    existed keep their names and count as done."""
    what = {k: job.get(k) for k in ("kind", "family", "size", "config", "backend", "jit",
                                    "batch_size", "vocabulary_size", "num_classes", "threads")}
    precision = job.get("precision") or "float32"
    if precision != "float32":
        what["precision"] = precision
    digest = hashlib.sha1(
        json.dumps({**what, "sequence_length": length}, sort_keys=True).encode()
    ).hexdigest()[:8]
    named = "" if precision == "float32" else f"--{precision}"
    return (f"{job['kind']}--{job['family']}_{job['size']}--{job['backend']}--jit-{job['jit']}"
            f"{named}--T{length}--B{job['batch_size']}--{digest}")


def record_path(job, length):
    return Path(job["out"]) / f"{record_key(job, length)}.json"


def read(path):
    """The record at `path`, or None when it is missing or unreadable (then
    it is measured again)."""
    try:
        return run_record.upgrade_bench(run_record.read_json(path))
    except (OSError, run_record.RecordError):
        return None


def write_record(path, payload):
    run_record.write_json_atomically(path, payload)


def is_final(record, job):
    """Whether a rerun of `job` keeps `record` instead of measuring again."""
    if record is None or record.get("status") not in FINAL_STATUSES:
        return False
    # A length skipped as too slow is tried again under a larger time cap.
    return record["measured"] or record["status"] != "too_slow" or (
        record["max_step_seconds"] >= job["max_step_seconds"])


def stop_reason(record, job):
    """`(status, reason)` for the lengths after `record`, or None to go on."""
    if record["status"] in ("oom", "too_slow"):
        if not record["measured"]:
            return record["status"], record["reason"]
        return "oom", f"oom at sequence_length {record['sequence_length']}"
    slowest = max(record.get("train_step_ms_all") or [0.0]) / 1000
    if record["status"] == "ok" and slowest > job["max_step_seconds"]:
        return "too_slow", (
            f"a train step at sequence_length {record['sequence_length']} took "
            f"{slowest:.1f} s > --max-step-seconds {job['max_step_seconds']:g}")
    return None


def base_record(job, length, like=None):
    """A record's common fields; `like`: an earlier record of the job, for what
    only a measurement tells (the resolved jit setting, the environment)."""
    guess = _JIT_GUESS.get(job["jit"], job["backend"] == "jax")
    jit_compile = like["jit_compile"] if like else guess
    return {
        "schema": 1,
        "key": record_key(job, length),
        "kind": job["kind"], "family": job["family"], "size": job["size"],
        "backend": job["backend"], "jit": job["jit"], "config": job["config"],
        "sequence_length": length, "batch_size": job["batch_size"],
        "vocabulary_size": job["vocabulary_size"], "num_classes": job["num_classes"],
        "warmup_steps": job["warmup_steps"], "max_step_seconds": job["max_step_seconds"],
        "threads": job.get("threads"), "jit_compile": jit_compile,
        "precision": job.get("precision") or "float32", "peak_tflops": job.get("peak_tflops"),
        "implementation": implementation_label(job["kind"], job["backend"], jit_compile),
        "environment": like.get("environment") if like else None,
        "measured": False, "reason": None,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def child_environment():
    """The environment of a child process: this checkout on its path, quiet
    TensorFlow, device memory allocated on demand (so peaks mean something)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env
