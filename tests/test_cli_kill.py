"""`zoo run` killed with SIGKILL at any moment resumes and loses no finished run."""

import json
import os
import signal
import subprocess
import sys
import time

EXPERIMENT = '''
from zoo.runner import Run
DESCRIPTION = "three tiny runs"
def runs():
    knobs = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 16}
    return [Run("gru_tiny", "adding", knobs, epochs=2, batch_size=16, seed=s) for s in range(3)]
'''


def _zoo_run(experiment, out, **kwargs):
    command = [sys.executable, "-m", "zoo", "run", str(experiment), "--out", str(out)]
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=environment, start_new_session=True, **kwargs)


def _finished(out):
    return sorted(p.parent.name for p in out.glob("*/metrics.json"))


def test_a_killed_sweep_resumes_with_every_run_exactly_once(tmp_path):
    experiment = tmp_path / "three.py"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "out"

    first = _zoo_run(experiment, out)
    deadline = time.monotonic() + 300
    while not _finished(out) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # mid-sweep: one run done, the next one training
    first.wait()
    done_before = _finished(out)
    assert 1 <= len(done_before) <= 3

    second = _zoo_run(experiment, out)
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    finished = _finished(out)
    assert len(finished) == 3 and len(set(finished)) == 3
    assert output.count("done before, skipped") == len(done_before)
    records = [json.loads(p.read_text()) for p in out.glob("*/metrics.json")]
    assert sorted(r["run"]["seed"] for r in records) == [0, 1, 2]
    assert not list(out.glob("*/*.tmp"))  # no half-written record left behind

    third = _zoo_run(experiment, out)
    output, _ = third.communicate(timeout=600)
    assert third.returncode == 0 and output.count("done before, skipped") == 3
