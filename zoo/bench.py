"""`zoo bench`: train and inference speed and peak memory by sequence length.

    python -m zoo.bench --families lstm,transformer --lengths 64,256,1024
    python -m zoo.bench --profile full         # the LRA Transformer's sizes, 1K-16K, bf16
    python -m zoo.bench --report-only          # tables and plots from the records

Profiles set the workload; an option given explicitly overrides its preset.
`quick` (the default on a CPU): `small` presets, batch 64, 64 to 4K tokens,
TensorFlow with and without XLA, float32. `full` (the default where an
accelerator is present): `base` presets (for the Transformer, the LRA text
model: 4 layers, d 256, 4 heads, MLP 1024), batch 32, 1K to 16K tokens,
compiled, mixed bfloat16; the report then adds model FLOP utilisation (MFU)
and Long Range Arena's published TPU figures beside `transformer_base`.

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
peak allocation on an accelerator), the parameter counts, the forward FLOPs
(`zoo/flops.py`), the precision, the environment and the load average. A
length whose train step takes longer than `--max-step-seconds`, or that runs
out of memory, is the last one tried. On a shared CPU, `--threads 1` pins
every worker to one core: PyTorch's thread pool in particular slows down by
orders of magnitude when its cores are busy.

Records are JSON files in `--out`, one per measurement, written atomically and
named by what was measured, so a rerun measures only what is missing. The
report (`zoo/bench_report.py`, `write_report`) is regenerated from the
records alone: a CSV, a Markdown summary with ratios to the fastest
implementation, fitted scaling exponents and LSTM/Transformer crossover
lengths, and log-log plots.
"""

import argparse
import dataclasses
import gc
import glob
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zoo import bench_references as references
from zoo.bench_references import FAMILIES, PRECISIONS, implementation_label
from zoo.bench_references import peak_device_memory_mb  # noqa: F401 (public here)
from zoo.bench_report import (  # noqa: F401 (public here: `zoo run`, `zoo report`)
    crossover,
    fastest_backends,
    load_records,
    results_table,
    write_report,
)


BACKENDS = ("tensorflow", "jax", "torch")
JIT_CHOICES = ("auto", "on", "off", "both")
DEFAULT_LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)
FULL_LENGTHS = (1024, 2048, 3072, 4096, 8192, 16384)  # LRA's 1K-4K, up to Path-X's 16K
PROFILES = {
    "quick": {"size": "small", "batch_size": 64, "lengths": DEFAULT_LENGTHS, "jit": "both",
              "precision": "float32"},
    "full": {"size": "base", "batch_size": 32, "lengths": FULL_LENGTHS, "jit": "on",
             "precision": "mixed_bfloat16"},
}
# Device files of an accelerator (NVIDIA, AMD ROCm, TPU): none, no accelerator.
_ACCELERATOR_DEVICE_FILES = ("/dev/nvidia[0-9]*", "/dev/kfd", "/dev/accel[0-9]*",
                             "/dev/vfio/[0-9]*")
VOCABULARY_SIZE = 64
NUM_CLASSES = 10
REFERENCE_KINDS = ("keras", "keras_hub", "pytorch")
FINAL_STATUSES = ("ok", "oom", "too_slow")  # "error" is measured again on a rerun
PROTOCOL = "ZOO-BENCH"  # prefix of the worker's progress lines on stdout
_JIT_GUESS = {"on": True, "off": False}  # before a measurement resolves "auto"

# ------------------------------------------------------------------ options


def add_arguments(parser):
    """Add the `zoo bench` options to an `argparse` parser."""
    parser.add_argument("--profile", default=None,
                        help=f"preset workload: {' or '.join(PROFILES)} (default: full where "
                             "an accelerator is present, else quick); the options below "
                             "override its presets")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma list of {', '.join(FAMILIES)} (default: all)")
    parser.add_argument("--size", default=None,
                        help="preset size of every family: tiny, small or base "
                             "(quick: small, full: base)")
    parser.add_argument("--lengths", default=None,
                        help="comma list of sequence lengths, measured in ascending order "
                             f"(quick: {_lengths_text('quick')}, full: {_lengths_text('full')})")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="examples per step (quick: 64, full: 32)")
    parser.add_argument("--precision", default=None,
                        help=f"Keras dtype policy: {', '.join(PRECISIONS)} "
                             "(quick: float32, full: mixed_bfloat16)")
    parser.add_argument("--backends", default=None,
                        help="comma list of Keras backends: tensorflow, jax, torch "
                             "(default: every one installed)")
    parser.add_argument("--references", nargs="?", const="all", default="all",
                        help="reference kinds to measure too: a comma list of "
                             f"{', '.join(REFERENCE_KINDS)}, or all (the default)")
    parser.add_argument("--no-references", dest="references", action="store_const", const="",
                        help="measure the zoo's models only")
    parser.add_argument("--jit", choices=JIT_CHOICES, default=None,
                        help="jit_compile of the Keras models: Keras's default (auto), on, "
                             "off, or both (TensorFlow with and without XLA; the default "
                             "elsewhere) (quick: both, full: on)")
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
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's peak TFLOP/s at the precision measured, for model "
                             "FLOP utilisation (default: the peak `zoo/bench_report.py` "
                             "lists for the device, if any; else no MFU)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite the report from the records in --out")
    return parser


def _lengths_text(profile):
    return ",".join(map(str, PROFILES[profile]["lengths"]))


def main(args, echo=print):
    """Measure what `args` asks for that `--out` lacks, then write the report."""
    failures = 0
    if args.peak_tflops is not None:
        _check_positive("peak_tflops", args.peak_tflops)
    if not args.report_only:
        jobs = plan_jobs(args)
        for index, job in enumerate(jobs, start=1):
            title = f"[{index}/{len(jobs)}] {_job_title(job)}"
            if all(_is_final(_read(record_path(job, n)), job) for n in job["lengths"]):
                echo(f"{title}: done before, skipped")
                continue
            echo(title)
            failures += not _run_worker(job, echo)
    paths = write_report(args.out, args.results, peak_tflops=args.peak_tflops)
    echo("Report: " + ", ".join(str(p) for p in paths))
    return 1 if failures else 0


def plan_jobs(args):
    """One job per (implementation, family, backend, jit), checked before any runs."""
    args = resolve_profile(args)
    _parse_choice("--jit", args.jit, JIT_CHOICES)
    _parse_choice("--precision", args.precision, PRECISIONS)
    families = _parse_choices("--families", args.families, FAMILIES)
    kinds = _parse_references(args.references)
    lengths = _parse_lengths(args.lengths)
    backends = _parse_backends(args.backends)
    for name in ("batch_size", "steps", "warmup_steps"):
        _check_positive(name, getattr(args, name))
    for name in ("threads", "peak_tflops"):
        if getattr(args, name) is not None:
            _check_positive(name, getattr(args, name))
    _check_positive("max_step_seconds", args.max_step_seconds)
    import zoo.models  # imports Keras: only here, not in the workers' module scope
    from zoo import environment

    common = {
        "size": args.size, "lengths": lengths, "batch_size": args.batch_size,
        "vocabulary_size": VOCABULARY_SIZE, "num_classes": NUM_CLASSES,
        "steps": args.steps, "warmup_steps": args.warmup_steps,
        "max_step_seconds": float(args.max_step_seconds), "out": str(args.out), "seed": 0,
        "threads": args.threads, "precision": args.precision, "peak_tflops": args.peak_tflops,
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


def resolve_profile(args):
    """A copy of `args` whose unset workload options take `--profile`'s presets."""
    profile = args.profile or default_profile()
    _parse_choice("--profile", profile, PROFILES)
    resolved = argparse.Namespace(**vars(args))
    resolved.profile = profile
    for name, preset in PROFILES[profile].items():
        if getattr(args, name, None) is None:
            setattr(resolved, name, _lengths_text(profile) if name == "lengths" else preset)
    return resolved


def default_profile():
    """`"full"` where an accelerator is present, else `"quick"`: what `zoo run`
    picks (`zoo.sweep.default_profile`). Without an accelerator's device file
    the answer is immediate; with one, a child process asks the Keras backend,
    so that no framework in this process holds device memory the workers need."""
    if not any(glob.glob(pattern) for pattern in _ACCELERATOR_DEVICE_FILES):
        return "quick"
    probe = subprocess.run(_profile_probe_command(), capture_output=True, text=True,
                           env=_child_environment())
    answer = probe.stdout.strip().splitlines()[-1:] if probe.returncode == 0 else []
    return answer[0] if answer and answer[0] in PROFILES else "quick"


def _profile_probe_command():
    return [sys.executable, "-c", "from zoo import sweep; print(sweep.default_profile())"]


def _parse_choice(option, value, valid):
    if value not in valid:
        raise ValueError(f"Received an invalid value for `{option}`: {value!r}. "
                         f"Valid choices: {list(valid)}")
    return value


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
        "precision": job.get("precision") or "float32", "peak_tflops": job.get("peak_tflops"),
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
    env = _child_environment()
    env.pop("KERAS_BACKEND", None)
    if job["kind"] != "pytorch":
        env["KERAS_BACKEND"] = job["backend"]
    return env


def _child_environment():
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
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
    precision = job.get("precision") or "float32"
    precision = "" if precision == "float32" else f", {precision}"
    return f"{job['kind']} {job['family']}_{job['size']}{backend}{jit}{precision}"


def _progress(record):
    where = f"{record['implementation']} {record['family']} T={record['sequence_length']}"
    if record["status"] != "ok":
        return f"{where}: {record['status']} ({record['reason']})"
    flops = record.get("train_flops_per_second")
    flops = f", {flops / 1e12:.3g} TFLOP/s" if flops else ""
    return (f"{where}: train {record['train_step_ms']:.1f} ms{flops}, inference "
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
        return references.torch_describe(job["environment"], job.get("precision") or "float32")
    from zoo import environment

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
