"""Dataset files: found, verified and, where allowed, downloaded, exactly as
`keras.datasets` caches them (same names, same hashes), then read into NumPy.

A file is looked for in the task's `data_dir` knob, else `$ZOO_DATA_DIR`,
else Keras's own cache (`$KERAS_HOME/datasets`, default `~/.keras/datasets`).
A file that is there is used without network; a missing one is downloaded
there with `keras.utils.get_file`, so `keras.datasets.*.load_data()` finds it
too. When a file can be neither found nor downloaded (or `$ZOO_OFFLINE` is
set), `fetch` raises `DatasetUnavailableError`, naming the file, the folder
and how to provide it.
"""

import dataclasses
import functools
import itertools
import json
import os
import pickle
import socket
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

DATA_DIR_VARIABLE = "ZOO_DATA_DIR"
OFFLINE_VARIABLE = "ZOO_OFFLINE"
CONNECT_TIMEOUT_S = 10  # a missing network fails within this, never hangs
READ_TIMEOUT_S = 60


class DatasetUnavailableError(FileNotFoundError):
    """A dataset file is neither in the data folder nor downloadable."""


@dataclasses.dataclass(frozen=True)
class KerasFile:
    """A file as `keras.datasets` caches it: name, origin and the hash Keras checks."""

    name: str
    origin: str
    file_hash: str  # sha256 (64 hex digits) or md5 (32)
    archive_names: tuple = ()  # for archives: other names the download may carry

    @property
    def algorithm(self):
        return "sha256" if len(self.file_hash) == 64 else "md5"


_GOOGLE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_FILE = KerasFile("mnist.npz", _GOOGLE + "mnist.npz",
                       "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
IMDB_FILE = KerasFile("imdb.npz", _GOOGLE + "imdb.npz",
                      "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")
IMDB_WORD_INDEX_FILE = KerasFile("imdb_word_index.json", _GOOGLE + "imdb_word_index.json",
                                 "bfafd718b763782e994055a2d397834f")
# keras 3.15 downloads the archive as `<name>_archive` and extracts it to `<name>/`.
CIFAR10_FILE = KerasFile(
    "cifar-10-batches-py-target", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    archive_names=("cifar-10-batches-py-target_archive", "cifar-10-python.tar.gz"),
)
CIFAR10_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def keras_cache_dir():
    """Keras's dataset cache: `$KERAS_HOME/datasets` or `~/.keras/datasets`."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home).expanduser() / "datasets"


def data_folder(data_dir=None):
    """Where dataset files are looked for: knob, `$ZOO_DATA_DIR`, Keras's cache."""
    chosen = data_dir or os.environ.get(DATA_DIR_VARIABLE)
    return Path(chosen).expanduser() if chosen else keras_cache_dir()


def fetch(keras_file, folder, task):
    """Path of `keras_file` in `folder` (for archives: the extracted folder),
    downloading it if it is missing."""
    path = folder / keras_file.name
    if keras_file.archive_names:
        if path.is_dir():
            return path
        for name in keras_file.archive_names:
            if (folder / name).is_file():
                _verify(folder / name, keras_file, task)
                _extract(folder / name, path)
                return path
    elif path.is_file():
        _verify(path, keras_file, task)
        return path
    return _download(keras_file, folder, task)


def _verify(path, keras_file, task):
    digest = _file_hash(str(path), path.stat().st_size, path.stat().st_mtime_ns,
                        keras_file.algorithm)
    if digest != keras_file.file_hash:
        raise DatasetUnavailableError(
            f"Task {task!r}: {path} is not the file Keras expects (its "
            f"{keras_file.algorithm} is {digest}, expected {keras_file.file_hash}); "
            f"it may be incomplete. Delete it to download it again from "
            f"{keras_file.origin}, or replace it with the right file."
        )


@functools.lru_cache(maxsize=16)
def _file_hash(path, size, mtime_ns, algorithm):
    import hashlib

    hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _extract(archive, target):
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # Python without extraction filters
            tar.extractall(target)


def _download(keras_file, folder, task):
    if os.environ.get(OFFLINE_VARIABLE):
        reason = f"${OFFLINE_VARIABLE} is set, so no download was tried"
    else:
        try:
            return _download_file(keras_file, folder)
        except Exception as error:  # noqa: BLE001 (any failure gets the same clear message)
            reason = f"downloading {keras_file.origin} failed: {type(error).__name__}: {error}"
    if keras_file.archive_names:
        wanted = (f"{keras_file.archive_names[-1]} ({keras_file.origin}, "
                  f"{keras_file.algorithm} {keras_file.file_hash}) or the folder "
                  f"{keras_file.name}/ that Keras extracts from it")
    else:
        wanted = (f"{keras_file.name} (from {keras_file.origin}, or another machine's "
                  f"~/.keras/datasets; {keras_file.algorithm} {keras_file.file_hash})")
    raise DatasetUnavailableError(
        f"Task {task!r} needs the Keras dataset file {keras_file.name!r}, which is "
        f"not in {folder}, and {reason}. To provide it, put {wanted} in {folder}, "
        f"or point the task's `data_dir` knob or ${DATA_DIR_VARIABLE} at a folder "
        "that holds it."
    )


def _download_file(keras_file, folder):
    """Download with Keras into `folder`, failing fast when offline."""
    import keras

    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{folder} is not writable")
    if not urllib.request.getproxies():  # direct connection: check the host answers
        host = urllib.parse.urlsplit(keras_file.origin).hostname
        socket.create_connection((host, 443), timeout=CONNECT_TIMEOUT_S).close()
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(READ_TIMEOUT_S)
    try:
        path = keras.utils.get_file(
            keras_file.name, keras_file.origin, file_hash=keras_file.file_hash,
            cache_dir=str(folder), cache_subdir="", extract=bool(keras_file.archive_names),
        )
    finally:
        socket.setdefaulttimeout(previous)
    return Path(path)


# ---------------------------------------------------------------- readers


def stamp(path):
    stat = Path(path).stat()
    return str(path), stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=2)
def read_mnist(path, size, mtime_ns):
    with np.load(path, allow_pickle=False) as f:
        return {"train": (f["x_train"], f["y_train"]), "test": (f["x_test"], f["y_test"])}


@functools.lru_cache(maxsize=2)
def read_imdb(path, size, mtime_ns):
    """Reviews as word ranks (flat int32 + offsets), in `keras.datasets.imdb`'s
    order (its shuffle with seed 113). Only read after the hash check, so the
    pickled object arrays are Google's own."""
    with np.load(path, allow_pickle=True) as f:
        arrays = {key: f[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    keras_rng = np.random.RandomState(113)
    result = {}
    for pool in ("train", "test"):
        order = np.arange(len(arrays[f"x_{pool}"]))
        keras_rng.shuffle(order)
        reviews = arrays[f"x_{pool}"][order]
        lengths = np.fromiter((len(r) for r in reviews), dtype=np.int64, count=len(reviews))
        flat = np.fromiter(itertools.chain.from_iterable(reviews), dtype=np.int32,
                           count=int(lengths.sum()))
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        result[pool] = (flat, offsets, arrays[f"y_{pool}"][order].astype("int32"))
    return result


@functools.lru_cache(maxsize=2)
def read_word_index(path, size, mtime_ns):
    with open(path) as f:
        index = json.load(f)
    words = np.empty(max(index.values()) + 1, dtype=object)
    for word, rank in index.items():
        words[rank] = word
    return words


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else (CIFAR batches are pickles)."""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
                ("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"Refusing to unpickle {module}.{name}.")
        if module == "numpy.core.multiarray" and hasattr(np, "_core"):
            module = "numpy._core.multiarray"
        return super().find_class(module, name)


@functools.lru_cache(maxsize=2)
def read_cifar10(folder, mtime_ns):
    """CIFAR-10 batches, as `keras.datasets.cifar10.load_data`: uint8 images
    `(N, 32, 32, 3)` and int labels."""
    inner = Path(folder) / "cifar-10-batches-py"
    parts = {}
    for name in CIFAR10_BATCHES:
        path = inner / name
        if not path.is_file():
            raise DatasetUnavailableError(
                f"CIFAR-10 folder {folder} lacks {path.name}: expected "
                f"{', '.join(CIFAR10_BATCHES)} in {inner}. Delete {folder} and "
                f"provide {CIFAR10_FILE.archive_names[-1]} again."
            )
        try:
            with open(path, "rb") as f:
                batch = _ArrayUnpickler(f, encoding="bytes").load()
            images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(batch[b"labels"], dtype="int32")
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
            message = f"{type(error).__name__}: {error}"
        else:
            parts[name] = (images.transpose(0, 2, 3, 1), labels)
            continue
        raise DatasetUnavailableError(
            f"{path} is not a CIFAR-10 batch ({message}). Delete {folder} and provide "
            f"{CIFAR10_FILE.archive_names[-1]} again."
        )
    train = [parts[name] for name in CIFAR10_BATCHES[:-1]]
    return {
        "train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
        "test": parts["test_batch"],
    }
