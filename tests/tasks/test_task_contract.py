"""What every task promises: a spec its arrays match, per-example slices,
the same data for the same seed, disjoint training and evaluation data, and
no TensorFlow in the task code."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from task_test_helpers import REAL_TASKS, TINY, assert_same_data, check_split, split_arrays, tiny

import zoo.tasks

SYNTHETIC = sorted(set(TINY) - set(REAL_TASKS))


def _tiny(name, data_dir):
    return tiny(name, data_dir=str(data_dir)) if name in REAL_TASKS else tiny(name)


@pytest.fixture
def task_data_dir(request):
    """The data folder for real tasks; nothing for synthetic ones."""
    if request.node.callspec.params["name"] in REAL_TASKS:
        return request.getfixturevalue("data_dir")
    return None


def test_every_registered_task_has_tiny_knobs():
    assert sorted(TINY) == zoo.tasks.names()


@pytest.mark.parametrize("name", sorted(TINY))
def test_arrays_match_the_spec_and_carry_slices(name, task_data_dir):
    task = _tiny(name, task_data_dir)
    data = task.build(seed=0)
    for split in zoo.tasks.SPLITS:
        check_split(task.spec, data.split(split), data.slices[split])
    for split, size in (("train", 64), ("validation", 32), ("test", 32)):
        assert data.split(split).num_examples == size
    assert not task.spec.solved(task.spec.baseline)


@pytest.mark.parametrize("name", sorted(TINY))
def test_same_seed_same_data_other_seed_other_training_data(name, task_data_dir):
    task = _tiny(name, task_data_dir)
    first, again, other = task.build(seed=5), task.build(seed=5), task.build(seed=6)
    assert_same_data(first, again)
    assert not np.array_equal(split_arrays(first.train)[0], split_arrays(other.train)[0])


@pytest.mark.parametrize("name", SYNTHETIC)
def test_evaluation_data_shares_no_example_with_training_data(name):
    # Splits are drawn from different SeedSequence branches; with input spaces
    # this large, a shared row would mean a shared stream.
    rows = {}
    for seed in (0, 1):
        data = tiny(name).build(seed=seed)
        for split in zoo.tasks.SPLITS:
            inputs = data.split(split).inputs
            if isinstance(inputs, dict):
                inputs = inputs["encoder_inputs"]
            rows[seed, split] = {row.tobytes() for row in inputs.reshape(len(inputs), -1)}
    for key in rows:
        for other in rows:
            if key != other and "train" in (key[1], other[1]):
                assert not rows[key] & rows[other], (key, other)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_stream_serves_fresh_training_batches(name):
    task = tiny(name)
    stream = task.stream(seed=0, batch_size=8, steps_per_epoch=2)
    first, again, second = stream[0], stream[0], stream[1]
    train = task.build(seed=0).train
    assert len(first) == len(train)  # weights when the splits have them
    for a, b, c, t in zip(first, again, second, train):
        a, b, c, t = (split_arrays([v])[0] for v in (a, b, c, t))
        np.testing.assert_array_equal(a, b)
        assert a.shape[1:] == t.shape[1:] and len(a) == 8
    assert not np.array_equal(split_arrays([first[0]])[0], split_arrays([second[0]])[0])


@pytest.mark.parametrize("name", sorted(set(TINY) - {"adding", "copying"}))
def test_unknown_knob_and_bad_value_list_the_valid_ones(name):
    with pytest.raises(ValueError, match="Valid knobs") as error:
        zoo.tasks.get(name, not_a_knob=1)
    assert "num_validation" in str(error.value)
    with pytest.raises(ValueError, match="num_validation=0"):
        zoo.tasks.get(name, num_validation=0)


@pytest.mark.parametrize("name,knobs,match", [
    ("selective_copying", dict(sequence_length=8, num_data_tokens=9), "sequence_length"),
    ("selective_copying", dict(vocabulary_size=2), "vocabulary_size"),
    ("associative_recall", dict(sequence_length=63), "even"),
    ("associative_recall", dict(sequence_length=16, num_kv_pairs=8), "sequence_length"),
    ("associative_recall", dict(power_a=0.0), "power_a"),
    ("induction_heads", dict(test_lengths=[2]), "test_lengths"),
    ("induction_heads", dict(test_lengths="64"), "test_lengths"),
    ("induction_heads", dict(sequence_length=2), "sequence_length"),
    ("listops", dict(min_length=50, max_length=40), "max_length"),
    ("listops", dict(bracket_fix="yes"), "bracket_fix"),
    ("reverse", dict(min_length=9, sequence_length=8), "sequence_length"),
    ("sort", dict(num_symbols=1), "num_symbols"),
    ("addition", dict(digits=1), "digits"),
    ("addition", dict(digits=10), "digits"),
    ("imdb", dict(vocabulary_size=3), "vocabulary_size"),
    ("imdb_bytes", dict(sequence_length=0), "sequence_length"),
    ("pmnist", dict(permutation_seed=-1), "permutation_seed"),
    ("smnist", dict(num_train=0), "num_train"),
    ("scifar", dict(data_dir=3), "data_dir"),
])
def test_bad_knob_values_are_refused_with_the_rule(name, knobs, match):
    with pytest.raises(ValueError, match=match) as error:
        zoo.tasks.get(name, **knobs)
    assert "Received" in str(error.value)


def test_a_tuple_knob_read_back_from_json_is_a_tuple_again():
    # a worker gets its run's knobs through JSON, which writes tuples as lists
    task = zoo.tasks.get("induction_heads", test_lengths=[64, 128])
    assert task.test_lengths == (64, 128)


def test_unknown_task_lists_the_new_tasks():
    with pytest.raises(KeyError, match="Did you mean") as error:
        zoo.tasks.get("listop")
    for name in ("listops", "selective_copying", "imdb_bytes", "addition"):
        assert name in str(error.value)


def test_task_code_imports_no_framework():
    for path in Path(zoo.tasks.__file__).parent.glob("*.py"):
        source = path.read_text()
        for framework in ("tensorflow", "jax", "torch"):
            assert f"import {framework}" not in source, (path.name, framework)
            assert f"from {framework}" not in source, (path.name, framework)


def test_building_tasks_loads_no_framework(shared_datasets):
    # Tasks only need NumPy; Keras (and with it TensorFlow) is imported only
    # to download a missing file or to stream batches.
    script = (
        "import sys, zoo.tasks\n"
        f"knobs = {dict((n, TINY[n]) for n in SYNTHETIC + ['smnist', 'imdb_bytes'])!r}\n"
        "for name, values in knobs.items():\n"
        "    extra = {'data_dir': %r} if name in ('smnist', 'imdb_bytes') else {}\n"
        "    zoo.tasks.get(name, **values, **extra).build(0)\n"
        "loaded = [m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    ) % str(shared_datasets)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
