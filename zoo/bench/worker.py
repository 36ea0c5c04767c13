"""The worker process of `zoo bench`: measures one job's lengths in ascending
order, warm-up first, the device synchronised before the clock is read."""

import gc
import json
import os
import statistics
import time

from zoo.bench import references
from zoo.bench.records import base_record, is_final, read, record_path, stop_reason, write_record
from zoo.bench.references import implementation_label
from zoo.measure import backend

PROTOCOL = "ZOO-BENCH"  # prefix of the worker's progress lines on stdout


def run_job(job, build_subject, echo=print):
    """Measure `job`'s lengths in ascending order, one record each; returns them.

    `build_subject(job, length)` returns an object with `train_step()` (one
    synchronised step, returns the loss), `predict_step()`, `params` and
    `jit_compile`. Lengths already final in `job["out"]` are kept; after a
    length that ran out of memory or time, longer ones are recorded as not
    measured, with the reason.
    """
    records, stop, warmed_up = [], None, False
    for length in job["lengths"]:
        path = record_path(job, length)
        record = read(path)
        if is_final(record, job):
            stop = stop or stop_reason(record, job)
            records.append(record)
            continue
        if stop is not None:
            record = base_record(job, length, like=records[-1] if records else None)
            record.update(status=stop[0], reason=stop[1])
        else:
            echo(f"{PROTOCOL} start {length}", flush=True)
            if not warmed_up:
                warmed_up = _warm_up_process(job, build_subject)
            record = measure_length(job, length, build_subject)
            stop = stop_reason(record, job)
        write_record(path, record)
        echo(f"{PROTOCOL} done {json.dumps(record)}", flush=True)
        records.append(record)
        if record["status"] == "error":
            break  # an error that is not about memory would repeat at every length
    return records


def measure_length(job, length, build_subject):
    """One record: median train and inference step times and peak memory at `length`."""
    record = base_record(job, length)
    record["measured"] = True
    backend.reset_peak(job["backend"])
    start_mb = backend.current_mb()
    began, subject = time.perf_counter(), None
    try:
        subject = build_subject(job, length)
        _resolve_jit(record, job, subject)
        warm = _warm_up(subject.train_step, job)
        timed = job["steps"] if warm[-1] <= job["max_step_seconds"] else 1
        train = [_timed(subject.train_step) for _ in range(timed)]
        _warm_up(subject.predict_step, job)
        inference = [_timed(subject.predict_step) for _ in range(timed)]
        peak_mb, kind = backend.peak_mb(job["backend"])
        record.update(_timings(job, length, train, inference), status="ok",
                      params=subject.params, peak_memory_mb=peak_mb, peak_memory_kind=kind,
                      start_memory_mb=start_mb, warmup_step_ms=[s * 1000 for s in warm],
                      flops_per_example=getattr(subject, "flops_per_example", None),
                      attention_path=getattr(subject, "attention_path", None))
        if record["flops_per_example"]:
            per_step = record["flops_per_example"] * job["batch_size"]
            record["train_flops_per_second"] = 3 * per_step / (record["train_step_ms"] / 1000)
            record["inference_flops_per_second"] = per_step / (record["inference_ms"] / 1000)
    except Exception as error:  # noqa: BLE001 -- any failure is recorded, not raised
        record.update(status="oom" if _is_out_of_memory(error) else "error",
                      reason=f"{type(error).__name__}: {str(error)[:500]}")
        if subject is not None:
            _resolve_jit(record, job, subject)
    finally:
        del subject
        gc.collect()
    record["wall_seconds"] = time.perf_counter() - began
    record["environment"] = _describe(job)
    return record


def _warm_up(step, job, extra=10):
    """Untimed steps: `warmup_steps`, then up to `extra` more until the last two
    agree within 1.5x and the last is within 1.5x of the fastest. First steps
    can stay slow for a while (lazy optimizer state, kernel selection, thread
    pools starting). Extra steps stop once they took `max_step_seconds` in all."""
    warm = [_timed(step) for _ in range(job["warmup_steps"])]

    def settled():
        last_two = warm[-2:]
        return (len(warm) >= 2 and max(last_two) <= 1.5 * min(last_two)
                and warm[-1] <= 1.5 * min(warm))

    while (not settled() and len(warm) < job["warmup_steps"] + extra
           and sum(warm[1:]) <= job["max_step_seconds"]):
        warm.append(_timed(step))
    return warm


def _warm_up_process(job, build_subject):
    """Build and step a throwaway model at the shortest length first, so the
    first length measured does not pay for the process's one-time costs
    (library initialisation, thread pools, first-use allocations)."""
    try:
        subject = build_subject(job, job["lengths"][0])
        _warm_up(subject.train_step, job)
        _warm_up(subject.predict_step, job)
    except Exception:  # noqa: BLE001 -- the measurement will meet and record it
        pass
    finally:
        subject = None
        gc.collect()
    return True


def _resolve_jit(record, job, subject):
    record["jit_compile"] = bool(subject.jit_compile)
    record["implementation"] = implementation_label(job["kind"], job["backend"],
                                                    record["jit_compile"])


def _timed(step):
    started = time.perf_counter()
    step()  # returns host values: the device is done
    return time.perf_counter() - started


def _timings(job, length, train, inference):
    train_ms = 1000 * statistics.median(train)
    inference_ms = 1000 * statistics.median(inference)
    batch = job["batch_size"]
    return {
        "timed_steps": len(train),
        "train_step_ms": train_ms, "train_step_ms_all": [1000 * s for s in train],
        "inference_ms": inference_ms, "inference_ms_all": [1000 * s for s in inference],
        "train_samples_per_second": batch / (train_ms / 1000),
        "train_tokens_per_second": batch * length / (train_ms / 1000),
        "inference_samples_per_second": batch / (inference_ms / 1000),
        "inference_tokens_per_second": batch * length / (inference_ms / 1000),
    }


_OOM_MARKERS = ("resourceexhausted", "resource_exhausted", "out of memory", "outofmemory",
                "can't allocate memory", "failed to allocate", "oom when allocating")


def _is_out_of_memory(error):
    if isinstance(error, MemoryError):
        return True
    text = f"{type(error).__name__} {error}".lower()
    return any(marker in text for marker in _OOM_MARKERS)


def _describe(job):
    if job["kind"] == "pytorch":
        return references.torch_describe(job["environment"], job.get("precision") or "float32")
    from zoo.measure import environment

    return environment.describe()


# ------------------------------------------------------------------ worker entry


def _limit_threads(threads):
    """Pin this process to `threads` cores before a framework is imported:
    TensorFlow, XLA and PyTorch all size their thread pools by the cores a
    process may use. Where pinning is unsupported, only OpenMP is told."""
    if not threads:
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])


def worker_main(job_json):
    job = json.loads(job_json)
    _limit_threads(job.get("threads"))
    records = run_job(job, references.build_subject, echo=print)
    return 0 if all(r["status"] != "error" for r in records) else 1
