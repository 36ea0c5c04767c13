"""Which runs a sweep trains: an experiment's runs after `--only`, `--seeds`,
`--profile` and `--distribution`, and the Keras backend of each."""

import fnmatch

import keras

from zoo import experiments
from zoo.measure import backend as measured_backend
from zoo.measure.environment import default_profile  # noqa: F401 (the sweep's name for it)
from zoo.names import BACKENDS, PROFILES  # noqa: F401 (one definition, zoo.names)


def apply_profile(run, profile):
    """The run with the settings of `profile`.

    quick: the run as the experiment lists it.
    full: compiled steps (XLA / jit) and, on an accelerator, mixed bfloat16.
    """
    if profile not in PROFILES:
        raise ValueError(f"Unknown profile {profile!r}; valid: {list(PROFILES)}")
    if profile == "quick":
        return run
    on_accelerator = measured_backend.accelerator()[0] != "cpu"
    return run.replace(
        jit_compile=True,
        precision="mixed_bfloat16" if on_accelerator else run.precision,
    )


def with_seeds(runs, seeds):
    """Each distinct configuration of `runs` once per seed `0 .. seeds-1`."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"--seeds must be a positive integer; got {seeds!r}")
    configurations, seen = [], set()
    for run in runs:
        key = run.replace(seed=0).run_id
        if key not in seen:
            seen.add(key)
            configurations.append(run)
    return [run.replace(seed=seed) for run in configurations for seed in range(seeds)]


def select(name, only=None, seeds=None, profile=None, distribution=None):
    """The runs of experiment `name` after `--only`, `--seeds`, `--profile`
    and `--distribution`."""
    profile = profile or default_profile()
    selected = experiments.runs(name, profile=profile)
    if seeds is not None:
        selected = with_seeds(selected, seeds)
    selected = [apply_profile(run, profile) for run in selected]
    if distribution is not None:
        selected = [run.replace(distribution=distribution) for run in selected]
        for run in selected[:1]:
            run.resolve()  # an unknown distribution fails here, named
    if only:
        matched = [r for r in selected if fnmatch.fnmatchcase(r.run_id, only)]
        if not matched:
            raise ValueError(
                f"--only {only!r} matches no run of experiment {name!r}; "
                f"run ids look like {selected[0].run_id!r}"
            )
        selected = matched
    return selected


def backend_plan(runs, backend=None, fastest=None):
    """The Keras backend of each run: the current one, a named one, or, with
    `"auto"`, the fastest for the model's family (`fastest`: family -> backend,
    from `zoo bench`)."""
    current = keras.backend.backend()
    if backend in (None, current):
        return [current] * len(runs)
    if backend == "auto":
        fastest = fastest or {}
        return [fastest.get(run.model.rsplit("_", 1)[0]) or current for run in runs]
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; valid: {list(BACKENDS) + ['auto']}")
    return [backend] * len(runs)
