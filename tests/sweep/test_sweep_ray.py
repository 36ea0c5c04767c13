"""`zoo run --ray`: each run a Ray task on a local Ray instance, its record
returned to the driver, the same records as a sweep in this process."""

import io
import math
import os
import sys

import pytest

from zoo import cli, sweep

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'zoo[ray]'")

EXPERIMENT = '''
from zoo.runner import Run
DESCRIPTION = "two tiny runs"
def runs():
    knobs = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 16}
    return [Run("gru_tiny", "adding", knobs, epochs=1, batch_size=16, seed=s) for s in (0, 1)]
'''


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "two_runs.py"
    path.write_text(EXPERIMENT)
    return str(path)


def _close(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)


def test_ray_tasks_train_the_runs_this_process_would(tmp_path, experiment, local_ray):
    lines = []
    remote = sweep.run_experiment(experiment, tmp_path / "ray", echo=lines.append, ray=True)
    here = sweep.run_experiment(experiment, tmp_path / "here", echo=lambda *_: None)

    assert [r["run_id"] for r in remote] == [r["run_id"] for r in here]
    for a, b in zip(remote, here):
        assert a["status"] == b["status"] == "finished"
        assert _close(a["test"], b["test"]), (a["test"], b["test"])
        assert a["run"] == b["run"] and a["params"] == b["params"]
        folder = tmp_path / "ray" / a["run_id"]
        assert {p.name for p in folder.iterdir()} == {"config.json", "history.csv",
                                                     "metrics.json"}
    assert sum("[ray] finished" in line for line in lines) == 2
    assert "2 trained here" in lines[-1]

    again = []
    assert sweep.run_experiment(experiment, tmp_path / "ray", echo=again.append,
                                ray=True) == remote
    assert sum("done before, skipped" in line for line in again) == 2


@pytest.mark.parametrize("address,message", [
    ("127.0.0.1:1", "No Ray cluster reachable at '127.0.0.1:1'"),
    ("not-an-address", "is not HOST:PORT"),
])
def test_an_unreachable_cluster_is_one_error_before_anything_trains(
        tmp_path, experiment, capsys, address, message):
    out = tmp_path / "out"
    assert cli.main(["run", experiment, "--out", str(out), "--ray", address]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and not out.exists()


@pytest.mark.parametrize("given,expected", [(None, "0"), ("1", "1")])
def test_ray_log_prefixes_are_plain_text_in_a_log_file(monkeypatch, given, expected):
    """Off a terminal, Ray's forwarded lines carry no colour codes, unless the
    user asked for them (RAY_COLOR_PREFIX)."""
    from zoo.sweep import ray_backend

    if given is None:
        monkeypatch.delenv("RAY_COLOR_PREFIX", raising=False)
    else:
        monkeypatch.setenv("RAY_COLOR_PREFIX", given)
    seen = {}
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **_: seen.update(color=os.environ.get(
        "RAY_COLOR_PREFIX")))
    assert ray_backend.connect() is True
    assert seen["color"] == expected
