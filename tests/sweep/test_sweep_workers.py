"""`zoo run --workers N`: runs at once in worker processes, each run exactly once,
a killed worker losing only its own run, and bad values refused before training."""

import os
import re
import signal
import sys
import threading
import time
import types

import pytest

from zoo import cli, sweep
from zoo.runner import Run
from zoo.sweep import workers

KNOBS = {"sequence_length": 6, "num_train": 64, "num_validation": 16, "num_test": 16}

EXPERIMENT = '''
from zoo.runner import Run
DESCRIPTION = "tiny runs, the first one slow"
def runs():
    knobs = {knobs!r}
    first = Run("gru_tiny", "adding", knobs, epochs={first_epochs}, batch_size=16,
                learning_rate=1e-7, seed=0)  # never solved: trains every epoch
    return [first] + [Run("gru_tiny", "adding", knobs, epochs=1, batch_size=16, seed=s)
                      for s in range(1, {count})]
'''


def _experiment(tmp_path, count=3, first_epochs=1):
    path = tmp_path / "tiny_runs.py"
    path.write_text(EXPERIMENT.format(knobs=KNOBS, count=count, first_epochs=first_epochs))
    return str(path)


class Lines(list):
    """An `echo` that keeps the lines and can wait for one."""

    def __call__(self, text):
        self.append(text)

    def wait_for(self, pattern, seconds=300):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self):
                match = re.search(pattern, line)
                if match:
                    return match
            time.sleep(0.05)
        raise AssertionError(f"no line matched {pattern!r}:\n" + "\n".join(self))


def _finished(out):
    return sorted(p.parent.name for p in out.glob("*/metrics.json"))


def test_two_workers_train_every_run_exactly_once(tmp_path):
    experiment, out, lines = _experiment(tmp_path, count=4), tmp_path / "out", Lines()
    records = sweep.run_experiment(experiment, out, echo=lines, workers=2)

    run_ids = [r["run_id"] for r in records]
    assert len(set(run_ids)) == 4 and _finished(out) == sorted(run_ids)
    assert all(r["status"] == "finished" for r in records)
    for run_id in run_ids:
        assert sum(f"finished {run_id}" in line for line in lines) == 1, lines
    assert any(line.startswith("[w1] ") for line in lines)
    assert any(line.startswith("[w2] ") for line in lines)
    assert any("running: w" in line for line in lines)  # every worker's run at once
    assert any("left, about" in line for line in lines)  # one ETA
    assert "4 trained here" in lines[-1] and "2 at a time" in lines[-1]
    assert not list(out.glob("*/trainer.lock*"))  # every lock let go

    again = Lines()
    assert sweep.run_experiment(experiment, out, echo=again, workers=2) == records
    assert sum("done before, skipped" in line for line in again) == 4


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_worker_loses_only_its_run_and_it_alone_trains_on_resume(tmp_path):
    experiment = _experiment(tmp_path, count=3, first_epochs=20)
    out, lines, outcome = tmp_path / "out", Lines(), {}

    def first_sweep():
        try:
            sweep.run_experiment(experiment, out, echo=lines, workers=2)
        except RuntimeError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=first_sweep)
    thread.start()
    pid = int(lines.wait_for(r"\[w1\] worker pid (\d+)").group(1))
    lines.wait_for(r"\[w1\] Epoch 2/20")  # the slow run 1 is training on w1
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=300)

    slow = Run("gru_tiny", "adding", KNOBS, epochs=20, batch_size=16, learning_rate=1e-7)
    others = [Run("gru_tiny", "adding", KNOBS, epochs=1, batch_size=16, seed=s).run_id
              for s in (1, 2)]
    assert "1 of 3 runs failed" in outcome["error"] and slow.run_id in outcome["error"]
    assert f"pid {pid}" in outcome["error"]
    assert _finished(out) == sorted(others)  # the other worker trained the rest
    assert not (out / slow.run_id / "trainer.lock").exists()

    trained = []
    resumed = sweep.run_experiment(experiment, out, echo=trained.append)
    assert _finished(out) == sorted(others + [slow.run_id])
    assert sum("done before, skipped" in line for line in trained) == 2
    assert resumed[0]["run_id"] == slow.run_id


@pytest.mark.parametrize("value", ["0", "abc", "-2", "1.5"])
def test_bad_worker_counts_are_one_error_before_anything_trains(tmp_path, capsys, value):
    out = tmp_path / "out"
    assert cli.main(["run", _experiment(tmp_path), "--out", str(out), "--workers", value]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--workers must be a positive integer or 'auto'" in error
    assert repr(value) in error and not out.exists()


def test_workers_and_ray_together_are_refused(tmp_path, capsys):
    arguments = ["run", _experiment(tmp_path), "--out", str(tmp_path / "out")]
    assert cli.main(arguments + ["--workers", "2", "--ray"]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_auto_and_the_share_of_the_cores():
    assert workers.parse_workers("auto") == "auto" and workers.parse_workers("3") == 3
    assert workers.auto_workers(10, cores=[0, 1]) == 2
    assert workers.auto_workers(1, cores=[0, 1, 2, 3]) == 1  # never more than the runs
    assert workers.auto_workers(10, on_accelerator=True, cores=[0, 1]) == 1
    assert workers.core_shares(2, [0, 1, 2, 3]) == [(2, [0, 1]), (2, [2, 3])]
    assert workers.core_shares(3, [0, 1]) == [(1, [0]), (1, [1]), (1, [0])]
    assert workers.core_shares(1, [0, 1]) == [(2, None)]  # alone: not pinned


def test_ray_without_the_extra_names_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    out = tmp_path / "out"
    assert cli.main(["run", _experiment(tmp_path), "--out", str(out), "--ray"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "pip install 'zoo[ray]'" in error and not out.exists()


def test_a_free_worker_takes_a_run_on_the_data_it_holds(tmp_path):
    executor = workers.LocalWorkers(2, tmp_path, echo=print, cores=[0, 1])
    runs = [Run("gru_tiny", "adding", KNOBS, seed=s) for s in (0, 1)]
    lstm_on_seed_1 = Run("lstm_tiny", "adding", KNOBS, seed=1)
    held = types.SimpleNamespace(current=None, backend="tensorflow",
                                 recent=[workers.data_key(runs[1])])
    candidates = [(0, runs[0], "tensorflow"), (1, lstm_on_seed_1, "tensorflow")]
    assert executor.choose(candidates) == 0  # no worker yet: the first
    executor.slots[0] = held
    assert executor.choose(candidates) == 1 and executor.next_worker() == "w1"
    assert executor.choose([(0, runs[0], "jax"), (1, lstm_on_seed_1, "jax")]) == 0


def test_a_worker_that_dies_as_its_backend_starts_is_reported_with_the_backend_line(
        tmp_path, monkeypatch):
    # a C++ abort while the framework loads prints only to the silenced stderr
    # (as XLA does for a malformed XLA_FLAGS): the sweep names that line
    monkeypatch.setattr(workers, "CHILD_BOOT", (
        "import os\n"
        "log = os.open(os.environ['ZOO_STARTUP_LOG'], os.O_WRONLY)\n"
        "os.write(log, b'I0000 loading\\nF0000 parse_flags_from_env.cc:171] bad XLA_FLAGS\\n')\n"
        "os._exit(134)\n"))
    with pytest.raises(RuntimeError) as failure:
        sweep.run_experiment(_experiment(tmp_path, count=1), tmp_path / "out", echo=Lines(),
                             workers=1)
    message = str(failure.value)
    assert "exited with status 134 as its backend started" in message
    assert "F0000 parse_flags_from_env.cc:171] bad XLA_FLAGS" in message


@pytest.mark.parametrize("threads", [1, 2])
def test_every_xla_flag_a_worker_gets_is_one_xla_parses(threads):
    # XLA aborts at start on a flag without "--" (it takes it for a file name)
    environment = workers.backend_threads.thread_environment("jax", threads, environment={})
    flags = environment.get("XLA_FLAGS", "").split()
    assert all(flag.startswith("--") for flag in flags)
    assert environment["OMP_NUM_THREADS"] == str(threads)
