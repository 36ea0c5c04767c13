"""Data parallelism with keras.distribution on two forced CPU devices (JAX)."""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import pytest

from zoo.runner import Run

EXPERIMENT = '''
from zoo.runner import Run
DESCRIPTION = "one tiny run"
def runs():
    knobs = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 32}
    return [Run("gru_tiny", "adding", knobs, epochs=2, batch_size=16)]
'''


def _record(tmp_path, name, *flags):
    experiment = tmp_path / "one.py"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / name
    environment = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
                       XLA_FLAGS="--xla_force_host_platform_device_count=2")
    done = subprocess.run(
        [sys.executable, "-m", "zoo", "run", str(experiment), "--out", str(out), *flags],
        capture_output=True, text=True, env=environment, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("*/metrics.json")
    return json.loads(path.read_text())


@pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                    reason="needs JAX (pip install -e '.[jax]'); CI runs it in its JAX step")
def test_data_parallel_uses_both_devices_and_matches_one_device(tmp_path):
    parallel = _record(tmp_path, "parallel", "--distribution", "data_parallel")
    single = _record(tmp_path, "single")
    assert parallel["run"]["distribution"] == "data_parallel"
    assert parallel["environment"]["devices_requested"] == 2
    assert parallel["environment"]["devices_used"] == 2  # weights replicated on both
    assert single["environment"]["devices_used"] == 1
    # Same global batches, gradients averaged over the devices: the same training.
    assert parallel["test"]["mse"] == pytest.approx(single["test"]["mse"], rel=1e-3)


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the error is for other backends")
def test_data_parallel_off_jax_is_a_clear_error():
    run = Run("gru_tiny", "adding", {"sequence_length": 6}, distribution="data_parallel")
    with pytest.raises(ValueError, match="needs the JAX backend"):
        run.devices()


def test_an_unknown_distribution_names_the_choices():
    with pytest.raises(ValueError, match="\\[None, 'data_parallel'\\]"):
        Run("gru_tiny", "adding", {"sequence_length": 6}, distribution="fsdp").resolve()
