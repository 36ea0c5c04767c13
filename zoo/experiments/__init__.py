"""Experiments: plain Python files that list runs; no training code in them.

An experiment module defines `DESCRIPTION` (one line) and `runs()` or
`runs(profile)`, which returns a list of `zoo.runner.Run`. Built-in experiments live in this folder
(`zoo run quick`); `zoo run path/to/file.py` runs any file of that form.
"""

import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

from zoo.runner import Run, expand


def names():
    """Built-in experiment names, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


_FILES = {}  # (path, modification time) -> the module, so a file's own tasks register once


def load(name):
    """The experiment module `name`, or the one in file `name` if it ends in `.py`
    (loaded once per process while the file is unchanged)."""
    if str(name).endswith(".py"):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"No experiment file at {path.resolve()}")
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        module = _FILES.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(f"zoo_experiment_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except Exception as error:  # the file's own bug, reported as such
                raise ValueError(
                    f"Experiment file {path} failed to load: {type(error).__name__}: {error}"
                ) from error
            _FILES[key] = module
    elif name in names():
        module = importlib.import_module(f"{__name__}.{name}")
    else:
        raise KeyError(
            f"Unknown experiment {name!r}. Valid experiments: {names()} "
            "(or a path to a .py file that defines runs())"
        )
    if not callable(getattr(module, "runs", None)):
        raise ValueError(f"Experiment {name!r} defines no `runs()` function.")
    return module


def runs(name, profile="quick"):
    """The runs of experiment `name`, each checked before anything trains.

    A setting given as a `Search` becomes one run per value (`expand`).

    `runs(profile)` of a module that takes an argument is given the profile
    (`"quick"` sizes for a CPU, `"full"` for an accelerator).
    """
    module = load(name)
    takes_profile = bool(inspect.signature(module.runs).parameters)
    try:
        listed = module.runs(profile) if takes_profile else module.runs()
    except Exception as error:  # noqa: BLE001 -- whatever a user's file raises, named
        raise ValueError(
            f"Experiment {name!r}: runs() failed: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(listed, (list, tuple)):
        raise ValueError(
            f"Experiment {name!r}: runs() must return a list of zoo.runner.Run; "
            f"got {type(listed).__name__}"
        )
    if not listed:
        raise ValueError(f"Experiment {name!r}: runs() returned no runs; nothing to train.")
    bad = [r for r in listed if not isinstance(r, Run)]
    if bad:
        raise ValueError(
            f"Experiment {name!r}: runs() must return zoo.runner.Run objects; got {bad[:3]}"
        )
    try:
        listed = [one for run in listed for one in expand(run)]
    except ValueError as error:
        raise ValueError(f"Experiment {name!r}: {error}") from error
    ids = [r.run_id for r in listed]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"Experiment {name!r} lists the same run twice: {duplicates}")
    for run in listed:
        try:
            run.resolve()
        except (KeyError, ValueError) as error:
            raise ValueError(f"Experiment {name!r}, run {run.run_id}: {error}") from error
    return listed
