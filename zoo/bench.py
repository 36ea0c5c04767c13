"""`zoo bench`: train and inference speed and peak memory by sequence length.

    python -m zoo.bench --families lstm,transformer --lengths 64,256,1024
    python -m zoo.bench --report-only          # tables and plots from the records

Every zoo family (`<family>_<size>` preset) is measured on every Keras
backend, and in the same run so are the implementations a user would pick
instead, at the same sizes (`zoo/bench_references.py`): Keras's own recurrent
layers and keras-hub's `TransformerEncoder` on each backend, and PyTorch's
`nn.RNN` / `nn.LSTM` / `nn.GRU` / `nn.TransformerEncoderLayer` in a process
without Keras.

How (DESIGN.md, "Measuring speed honestly"): one worker process per
implementation, family and backend (a Keras backend is fixed at import, and a
process's peak memory is its own). The worker measures the lengths in
ascending order; at each it builds the model, compiles it, runs warm-up steps
that are not timed, then times `train_on_batch` and `predict_on_batch` steps.
Both return NumPy values, so the device has finished before the clock is
read. A record keeps the median and every step's time, the peak memory (the
process's peak resident memory, reset per length on Linux, or the device's
peak allocation on an accelerator), the parameter counts, the environment and
the load average. A length whose train step takes longer than
`--max-step-seconds`, or that runs out of memory, is the last one tried. On a
shared CPU, `--threads 1` pins every worker to one core: PyTorch's thread pool
in particular slows down by orders of magnitude when its cores are busy.

Records are JSON files in `--out`, one per measurement, written atomically and
named by what was measured, so a rerun measures only what is missing. The
report (`write_report`) is regenerated from the records alone: a CSV, a
Markdown summary with ratios to the fastest implementation, fitted scaling
exponents and LSTM/Transformer crossover lengths, and log-log plots.
"""

import argparse
import dataclasses
import gc
import hashlib
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zoo import bench_references as references
from zoo.bench_references import peak_device_memory_mb  # noqa: F401 (public here)


FAMILIES = ("rnn", "lstm", "gru", "transformer")
BACKENDS = ("tensorflow", "jax", "torch")
JIT_CHOICES = ("auto", "on", "off", "both")
DEFAULT_LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)
VOCABULARY_SIZE = 64
NUM_CLASSES = 10
REFERENCE_KINDS = ("keras", "keras_hub", "pytorch")
FINAL_STATUSES = ("ok", "oom", "too_slow")  # "error" is measured again on a rerun
PROTOCOL = "ZOO-BENCH"  # prefix of the worker's progress lines on stdout
_JIT_GUESS = {"on": True, "off": False}  # before a measurement resolves "auto"

# ------------------------------------------------------------------ options


def add_arguments(parser):
    """Add the `zoo bench` options to an `argparse` parser."""
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma list of {', '.join(FAMILIES)} (default: all)")
    parser.add_argument("--size", default="small",
                        help="preset size of every family: tiny, small or base (default: small)")
    parser.add_argument("--lengths", default=",".join(map(str, DEFAULT_LENGTHS)),
                        help="comma list of sequence lengths, measured in ascending order")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--backends", default=None,
                        help="comma list of Keras backends: tensorflow, jax, torch "
                             "(default: every one installed)")
    parser.add_argument("--references", nargs="?", const="all", default="all",
                        help="reference kinds to measure too: a comma list of "
                             f"{', '.join(REFERENCE_KINDS)}, or all (the default)")
    parser.add_argument("--no-references", dest="references", action="store_const", const="",
                        help="measure the zoo's models only")
    parser.add_argument("--jit", choices=JIT_CHOICES, default="both",
                        help="jit_compile of the Keras models: Keras's default (auto), on, "
                             "off, or both (TensorFlow with and without XLA; the default "
                             "elsewhere)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per length")
    parser.add_argument("--warmup-steps", type=int, default=2, help="untimed steps first")
    parser.add_argument("--max-step-seconds", type=float, default=20.0,
                        help="stop growing the length once a train step takes longer")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU cores for every implementation: each worker is pinned to "
                             "this many (default: all it may use)")
    parser.add_argument("--out", default=os.path.join("results", "runs", "speed"),
                        help="folder of measurement records (default: results/runs/speed)")
    parser.add_argument("--results", default="results",
                        help="folder of the report: speed.csv, speed.md, plots")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite the report from the records in --out")
    return parser


def main(args, echo=print):
    """Measure what `args` asks for that `--out` lacks, then write the report."""
    failures = 0
    if not args.report_only:
        jobs = plan_jobs(args)
        for index, job in enumerate(jobs, start=1):
            title = f"[{index}/{len(jobs)}] {_job_title(job)}"
            if all(_is_final(_read(record_path(job, n)), job) for n in job["lengths"]):
                echo(f"{title}: done before, skipped")
                continue
            echo(title)
            failures += not _run_worker(job, echo)
    paths = write_report(args.out, args.results)
    echo("Report: " + ", ".join(str(p) for p in paths))
    return 1 if failures else 0


def plan_jobs(args):
    """One job per (implementation, family, backend, jit), checked before any runs."""
    families = _parse_choices("--families", args.families, FAMILIES)
    kinds = _parse_references(args.references)
    lengths = _parse_lengths(args.lengths)
    backends = _parse_backends(args.backends)
    for name in ("batch_size", "steps", "warmup_steps"):
        _check_positive(name, getattr(args, name))
    if args.threads is not None:
        _check_positive("threads", args.threads)
    _check_positive("max_step_seconds", args.max_step_seconds)
    import zoo.models  # imports Keras: only here, not in the workers' module scope
    from zoo import environment

    common = {
        "size": args.size, "lengths": lengths, "batch_size": args.batch_size,
        "vocabulary_size": VOCABULARY_SIZE, "num_classes": NUM_CLASSES,
        "steps": args.steps, "warmup_steps": args.warmup_steps,
        "max_step_seconds": float(args.max_step_seconds), "out": str(args.out), "seed": 0,
        "threads": args.threads,
    }
    jits = {
        backend: (["off", "on"] if backend == "tensorflow" else ["auto"])
        if args.jit == "both" else [args.jit]
        for backend in backends
    }
    jobs = []
    for family in families:
        config = dataclasses.asdict(zoo.models.config(f"{family}_{args.size}"))
        for kind in ["zoo"] + [k for k in references.REFERENCES_BY_FAMILY[family] if k in kinds]:
            if kind == "pytorch":
                if _installed("torch"):
                    jobs.append({**common, "kind": kind, "family": family, "config": config,
                                 "backend": "pytorch", "jit": "off",
                                 "environment": _environment_for_torch(environment)})
                continue
            for backend in backends:
                for jit in jits[backend]:
                    jobs.append({**common, "kind": kind, "family": family, "config": config,
                                 "backend": backend, "jit": jit})
    return jobs


def _parse_choices(option, text, valid):
    chosen = [part.strip() for part in str(text).split(",") if part.strip()]
    unknown = [c for c in chosen if c not in valid]
    if unknown or not chosen:
        raise ValueError(
            f"Received an invalid value for `{option}`: {unknown or text!r}. "
            f"Valid choices: {list(valid)}"
        )
    return list(dict.fromkeys(chosen))


def _parse_references(text):
    if text in ("", None):
        return []
    chosen = _parse_choices("--references", text, REFERENCE_KINDS + ("all",))
    return list(REFERENCE_KINDS) if "all" in chosen else chosen


def _parse_backends(text):
    installed = [b for b in BACKENDS if _installed(b)]
    if text is None:
        return installed
    chosen = _parse_choices("--backends", text, BACKENDS)
    missing = [b for b in chosen if b not in installed]
    if missing:
        raise ValueError(f"Backend(s) {missing} are not installed here. Installed: {installed}")
    return chosen


def _parse_lengths(text):
    try:
        lengths = sorted({int(part) for part in str(text).split(",") if part.strip()})
    except ValueError:
        lengths = []
    if not lengths or lengths[0] < 1:
        raise ValueError(
            "Received an invalid value for `--lengths`, expected a comma list of "
            f"positive integers such as 64,128,256. Received: {text!r}"
        )
    return lengths


def _check_positive(name, value):
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        raise ValueError(
            f"Received an invalid value for `--{name.replace('_', '-')}`, expected a "
            f"positive number. Received: {name}={value!r}"
        )


def _installed(module):
    return importlib.util.find_spec(module) is not None


def _environment_for_torch(environment):
    """What the Keras-free PyTorch worker cannot ask `zoo.environment` itself."""
    return {"device": environment.cpu_name(), "device_kind": "cpu", "cpu_count": os.cpu_count(),
            "versions": environment.versions(), "commit": environment.git_commit()}


# ------------------------------------------------------------------ records


def implementation_label(kind, backend, jit_compile):
    """`zoo/tensorflow+xla`, `keras/jax`, `keras_hub/torch`, `pytorch`, ..."""
    if kind == "pytorch":
        return "pytorch"
    if jit_compile:
        suffix = {"tensorflow": "+xla", "torch": "+compile"}.get(backend, "")
    else:
        suffix = "-eager" if backend == "jax" else ""
    return f"{kind}/{backend}{suffix}"


def record_key(job, length):
    """A file stem naming the measurement and unique to its workload."""
    what = {k: job.get(k) for k in ("kind", "family", "size", "config", "backend", "jit",
                                    "batch_size", "vocabulary_size", "num_classes", "threads")}
    digest = hashlib.sha1(
        json.dumps({**what, "sequence_length": length}, sort_keys=True).encode()
    ).hexdigest()[:8]
    return (f"{job['kind']}--{job['family']}_{job['size']}--{job['backend']}--jit-{job['jit']}"
            f"--T{length}--B{job['batch_size']}--{digest}")


def record_path(job, length):
    return Path(job["out"]) / f"{record_key(job, length)}.json"


def load_records(records_dir):
    """Every measurement record in `records_dir`, sorted by file name."""
    return [json.loads(p.read_text()) for p in sorted(Path(records_dir).glob("*.json"))]


def _read(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _write_json_atomically(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _is_final(record, job):
    """Whether a rerun of `job` keeps `record` instead of measuring again."""
    if record is None or record.get("status") not in FINAL_STATUSES:
        return False
    # A length skipped as too slow is tried again under a larger time cap.
    return record["measured"] or record["status"] != "too_slow" or (
        record["max_step_seconds"] >= job["max_step_seconds"])


def _stop_reason(record, job):
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


def _base_record(job, length, like=None):
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
        "implementation": implementation_label(job["kind"], job["backend"], jit_compile),
        "environment": like.get("environment") if like else None,
        "measured": False, "reason": None,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# ------------------------------------------------------------------ parent


def _worker_command(job):
    return [sys.executable, "-m", "zoo.bench", "--worker", json.dumps(job)]


def _worker_environment(job):
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.pop("KERAS_BACKEND", None)
    if job["kind"] != "pytorch":
        env["KERAS_BACKEND"] = job["backend"]
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # device peaks mean something
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


def _run_worker(job, echo):
    """Run one job in its own process; record a crash. True when it ended cleanly."""
    started, last = None, None  # the length being measured; the last record
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            _worker_command(job), stdout=subprocess.PIPE, stderr=errors, text=True,
            env=_worker_environment(job),
        )
        for line in process.stdout:
            if not line.startswith(PROTOCOL):
                continue
            verb, _, rest = line[len(PROTOCOL):].strip().partition(" ")
            if verb == "start":
                started = int(rest)
            elif verb == "done":
                started, last = None, json.loads(rest)
                echo("  " + _progress(last))
        code = process.wait()
        errors.seek(0)
        tail = errors.read()[-3000:]
    if code == 0:
        return True
    if started is not None:
        _record_crash(job, started, code, tail, last)
    echo(f"  worker failed (exit code {code}):\n{tail}")
    return False


def _record_crash(job, length, code, tail, last):
    """A record for the length a worker died on (signal 9: out of memory)."""
    record = _base_record(job, length, last)
    if code == -9:
        record.update(status="oom", measured=True,
                      reason="the worker was killed (signal 9), most likely out of memory")
        _write_json_atomically(record_path(job, length), record)
        for longer in (n for n in job["lengths"] if n > length):
            if not _is_final(_read(record_path(job, longer)), job):
                skipped = _base_record(job, longer, last)
                skipped.update(status="oom", reason=f"oom at sequence_length {length}")
                _write_json_atomically(record_path(job, longer), skipped)
    else:
        record.update(status="error", measured=True, reason=f"exit code {code}: {tail[-500:]}")
        _write_json_atomically(record_path(job, length), record)


def _job_title(job):
    jit = "" if job["kind"] == "pytorch" else f", jit_compile={job['jit']}"
    backend = "" if job["kind"] == "pytorch" else f" on {job['backend']}"
    return f"{job['kind']} {job['family']}_{job['size']}{backend}{jit}"


def _progress(record):
    where = f"{record['implementation']} {record['family']} T={record['sequence_length']}"
    if record["status"] != "ok":
        return f"{where}: {record['status']} ({record['reason']})"
    return (f"{where}: train {record['train_step_ms']:.1f} ms, inference "
            f"{record['inference_ms']:.1f} ms, peak {record['peak_memory_mb']:.0f} MB")


# ------------------------------------------------------------------ worker


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
        record = _read(path)
        if _is_final(record, job):
            stop = stop or _stop_reason(record, job)
            records.append(record)
            continue
        if stop is not None:
            record = _base_record(job, length, like=records[-1] if records else None)
            record.update(status=stop[0], reason=stop[1])
        else:
            echo(f"{PROTOCOL} start {length}", flush=True)
            if not warmed_up:
                warmed_up = _warm_up_process(job, build_subject)
            record = measure_length(job, length, build_subject)
            stop = _stop_reason(record, job)
        _write_json_atomically(path, record)
        echo(f"{PROTOCOL} done {json.dumps(record)}", flush=True)
        records.append(record)
        if record["status"] == "error":
            break  # an error that is not about memory would repeat at every length
    return records


def measure_length(job, length, build_subject):
    """One record: median train and inference step times and peak memory at `length`."""
    record = _base_record(job, length)
    record["measured"] = True
    references.reset_peak(job["backend"])
    start_mb = references.current_mb()
    began, subject = time.perf_counter(), None
    try:
        subject = build_subject(job, length)
        _resolve_jit(record, job, subject)
        warm = _warm_up(subject.train_step, job)
        timed = job["steps"] if warm[-1] <= job["max_step_seconds"] else 1
        train = [_timed(subject.train_step) for _ in range(timed)]
        _warm_up(subject.predict_step, job)
        inference = [_timed(subject.predict_step) for _ in range(timed)]
        peak_mb, source = references.peak_mb(job["backend"])
        record.update(_timings(job, length, train, inference), status="ok",
                      params=subject.params, peak_memory_mb=peak_mb, memory_source=source,
                      start_memory_mb=start_mb, warmup_step_ms=[s * 1000 for s in warm],
                      flops_per_example=getattr(subject, "flops_per_example", None))
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
        return references.torch_describe(job["environment"])
    from zoo import environment

    return environment.describe()


# ------------------------------------------------------------------ report

TARGET_ON_BEST_BACKEND = 1.2  # zoo on the backend it picks ÷ the fastest reference
TARGET_ON_TENSORFLOW = 1.5  # zoo on TensorFlow ÷ the fastest reference
WORKLOAD = ["device", "size", "batch_size", "threads"]
INTEGER_COLUMNS = ("batch_size", "sequence_length", "params_total", "params_mixer", "timed_steps")
COLUMNS = [
    "family", "size", "batch_size", "sequence_length", "implementation", "kind", "backend",
    "jit_compile", "device", "threads", "status", "params_total", "params_mixer",
    "train_step_ms", "train_ratio", "inference_ms", "inference_ratio",
    "train_samples_per_second", "train_tokens_per_second", "inference_tokens_per_second",
    "peak_memory_mb", "memory_above_start_mb", "memory_source", "flops_per_example",
    "train_flops_per_second", "timed_steps", "load_average_1m",
]


def write_report(records_dir, results_dir, name="speed"):
    """`<name>.csv`, `<name>.md` and log-log plots, from the records alone.

    Returns the paths written. The same records give the same CSV bytes.
    """
    records = load_records(records_dir)
    if not records:
        raise FileNotFoundError(
            f"No bench records in {str(records_dir)!r}; run `zoo bench` first.")
    table = results_table(records)
    results = Path(results_dir)
    results.mkdir(parents=True, exist_ok=True)
    csv_path = results / f"{name}.csv"
    _csv_text(table).to_csv(csv_path, index=False, lineterminator="\n")
    plots = _write_plots(table, results, name)
    md_path = results / f"{name}.md"
    md_path.write_text(_markdown(table, records, plots, records_dir))
    return [csv_path, md_path, *plots.values()]


def fastest_backends(records_dir):
    """`{family: backend}`: where the zoo's model trained fastest, for `--backend auto`.

    Backends are compared by the geometric mean of their train-step times
    (each at its best jit setting) over the lengths measured on all of them.
    A family without records, or with a tie, maps to None.
    """
    return _fastest_backends(results_table(load_records(records_dir)))


def results_table(records):
    """One row per implementation, workload and length, with ratios to the fastest."""
    import pandas as pd

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
    for column, ratio in (("train_step_ms", "train_ratio"), ("inference_ms", "inference_ratio")):
        fastest = table[ok].groupby(group)[column].transform("min")
        table[ratio] = (table.loc[ok, column] / fastest).astype(float)
    table["_family"] = table["family"].map(
        lambda f: FAMILIES.index(f) if f in FAMILIES else len(FAMILIES))
    table = table.sort_values(
        WORKLOAD + ["_family", "family", "sequence_length", "implementation"])
    return table[COLUMNS].reset_index(drop=True)


def _csv_text(table):
    """Numbers as text: integers whole, others to 4 significant digits (or whole
    from 1000 up), so the CSV reads well and the same records give the same bytes."""
    table = table.copy()
    for column in table.columns:
        if column in INTEGER_COLUMNS:
            table[column] = table[column].map(lambda v: "" if _missing(v) else str(int(v)))
        elif table[column].dtype.kind == "f":
            table[column] = table[column].map(_number_text)
    return table


def _number_text(value):
    if _missing(value):
        return ""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _row(record):
    params = record.get("params") or {}
    environment = record.get("environment") or {}
    peak, start = record.get("peak_memory_mb"), record.get("start_memory_mb")
    load = record.get("load_average")
    label = record.get("implementation") or implementation_label(
        record["kind"], record["backend"], record["jit_compile"])
    return {
        **{k: record.get(k) for k in COLUMNS},
        "implementation": label, "device": environment.get("device"),
        "threads": str(record.get("threads") or "all"),
        "params_total": params.get("total"), "params_mixer": params.get("mixer"),
        "memory_above_start_mb": None if peak is None or start is None else peak - start,
        "load_average_1m": load[0] if load else None,
        "measured_at": record.get("measured_at") or "", "key": record["key"],
    }


def _fastest_backends(table):
    import numpy as np

    chosen = {family: None for family in FAMILIES}
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


# ------------------------------------------------------------ report: parts


def _write_plots(table, results, name):
    from zoo import plots

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
                    title=f"{family}_{workload[1]}, batch {workload[2]}: {label}")
                written[(workload, family, what)] = path
    return written


def _markdown(table, records, plots, records_dir):
    lines = ["# Speed and peak memory by sequence length", "",
             f"Written by `zoo bench` from the records in `{records_dir}`; "
             "regenerate, do not edit.", "", *_environment_lines(records), ""]
    workloads = list(table.groupby(WORKLOAD, sort=True))
    for workload, rows in workloads:
        device, size, batch, threads = workload
        cores = "" if threads == "all" else f", {threads} core(s)"
        lines += [f"## `{size}` presets, batch {batch}, on {device}{cores}", ""]
        lines += _verdict_lines(rows)
        for family, family_rows in sorted(rows.groupby("family"),
                                          key=lambda item: _family_order(item[0])):
            lines += [f"### {family}_{size}", ""]
            lines += _length_table(family_rows, "train step, ms (÷ fastest)", _time_cell("train"))
            lines += _length_table(family_rows, "inference, ms (÷ fastest)",
                                   _time_cell("inference"))
            lines += _length_table(family_rows, "peak memory, MB (+ above the start)",
                                   _memory_cell)
            images = [plots[key] for key in ((workload, family, "train"),
                                             (workload, family, "memory")) if key in plots]
            lines += [" ".join(f"![{p.stem}]({p.name})" for p in images), ""]
        lines += _exponent_lines(rows) + _crossover_lines(rows)
    lines += _method_lines(records)
    return "\n".join(lines).rstrip() + "\n"


def _family_order(family):
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


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
    chosen = _fastest_backends(ok)
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
    above = "" if _missing(row.memory_above_start_mb) else f" (+{row.memory_above_start_mb:.0f})"
    return f"{row.peak_memory_mb:.0f}{above}"


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _exponent_lines(rows):
    from zoo.plots import fit_exponent

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


def _method_lines(records):
    steps = sorted({r.get("timed_steps") for r in records if r.get("timed_steps")})
    warmups = sorted({r.get("warmup_steps") for r in records if r.get("warmup_steps")})
    sources = sorted({r.get("memory_source") for r in records if r.get("memory_source")})
    return [
        "## How this was measured", "",
        "Each implementation, family and backend ran in its own process, which first "
        "stepped a throwaway model at the shortest length. At each length: build, compile, "
        f"at least {'/'.join(map(str, warmups))} untimed warm-up step(s) (more until two "
        "in a row agreed within 1.5x), then the "
        f"median of {'/'.join(map(str, steps))} timed `train_on_batch` (Adam) and "
        "`predict_on_batch` calls on one synthetic batch of random tokens (vocabulary "
        f"{VOCABULARY_SIZE}, {NUM_CLASSES} classes); each call returns host values, so the "
        "device had finished when the clock was read (PyTorch: `loss.item()` and "
        "`torch.cuda.synchronize()`). The ratio in brackets divides by the fastest "
        "implementation at that length. Peak memory: "
        f"{', '.join(sources) or 'none'} (rss: the process's peak resident memory, restarted "
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


def _worker_main(job_json):
    job = json.loads(job_json)
    _limit_threads(job.get("threads"))
    records = run_job(job, references.build_subject, echo=print)
    return 0 if all(r["status"] != "error" for r in records) else 1


if __name__ == "__main__":
    parser = add_arguments(argparse.ArgumentParser(prog="python -m zoo.bench",
                                                   description=__doc__.split("\n")[0]))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    options = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if options.worker:
        sys.exit(_worker_main(options.worker))
    sys.exit(main(options))
