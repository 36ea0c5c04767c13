"""Where a number was measured: backend, device, library versions, commit."""

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import keras

from zoo.measure import backend

_LIBRARIES = ("keras", "keras-hub", "tensorflow", "jax", "jaxlib", "torch", "numpy")


@functools.lru_cache(maxsize=None)
def versions():
    """Installed versions of the libraries that can change a measurement."""
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


@functools.lru_cache(maxsize=None)
def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device():
    """`{"device": name, "device_kind": "cpu"|"gpu"|"tpu", "cpu_count": n,
    "cpus_usable": cores this process may run on (less when pinned)}`."""
    kind, name = backend.accelerator()
    if kind == "cpu":
        name = cpu_name()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"device": name, "device_kind": kind, "cpu_count": os.cpu_count(),
            "cpus_usable": usable}


@functools.lru_cache(maxsize=None)
def git_commit():
    """The commit of the zoo checkout (with `+dirty` for local changes), or None."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, timeout=10,
        )
        return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def describe():
    """Everything a results row needs to say where it came from."""
    return {
        "backend": keras.backend.backend(),
        **device(),
        "precision": keras.config.dtype_policy().name,
        "versions": versions(),
        "commit": git_commit(),
        # Other work on the machine slows a measurement; this says how much there was.
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def default_profile():
    """`"full"` where the backend sees an accelerator, else `"quick"`: the
    profile `zoo run` and `zoo bench` take when none is given."""
    return "quick" if backend.accelerator()[0] == "cpu" else "full"
