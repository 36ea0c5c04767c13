"""`zoo bench`'s options: profiles, parsing, and the plan of jobs, checked
before any worker starts."""

import argparse
import dataclasses
import glob
import importlib.util
import os
import subprocess
import sys

from zoo.bench.records import child_environment
from zoo.bench.references import FAMILIES, PRECISIONS, REFERENCES_BY_FAMILY
from zoo.names import BACKENDS
from zoo.names import PROFILES as PROFILE_NAMES

JIT_MODES = ("auto", "on", "off", "both")  # `--jit`: Keras's choice, XLA on, off, or both
DEFAULT_LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)
FULL_LENGTHS = (1024, 2048, 3072, 4096, 8192, 16384)  # LRA's 1K-4K, up to Path-X's 16K
PROFILES = {
    "quick": {"size": "small", "batch_size": 64, "lengths": DEFAULT_LENGTHS, "jit": "both",
              "precision": "float32"},
    "full": {"size": "base", "batch_size": 32, "lengths": FULL_LENGTHS, "jit": "on",
             "precision": "mixed_bfloat16"},
}
assert tuple(PROFILES) == PROFILE_NAMES
# Device files of an accelerator (NVIDIA, AMD ROCm, TPU): none, no accelerator.
_ACCELERATOR_DEVICE_FILES = ("/dev/nvidia[0-9]*", "/dev/kfd", "/dev/accel[0-9]*",
                             "/dev/vfio/[0-9]*")
VOCABULARY_SIZE = 64
NUM_CLASSES = 10
REFERENCE_KINDS = ("keras", "keras_hub", "pytorch")


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
    parser.add_argument("--jit", choices=JIT_MODES, default=None,
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
                             "FLOP utilisation (default: the peak `zoo/report/speed.py` "
                             "lists for the device, if any; else no MFU)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite the report from the records in --out")
    return parser


def _lengths_text(profile):
    return ",".join(map(str, PROFILES[profile]["lengths"]))


def plan_jobs(args):
    """One job per (implementation, family, backend, jit), checked before any runs."""
    args = resolve_profile(args)
    _parse_choice("--jit", args.jit, JIT_MODES)
    _parse_choice("--precision", args.precision, PRECISIONS)
    families = _parse_choices("--families", args.families, FAMILIES)
    kinds = _parse_references(args.references)
    lengths = _parse_lengths(args.lengths)
    backends = _parse_backends(args.backends)
    for name in ("batch_size", "steps", "warmup_steps"):
        check_positive(name, getattr(args, name))
    for name in ("threads", "peak_tflops"):
        if getattr(args, name) is not None:
            check_positive(name, getattr(args, name))
    check_positive("max_step_seconds", args.max_step_seconds)
    import zoo.models  # imports Keras: only here, not in the workers' module scope
    from zoo.measure import environment

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
        for kind in ["zoo"] + [k for k in REFERENCES_BY_FAMILY[family] if k in kinds]:
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
    picks (`zoo.measure.environment.default_profile`). Without an accelerator's device file
    the answer is immediate; with one, a child process asks the Keras backend,
    so that no framework in this process holds device memory the workers need."""
    if not any(glob.glob(pattern) for pattern in _ACCELERATOR_DEVICE_FILES):
        return "quick"
    probe = subprocess.run(_profile_probe_command(), capture_output=True, text=True,
                           env=child_environment())
    answer = probe.stdout.strip().splitlines()[-1:] if probe.returncode == 0 else []
    return answer[0] if answer and answer[0] in PROFILES else "quick"


def _profile_probe_command():
    return [sys.executable, "-c", "from zoo.measure import environment; print(environment.default_profile())"]


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


def check_positive(name, value):
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        raise ValueError(
            f"Received an invalid value for `--{name.replace('_', '-')}`, expected a "
            f"positive number. Received: {name}={value!r}"
        )


def _installed(module):
    return importlib.util.find_spec(module) is not None


def _environment_for_torch(environment):
    """What the Keras-free PyTorch worker cannot ask `zoo.measure.environment` itself."""
    return {"device": environment.cpu_name(), "device_kind": "cpu", "cpu_count": os.cpu_count(),
            "versions": environment.versions(), "commit": environment.git_commit()}
