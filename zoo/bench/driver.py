"""The parent process of `zoo bench`: one worker process per job, its
progress on stdout, a record for a worker that died (signal 9: out of memory),
then the report."""

import json
import subprocess
import sys
import tempfile

from zoo.bench.options import check_positive, plan_jobs
from zoo.bench.records import (
    base_record,
    child_environment,
    is_final,
    read,
    record_path,
    write_record,
)
from zoo.bench.worker import PROTOCOL


def main(args, echo=print):
    """Measure what `args` asks for that `--out` lacks; the number of jobs
    whose worker failed. (`zoo bench` then writes the report from `--out`.)"""
    failures = 0
    if args.peak_tflops is not None:
        check_positive("peak_tflops", args.peak_tflops)
    if args.report_only:
        return 0
    jobs = plan_jobs(args)
    for index, job in enumerate(jobs, start=1):
        title = f"[{index}/{len(jobs)}] {_job_title(job)}"
        if all(is_final(read(record_path(job, n)), job) for n in job["lengths"]):
            echo(f"{title}: done before, skipped")
            continue
        echo(title)
        failures += not _run_worker(job, echo)
    return failures


def _worker_command(job):
    return [sys.executable, "-m", "zoo.bench", "--worker", json.dumps(job)]


def _worker_environment(job):
    env = child_environment()
    env.pop("KERAS_BACKEND", None)
    if job["kind"] != "pytorch":
        env["KERAS_BACKEND"] = job["backend"]
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
    record = base_record(job, length, last)
    if code == -9:
        record.update(status="oom", measured=True,
                      reason="the worker was killed (signal 9), most likely out of memory")
        write_record(record_path(job, length), record)
        for longer in (n for n in job["lengths"] if n > length):
            if not is_final(read(record_path(job, longer)), job):
                skipped = base_record(job, longer, last)
                skipped.update(status="oom", reason=f"oom at sequence_length {length}")
                write_record(record_path(job, longer), skipped)
    else:
        record.update(status="error", measured=True, reason=f"exit code {code}: {tail[-500:]}")
        write_record(record_path(job, length), record)


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
