"""One run, one trainer: a lock beside each run while it trains, taken over
when its trainer is gone, and two sweeps on one folder training each run once."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

from zoo import sweep
from zoo.runner import Run
from zoo.sweep import locks, schedule

KNOBS = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 16}

EXPERIMENT = '''
from zoo.runner import Run
DESCRIPTION = "tiny runs"
def runs():
    knobs = {knobs!r}
    return [Run("gru_tiny", "adding", knobs, epochs={epochs}, batch_size=16, seed=s)
            for s in range({count})]
'''


def _experiment(tmp_path, count, epochs=1):
    path = tmp_path / "tiny_runs.py"
    path.write_text(EXPERIMENT.format(knobs=KNOBS, count=count, epochs=epochs))
    return str(path)


def _run(seed, epochs=1):
    return Run("gru_tiny", "adding", KNOBS, epochs=epochs, batch_size=16, seed=seed)


def _reaped_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_lock(out, run_id, **holder):
    path = locks.lock_path(out, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": socket.gethostname(), **holder}))
    return path


def test_a_lock_has_one_holder_until_released(tmp_path):
    first, second = locks.LockKeeper(tmp_path), locks.LockKeeper(tmp_path)
    assert first.acquire("a") and not second.acquire("a")
    holder = second.holder("a")
    assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    assert holder["started"] and holder["token"]
    second.release("a")  # not its lock: left alone
    assert not second.acquire("a")
    first.release("a")
    assert not locks.lock_path(tmp_path, "a").exists() and second.acquire("a")
    second.release_all()


def test_stale_locks_are_taken_over_and_live_ones_are_not(tmp_path):
    keeper = locks.LockKeeper(tmp_path)
    _write_lock(tmp_path, "dead", pid=_reaped_pid())  # its process is gone
    assert keeper.acquire("dead")
    _write_lock(tmp_path, "reused", pid=os.getpid(), pid_started=-1)  # pid reused since
    assert keeper.acquire("reused") == (locks.process_start_time(os.getpid()) is not None)

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_lock(tmp_path, "alive", pid=sleeper.pid)
        assert not keeper.acquire("alive")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert keeper.acquire("alive")

    path = _write_lock(tmp_path, "far", pid=1, host="another-host")
    assert not keeper.acquire("far")  # another host: only its age tells
    old = time.time() - locks.STALE_AFTER_SECONDS - 5
    os.utime(path, (old, old))
    assert keeper.acquire("far")
    assert keeper.holder("far")["host"] == socket.gethostname()
    keeper.release_all()
    assert not list(tmp_path.glob("*/trainer.lock*"))


def test_a_run_held_elsewhere_is_skipped_then_waited_for(tmp_path, monkeypatch):
    monkeypatch.setattr(schedule, "POLL_SECONDS", 0.2)
    experiment, out = _experiment(tmp_path, count=3), tmp_path / "out"
    sleepers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
                for _ in range(2)]
    held = [_run(1).run_id, _run(2).run_id]
    for run_id, sleeper in zip(held, sleepers):
        _write_lock(out, run_id, pid=sleeper.pid, started="then")
    lines, result = [], {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "records", sweep.run_experiment(experiment, out, echo=lines.append)))
    try:
        thread.start()
        deadline = time.monotonic() + 300
        # run 0 trains first; runs 1 and 2 are tried (and found held) once it is
        # done, so their two lines come just after its record appears
        while not ((out / _run(0).run_id / "metrics.json").exists()
                   and sum("being trained by" in line for line in lines) >= 2):
            assert time.monotonic() < deadline and thread.is_alive(), lines
            time.sleep(0.1)
        assert sum("being trained by" in line for line in lines) == 2
        # the other sweep finishes run 1 (its record appears), and dies training run 2
        record = (out / _run(0).run_id / "metrics.json").read_text()
        (out / held[0] / "metrics.json").write_text(record.replace(_run(0).run_id, held[0]))
        locks.lock_path(out, held[0]).unlink()
        sleepers[1].kill()
        sleepers[1].wait()
        thread.join(timeout=300)
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()
    assert [r["run_id"] for r in result["records"]] == [_run(s).run_id for s in range(3)]
    assert any(f"{held[0]}: trained by another sweep" in line for line in lines)
    summary = lines[-1]
    assert "2 trained here" in summary and "1 by another sweep" in summary, summary
    assert not list(out.glob("*/trainer.lock*"))


def _zoo_run(experiment, out):
    command = [sys.executable, "-m", "zoo", "run", experiment, "--out", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def test_two_sweeps_on_one_folder_train_each_run_once(tmp_path):
    experiment, out = _experiment(tmp_path, count=4, epochs=2), tmp_path / "out"
    sweeps = [_zoo_run(experiment, out), _zoo_run(experiment, out)]
    outputs = [s.communicate(timeout=600)[0] for s in sweeps]
    assert [s.returncode for s in sweeps] == [0, 0], outputs
    started = [len(re.findall(r"^\[\d/4\] gru_tiny on adding", o, re.MULTILINE)) for o in outputs]
    assert sum(started) == 4, outputs  # every run trained by exactly one of them
    for output, count in zip(outputs, started):
        assert f"{count} trained here" in output and "0 failed" in output
    assert len(list(out.glob("*/metrics.json"))) == 4
    assert not list(out.glob("*/trainer.lock*"))
