"""Helpers shared by the task tests: tiny knobs for every task, the shared
dataset folder, a small CIFAR-10 in the real format, and generic checks."""

import io
import pickle
import struct
from pathlib import Path

import numpy as np

import zoo.tasks

# `shared/` lies beside the repository (CI clones the repository with it).
SHARED_DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
SHARED_FILES = ("mnist.npz", "imdb.npz", "imdb_word_index.json")

# Small knobs for every registered task: seconds to build, large enough input
# spaces that train and test rows do not coincide by chance.
TINY = {
    "adding": dict(sequence_length=12, num_train=64, num_validation=32, num_test=32),
    "copying": dict(sequence_length=6, copy_length=10, num_train=64, num_validation=32,
                    num_test=32),
    "selective_copying": dict(sequence_length=24, num_data_tokens=4, vocabulary_size=8,
                              num_train=64, num_validation=32, num_test=32),
    "associative_recall": dict(sequence_length=32, vocabulary_size=64, num_kv_pairs=4,
                               num_train=64, num_validation=32, num_test=32),
    "induction_heads": dict(sequence_length=16, test_lengths=(8, 16, 32), vocabulary_size=8,
                            num_train=64, num_validation=32, num_test=32),
    "listops": dict(min_length=10, max_length=40, max_depth=4, max_args=4, num_train=64,
                    num_validation=32, num_test=32),
    "reverse": dict(sequence_length=8, min_length=6, num_symbols=10, num_train=64,
                    num_validation=32, num_test=32),
    "sort": dict(sequence_length=8, min_length=6, num_symbols=10, num_train=64,
                 num_validation=32, num_test=32),
    "addition": dict(digits=3, num_train=64, num_validation=32, num_test=32),
    "scan": dict(num_train=64, num_validation=32, num_test=32),
    "repeat_lm": dict(prefix_length=6, vocabulary_size=8, num_train=64, num_validation=32,
                      num_test=32),
    "smnist": dict(num_train=64, num_validation=32, num_test=32),
    "pmnist": dict(num_train=64, num_validation=32, num_test=32),
    "mnist_image": dict(num_train=64, num_validation=32, num_test=32),
    "imdb": dict(num_train=64, num_validation=32, num_test=32, sequence_length=40),
    "imdb_bytes": dict(num_train=64, num_validation=32, num_test=32, sequence_length=200),
    "scifar": dict(num_train=64, num_validation=32, num_test=32),
    "cifar10_image": dict(num_train=64, num_validation=32, num_test=32),
}
MNIST_TASKS = ("smnist", "pmnist", "mnist_image")
IMDB_TASKS = ("imdb", "imdb_bytes")
CIFAR_TASKS = ("scifar", "cifar10_image")
REAL_TASKS = MNIST_TASKS + IMDB_TASKS + CIFAR_TASKS


class _Python2Pickler(pickle._Pickler):
    """Protocol 2 as Python 2 wrote it: every string a byte string (`str`
    opcodes; Python 3 would write unicode and `_codecs.encode` calls)."""

    def save_bytes(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    def save_str(self, obj):
        self.save_bytes(obj.encode("latin-1"))

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def python2_pickle(obj):
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    # NumPy 1 (which wrote the real files) named the module `numpy.core`.
    return buffer.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")


def make_cifar10_folder(folder, images_per_batch=40, seed=0):
    """A small CIFAR-10 in the real format: `cifar-10-batches-py-target/
    cifar-10-batches-py/{data_batch_1..5,test_batch}` (Keras's extracted
    cache), each a Python 2 protocol-2 pickle of `{b"data": uint8 (N, 3072),
    b"labels": [int], ...}`. Returns `{batch name: (data, labels)}`."""
    rng = np.random.default_rng(seed)
    inner = Path(folder) / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    batches = {}
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                 "data_batch_5", "test_batch"):
        data = rng.integers(0, 256, size=(images_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=images_per_batch)]
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(images_per_batch)]}
        (inner / name).write_bytes(python2_pickle(batch))
        batches[name] = (data, labels)
    return batches


def tiny(name, **overrides):
    return zoo.tasks.get(name, **{**TINY[name], **overrides})




def split_arrays(split):
    """Every array of a split, dict inputs in key order."""
    out = []
    for part in split:
        if isinstance(part, dict):
            out += [part[key] for key in sorted(part)]
        elif part is not None:
            out.append(part)
    return out


def assert_same_data(first, second):
    for name in zoo.tasks.SPLITS:
        a, b = split_arrays(first.split(name)), split_arrays(second.split(name))
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        assert first.slices[name].keys() == second.slices[name].keys()
        for key in first.slices[name]:
            np.testing.assert_array_equal(first.slices[name][key], second.slices[name][key])


def check_split(spec, split, slices):
    """Shapes, dtypes and ranges of one split against the task's spec, and
    one slice value per example."""
    n = split.num_examples
    inputs, targets, weights = split.inputs, split.targets, split.sample_weights
    if spec.output_kind == "sequence":
        assert set(inputs) == {"encoder_inputs", "decoder_inputs"}
        source, shifted = inputs["encoder_inputs"], inputs["decoder_inputs"]
        assert source.dtype == shifted.dtype == targets.dtype == np.int32
        assert source.shape[0] == n and source.shape[1] <= spec.sequence_length
        assert 0 <= source.min() and source.max() < spec.vocabulary_size
        assert shifted.shape == targets.shape == (n, spec.target_length)
        np.testing.assert_array_equal(shifted[:, 0], zoo.tasks.START_TOKEN)
        np.testing.assert_array_equal(shifted[:, 1:], targets[:, :-1])
    elif spec.input_kind == "tokens":
        assert inputs.dtype == np.int32 and inputs.ndim == 2 and inputs.shape[0] == n
        assert inputs.shape[1] <= spec.sequence_length
        assert 0 <= inputs.min() and inputs.max() < spec.vocabulary_size
    elif spec.input_kind == "features":
        assert inputs.dtype == np.float32 and inputs.shape[0] == n
        assert inputs.shape[1] <= spec.sequence_length and inputs.shape[2] == spec.feature_dim
        assert np.all(np.isfinite(inputs))
    else:
        assert inputs.dtype == np.float32 and inputs.shape == (n,) + tuple(spec.image_shape)
        assert 0.0 <= inputs.min() and inputs.max() <= 1.0
    if spec.output_kind == "regression":
        assert targets.shape == (n,) and targets.dtype == np.float32
    else:
        assert targets.dtype == np.int32
        assert 0 <= targets.min() and targets.max() < spec.num_classes
    if spec.output_kind == "class":
        assert targets.shape == (n,)
    if spec.output_kind == "class_per_position":
        assert targets.shape == inputs.shape
    if weights is not None:
        assert weights.dtype == np.float32 and weights.shape == targets.shape
        assert set(np.unique(weights)) <= {0.0, 1.0}
        assert np.all(weights.sum(axis=1) > 0), "every example has a scored step"
    assert slices, "every task gives per-example slices"
    for values in slices.values():
        assert np.asarray(values).shape == (n,)


def best_constant_accuracy(targets, weights=None):
    """Accuracy of always answering the most common scored label."""
    labels = targets if weights is None else targets[weights > 0]
    return np.bincount(labels.ravel()).max() / labels.size


def one_hot_logits(ids, num_classes, scale=20.0):
    return np.eye(num_classes, dtype=np.float32)[ids] * scale
