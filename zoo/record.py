"""The run record: the one thing the runner, the benchmark and the reports share.

A run writes `<workdir>/<run_id>/` with `config.json` (the resolved run),
`history.csv` (per-epoch logs) and, last and atomically, `metrics.json` (the
record). A benchmark measurement is one `<key>.json` in its folder. This
module owns their file names, the atomic write, loading, the upgrade of
records written before a field was renamed, and the names of the fields a
report may rely on. It imports nothing from the rest of the zoo, and no
Keras: a report reads records with this module alone.

    from zoo import record
    records = record.load_run_records("results/runs/quick")
    record.write_json_atomically(path, payload)     # strict JSON, then os.replace

Records are strict JSON: a non-finite number (a diverged loss) is written as
`null`, and the record's `status` says why.
"""

import json
import math
import os
from pathlib import Path

RECORD_FILE = "metrics.json"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
CORRUPT_SUFFIX = ".corrupt"  # a record that cannot be read is moved aside under this name
STALE_SUFFIX = ".stale"  # a record of a model built from other preset values, likewise
STATUSES = ("finished", "diverged")

# Fields every run record has, and what a report reads from them.
RUN_REQUIRED = ("run", "metric")
RUN_FIELDS = (
    "run_id", "run", "status", "metric", "higher_is_better", "test", "extra_tests",
    "solved", "baseline", "solved_at", "loss_floor", "validation", "validation_steps",
    "validation_train_seconds", "best_epoch", "solved_epoch", "time_to_solve_seconds",
    "budget_exhausted", "params", "model_config", "state_size", "input_length",
    "flops_per_example", "train_steps", "train_step_seconds_median",
    "train_steps_per_second", "train_samples_per_second", "train_tokens_per_second",
    "inference_samples_per_second", "train_seconds", "peak_memory_mb", "peak_memory_kind",
    "probes", "pretraining", "environment", "wall_seconds",
)
# Renamed fields and values: {old name: new name}; old values -> new ones.
_BENCH_RENAMED = {"memory_source": "peak_memory_kind"}
_MEMORY_KIND_RENAMED = {"rss": "host_rss", "ru_maxrss": "host_ru_maxrss"}


class RecordError(ValueError):
    """A file that should hold a record does not (not JSON, not a run)."""


# ------------------------------------------------------------------ writing


def strict(value):
    """`value` with NumPy scalars and arrays as Python values and every
    non-finite float as None, so `json.dumps(..., allow_nan=False)` accepts it."""
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy
        return strict(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(payload):
    """The JSON text of a record: strict, indented, keys sorted."""
    return json.dumps(strict(payload), indent=2, sort_keys=True, allow_nan=False)


def write_json_atomically(path, payload):
    """Write `payload` to `path` so that a reader sees the old file or the whole
    new one, never a part (a temporary file, then `os.replace`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(payload)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove_stale_temporaries(folder):
    """Delete the temporary files in `folder` that a writer killed between
    writing and `os.replace` left behind (their process is gone); return
    their paths. Files of a living process are kept."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and pid_exists(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def pid_exists(pid):
    """Whether a process `pid` exists on this host (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    return True


# ------------------------------------------------------------------ reading


def read_json(path):
    """The JSON object in `path`; `RecordError` naming the file otherwise."""
    path = Path(path)
    try:
        value = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RecordError(f"{path} is not valid JSON ({error}).") from error
    if not isinstance(value, dict):
        raise RecordError(f"{path} holds JSON {type(value).__name__}, not a record (an object).")
    return value


def load_run_record(path):
    """One run record, checked and upgraded; `RecordError` naming the file."""
    path = Path(path)
    record = read_json(path)
    missing = [name for name in RUN_REQUIRED if name not in record]
    if missing or not isinstance(record.get("run"), dict):
        raise RecordError(
            f"{path} is not a run record: it lacks {missing or ['run (an object)']} "
            f"(a run record has {list(RUN_REQUIRED)}).")
    record.setdefault("run_id", path.parent.name)
    return record


def run_record_path(workdir, run_id):
    return Path(workdir) / run_id / RECORD_FILE


def finished_record(workdir, run_id):
    """The record of a finished run in `workdir`, or None when there is none.

    A record that cannot be read is moved aside (`metrics.json.corrupt`, kept
    for a person to look at) and None returned, so the run trains again.
    """
    path = run_record_path(workdir, run_id)
    if not path.exists():
        return None
    try:
        return load_run_record(path)
    except RecordError:
        path.replace(path.with_name(path.name + CORRUPT_SUFFIX))
        return None


def load_run_records(runs_dir):
    """Every run record under `runs_dir` (`*/metrics.json`), sorted by run id.

    `FileNotFoundError` naming the folder when it does not exist or holds no
    finished run; `RecordError` naming a file that is not a run record.
    """
    folder = Path(runs_dir)
    if not folder.is_dir():
        kind = "a file, not a folder" if folder.exists() else "no folder"
        raise FileNotFoundError(f"{folder.resolve()} is {kind}: no run records to report.")
    records = [load_run_record(path) for path in folder.glob(f"*/{RECORD_FILE}")]
    if not records:
        raise FileNotFoundError(
            f"No run records (*/{RECORD_FILE}) under {folder.resolve()}; "
            "train them first with `zoo run NAME --out DIR`."
        )
    return sorted(records, key=lambda r: str(r["run_id"]))


def upgrade_bench(record):
    """A benchmark record with today's field names and values."""
    for old, new in _BENCH_RENAMED.items():
        if old in record and new not in record:
            record[new] = record.pop(old)
    if "peak_memory_kind" in record:
        kind = record["peak_memory_kind"]
        record["peak_memory_kind"] = _MEMORY_KIND_RENAMED.get(kind, kind)
    return record


def load_bench_records(records_dir):
    """Every benchmark record (`*.json`) in `records_dir`, sorted by file name."""
    return [upgrade_bench(read_json(path)) for path in sorted(Path(records_dir).glob("*.json"))]
