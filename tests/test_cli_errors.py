"""Every user mistake is refused before anything trains: one line naming the
bad value (exit code 2), no traceback, nothing trained, nothing lost.

Each case is a command line (with files it needs made in `tmp_path`); the
finished record planted in `--out` before it must come through untouched.
"""

import json
import os
import subprocess
import sys

import pytest

from zoo import cli, sweep

TINY = {"sequence_length": 6, "num_train": 32, "num_validation": 16, "num_test": 16}
RUN = "Run('gru_tiny', 'adding', {tiny}, epochs=1{extra})"


def _experiment(tmp_path, body=None, extra="", model=None, task=None, knobs=None):
    """An experiment file; by default one tiny run with `extra` Run arguments."""
    if body is None:
        run = RUN.format(tiny=knobs if knobs is not None else TINY, extra=extra)
        if model:
            run = run.replace("'gru_tiny'", repr(model))
        if task:
            run = run.replace("'adding'", repr(task))
        body = f"def runs():\n    return [{run}]\n"
    path = tmp_path / "exp.py"
    path.write_text("from zoo.runner import Run, Search\n" + body)
    return str(path)


def _record(tmp_path, name, content):
    folder = tmp_path / "records" / name
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(content)
    return str(tmp_path / "records")


GOOD_RECORD = json.dumps({"run_id": "x", "run": {"model": "gru_tiny", "task": "adding", "seed": 0},
                          "metric": "mse", "test": {"mse": 0.1}, "status": "finished"})

# id -> (argv builder, what the one line must name)
CASES = {
    "unknown experiment": (lambda t: ["run", "no_such_experiment"], "Valid experiments"),
    "missing experiment file": (lambda t: ["run", str(t / "nope.py")], "No experiment file"),
    "syntax error in file": (lambda t: ["run", _experiment(t, "def runs(:\n")], "failed to load"),
    "runs() raises": (lambda t: ["run", _experiment(t, "def runs():\n    raise RuntimeError('x')\n")],
                      "RuntimeError"),
    "runs() returns []": (lambda t: ["run", _experiment(t, "def runs():\n    return []\n")],
                          "no runs"),
    "runs() returns a dict": (lambda t: ["run", _experiment(t, "def runs():\n    return {}\n")],
                              "must return a list"),
    "runs() returns strings": (lambda t: ["run", _experiment(t, "def runs():\n    return ['a']\n")],
                               "zoo.runner.Run objects"),
    "no runs() at all": (lambda t: ["run", _experiment(t, "X = 1\n")], "no `runs()`"),
    "unknown model": (lambda t: ["run", _experiment(t, model="gru_huge")], "gru_huge"),
    "unknown task": (lambda t: ["run", _experiment(t, task="addding")], "addding"),
    "unknown knob": (lambda t: ["run", _experiment(t, knobs={"sequence_lenght": 5})],
                     "sequence_lenght"),
    "negative length": (lambda t: ["run", _experiment(t, knobs={"sequence_length": -5})],
                        "sequence_length=-5"),
    "unknown override": (lambda t: ["run", _experiment(t, extra=", model_overrides={'units': 8}")],
                         "units"),
    "bad optimizer": (lambda t: ["run", _experiment(t, extra=", optimizer='adagrad'")], "adagrad"),
    "bad schedule": (lambda t: ["run", _experiment(t, extra=", schedule='linear'")], "linear"),
    "bad precision": (lambda t: ["run", _experiment(t, extra=", precision='float8'")], "float8"),
    "zero batch": (lambda t: ["run", _experiment(t, extra=", batch_size=0")], "batch_size=0"),
    "negative rate": (lambda t: ["run", _experiment(t, extra=", learning_rate=-1.0")],
                      "learning_rate=-1.0"),
    "zero steps": (lambda t: ["run", _experiment(t, extra=", steps=0")], "steps=0"),
    "bad patience": (lambda t: ["run", _experiment(t, extra=", patience=-1")], "patience=-1"),
    "search on the seed": (lambda t: ["run", _experiment(t, extra=", seed=Search(0, 1)")],
                           "seed"),
    "unknown probe": (lambda t: ["run", _experiment(t, extra=", probes=('xray',)")], "xray"),
    "data that cannot fit in memory": (
        lambda t: ["run", _experiment(t, knobs={"sequence_length": 10**9})], "GiB"),
    "a dataset file missing": (
        lambda t: ["run", _experiment(t, task="smnist", knobs={"data_dir": str(t)},
                                      model="lstm_tiny")], "mnist.npz"),
    "the same run twice": (
        lambda t: ["run", _experiment(t, "def runs():\n    r = " + RUN.format(tiny=TINY, extra="")
                                      + "\n    return [r, r]\n")], "twice"),
    "--seeds 0": (lambda t: ["run", _experiment(t), "--seeds", "0"], "--seeds"),
    "--seeds abc": (lambda t: ["run", _experiment(t), "--seeds", "abc"], "'abc'"),
    "--profile huge": (lambda t: ["run", _experiment(t), "--profile", "huge"], "'huge'"),
    "--backend mxnet": (lambda t: ["run", _experiment(t), "--backend", "mxnet"], "'mxnet'"),
    "--only matching nothing": (lambda t: ["run", _experiment(t), "--only", "lstm_*"], "lstm_*"),
    "--out is a file": (lambda t: ["run", _experiment(t), "--out", str(t / "exp.py")],
                        "is a file"),
    "--workers 0": (lambda t: ["run", _experiment(t), "--workers", "0"], "--workers"),
    "--workers abc": (lambda t: ["run", _experiment(t), "--workers", "abc"], "abc"),
    "--backend auto without bench records": (
        lambda t: ["run", _experiment(t), "--backend", "auto", "--bench-records", str(t / "no")],
        "zoo bench"),
    "report: --runs missing": (lambda t: ["report", "x", "--runs", str(t / "nowhere")],
                               "does not exist"),
    "report: --runs is a file": (lambda t: ["report", "x", "--runs", _experiment(t)], "is a file"),
    "report: no records": (lambda t: ["report", "x", "--runs", str(t)], "No run records"),
    "report: corrupt record": (lambda t: ["report", "x", "--runs", _record(t, "a", "{oops")],
                               "metrics.json is not valid JSON"),
    "report: record not an object": (lambda t: ["report", "x", "--runs", _record(t, "a", "[1]")],
                                     "not a record"),
    "report: record not a run": (lambda t: ["report", "x", "--runs", _record(t, "a", "{}")],
                                 "not a run record"),
    "report: --results is a file": (
        lambda t: ["report", "x", "--runs", _record(t, "a", GOOD_RECORD), "--results",
                   _experiment(t)], "is a file"),
    "bench: unknown family": (lambda t: ["bench", "--families", "hyena", "--out", str(t)],
                              "hyena"),
    "bench: bad lengths": (lambda t: ["bench", "--lengths", "abc", "--out", str(t)], "abc"),
    "bench: unknown backend": (lambda t: ["bench", "--backends", "theano", "--out", str(t)],
                               "theano"),
    "bench: zero batch": (lambda t: ["bench", "--batch-size", "0", "--out", str(t)],
                          "batch-size"),
    "bench: negative peak": (lambda t: ["bench", "--peak-tflops", "-1", "--out", str(t)],
                             "peak"),
    "list: unknown section": (lambda t: ["list", "gadgets"], "'gadgets'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mistake_is_one_line_and_trains_nothing(case, tmp_path, monkeypatch, capsys):
    argv, named = CASES[case]
    monkeypatch.setattr(sweep, "train_and_evaluate", lambda *a, **k: pytest.fail("trained"))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    out = tmp_path / "out"
    planted = out / "done--run" / "metrics.json"
    planted.parent.mkdir(parents=True)
    planted.write_text(GOOD_RECORD)
    args = argv(tmp_path)
    if args[0] == "run" and "--out" not in args:
        args += ["--out", str(out)]
    with pytest.raises(SystemExit) if _argparse_case(case) else _nothing():
        code = cli.main(args)
        assert code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert named in lines[0] and "Traceback" not in err
    assert planted.read_text() == GOOD_RECORD  # nothing lost


def _argparse_case(case):
    return case.startswith(("--seeds abc", "--profile", "--backend mxnet", "list:"))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_argparse_mistakes_exit_with_code_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "quick", "--seeds", "abc"])
    assert exit_.value.code == 2


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(KeyError):
        cli.main(["--debug", "run", "no_such_experiment", "--out", str(tmp_path)])


def test_commands_print_only_the_zoos_lines(tmp_path):
    """No framework start-up line on a machine without a GPU (a subprocess:
    TensorFlow writes them from C++)."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-m", "zoo", "run", "no_such_experiment"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()] and "Valid experiments" in done.stderr


def test_zoo_list_answers_without_loading_a_backend():
    """Models, tasks and experiments are listed from their registries; Keras
    (and TensorFlow) load only when a model is built or a run trains."""
    code = ("import sys\n"
            "from zoo import cli\n"
            "assert cli.main(['list']) == 0\n"
            "import zoo.models, zoo.runner\n"
            "zoo.models.config('transformer_small')\n"
            "zoo.runner.Run('lstm_tiny', 'adding', {'sequence_length': 8})\n"
            "loaded = sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules)\n"
            "print('loaded:', loaded)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "lstm_tiny" in done.stdout and "long_range" in done.stdout
    assert done.stdout.splitlines()[-1] == "loaded: []" and done.stderr == ""


USER_TASK = '''
import dataclasses
import numpy as np
from zoo.runner import Run
from zoo.tasks import register
from zoo.tasks.synthetic import Adding

@register("my_adding")
@dataclasses.dataclass(frozen=True)
class MyAdding(Adding):
    name = "my_adding"

def runs():
    knobs = {"sequence_length": 6, "num_train": 32, "num_validation": 16, "num_test": 16}
    return [Run("gru_tiny", "my_adding", knobs, epochs=1, batch_size=16)]
'''


def test_a_users_own_task_trains_in_a_worker_process(tmp_path, capsys):
    path = tmp_path / "my_experiment.py"
    path.write_text(USER_TASK)
    assert cli.main(["run", str(path), "--isolate", "--out", str(tmp_path / "out")]) == 0
    (record,) = (tmp_path / "out").glob("*/metrics.json")
    assert json.loads(record.read_text())["run"]["task"] == "my_adding"


def test_ctrl_c_is_one_line_naming_the_run_and_keeps_finished_ones(tmp_path):
    import signal
    import time

    path = tmp_path / "slow.py"
    path.write_text(
        "from zoo.runner import Run\n"
        "def runs():\n"
        "    knobs = {'sequence_length': 6, 'num_train': 64, 'num_validation': 16, 'num_test': 16}\n"
        "    return [Run('gru_tiny', 'adding', knobs, epochs=1, batch_size=16),\n"
        "            Run('gru_tiny', 'adding', knobs, epochs=1, batch_size=16, max_seconds=600,\n"
        "                steps=10**6, patience=None, seed=1)]\n")  # trains until interrupted
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "zoo", "run", str(path), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while len(list(out.glob("*/metrics.json"))) < 1 and time.time() < deadline:
        time.sleep(0.5)  # the first run finished; the second (a long one) is training
    time.sleep(5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted while training gru_tiny--adding--s1--" in lines[0], err
    assert len(list(out.glob("*/metrics.json"))) == 1  # the finished run is kept


MODEL_CASES = {
    "a ViT on a token task": ({"model": "vit_tiny", "task": "copying"}, "input_kind='tokens'"),
    "a bidirectional model on a causal task": (
        {"model": "transformer_tiny", "task": "repeat_lm",
         "knobs": {"prefix_length": 4, "vocabulary_size": 6}}, "causal"),
    "a bidirectional LSTM on a causal task": (
        {"model": "lstm_tiny", "task": "repeat_lm", "knobs": {"prefix_length": 4},
         "extra": ", model_overrides={'bidirectional': True}"}, "causal"),
    "an override of the wrong type (str for int)": (
        {"model": "transformer_tiny", "extra": ", model_overrides={'num_heads': 'two'}"},
        "num_heads='two'"),
    "an override of the wrong type, named as ours": (
        {"extra": ", model_overrides={'hidden_dim': '8'}"}, "hidden_dim='8'"),
    "a bool where a number goes": ({"extra": ", model_overrides={'dropout': True}"},
                                    "dropout=True"),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_a_model_that_cannot_train_is_refused_before_the_first_run(case, tmp_path, monkeypatch,
                                                                    capsys):
    options, named = MODEL_CASES[case]
    monkeypatch.setattr(sweep, "train_and_evaluate", lambda *a, **k: pytest.fail("trained"))
    assert cli.main(["run", _experiment(tmp_path, **options), "--out", str(tmp_path / "o")]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], lines
