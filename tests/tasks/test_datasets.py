"""Real datasets: the same examples as `keras.datasets`, offline from the
shared cache files; CIFAR-10 through the same loader on a small archive of
the real format; clear errors when a file cannot be had."""

import dataclasses
import hashlib
import shutil
import tarfile
import time

import numpy as np
import pytest
from task_test_helpers import SHARED_DATASETS, make_cifar10_folder, tiny

import zoo.tasks
from zoo.tasks import datasets, files
from zoo.tasks.datasets import DatasetUnavailableError, lra_grayscale


@pytest.fixture(scope="module")
def keras_mnist():
    with np.load(SHARED_DATASETS / "mnist.npz") as f:
        return {key: f[key] for key in f.files}


def test_mnist_tasks_hold_kerass_examples(keras_reads, data_dir):
    (x_train, y_train), (x_test, y_test) = keras_reads.datasets.mnist.load_data()
    data = tiny("smnist", data_dir=str(data_dir)).build(seed=0)
    for split in zoo.tasks.SPLITS:
        images, labels = (x_test, y_test) if split == "test" else (x_train, y_train)
        index = data.indices[split]
        inputs, targets = data.split(split)
        np.testing.assert_allclose(inputs[..., 0] * 255, images[index].reshape(-1, 784), atol=1e-3)
        np.testing.assert_array_equal(targets, labels[index])
        np.testing.assert_array_equal(data.slices[split]["class"], labels[index])
    permuted = tiny("pmnist", data_dir=str(data_dir)).build(seed=0)
    permutation = zoo.tasks.get("pmnist").permutation
    assert sorted(permutation) == list(range(784))
    np.testing.assert_array_equal(permutation, zoo.tasks.get("pmnist").permutation)  # fixed
    np.testing.assert_array_equal(permuted.train.inputs, data.train.inputs[:, permutation])
    image = tiny("mnist_image", data_dir=str(data_dir)).build(seed=0)
    np.testing.assert_array_equal(image.test.inputs.reshape(-1, 784, 1), data.test.inputs)


def test_imdb_is_keras_ios_pipeline(keras_reads, data_dir):
    (x_train, y_train), (x_test, y_test) = keras_reads.datasets.imdb.load_data(num_words=20000)
    data = tiny("imdb", data_dir=str(data_dir), sequence_length=200).build(seed=0)
    for split in zoo.tasks.SPLITS:
        reviews, labels = (x_test, y_test) if split == "test" else (x_train, y_train)
        index = data.indices[split]
        expected = keras_reads.utils.pad_sequences(list(reviews[index]), maxlen=200)
        np.testing.assert_array_equal(data.split(split).inputs, expected)
        np.testing.assert_array_equal(data.split(split).targets, labels[index])
        lengths = [len(review) for review in reviews[index]]
        np.testing.assert_array_equal(data.slices[split]["length"], lengths)
    assert data.train.inputs.max() < 20000
    assert np.any(data.train.inputs == 2)  # words outside the vocabulary


def test_imdb_bytes_rebuilds_the_review_text(keras_reads, data_dir):
    (x_train, _), _ = keras_reads.datasets.imdb.load_data()
    word_index = keras_reads.datasets.imdb.get_word_index()
    words = {rank + 3: word for word, rank in word_index.items()}
    data = tiny("imdb_bytes", data_dir=str(data_dir)).build(seed=0)
    for row, i in enumerate(data.indices["train"][:20]):
        text = " ".join(words[w] for w in x_train[i][1:]).encode("utf-8")
        assert data.slices["train"]["length"][row] == len(text)
        kept = np.frombuffer(text[:200], dtype=np.uint8).astype(np.int32) + 1
        np.testing.assert_array_equal(data.train.inputs[row, : len(kept)], kept)
        assert np.all(data.train.inputs[row, len(kept):] == 0)


def test_validation_is_a_fixed_carve_from_training(data_dir):
    task = zoo.tasks.get("smnist")  # defaults: all training examples, 5000 for validation
    first, second = task.choose(60000, 10000, seed=0), task.choose(60000, 10000, seed=1)
    np.testing.assert_array_equal(first["validation"], second["validation"])
    np.testing.assert_array_equal(first["test"], np.arange(10000))
    for chosen in (first, second):
        assert len(chosen["validation"]) == 5000 and len(chosen["train"]) == 55000
        assert not set(chosen["train"]) & set(chosen["validation"])
    assert not np.array_equal(first["train"], second["train"])  # the seed orders training
    small = tiny("smnist", data_dir=str(data_dir))
    a, b = small.build(seed=0), small.build(seed=1)
    np.testing.assert_array_equal(a.indices["test"], b.indices["test"])
    np.testing.assert_array_equal(a.indices["validation"], b.indices["validation"])
    np.testing.assert_array_equal(a.indices["validation"], first["validation"][:32])
    assert not set(a.indices["train"]) & set(a.indices["validation"])


def test_sizes_beyond_the_data_are_refused(data_dir):
    with pytest.raises(ValueError, match="at most 55000"):
        zoo.tasks.get("smnist", num_train=55001, data_dir=str(data_dir)).build()
    with pytest.raises(ValueError, match="at most 10000"):
        zoo.tasks.get("mnist_image", num_test=10001, data_dir=str(data_dir)).build()
    with pytest.raises(ValueError, match="fewer than the 60000"):
        zoo.tasks.get("pmnist", num_validation=60000, data_dir=str(data_dir)).build()


def test_baselines_match_the_label_frequencies(data_dir, keras_mnist):
    assert zoo.tasks.get("imdb").spec.baseline == 0.5
    pools = zoo.tasks.get("imdb", data_dir=str(data_dir)).load()
    assert pools["train"][-1].mean() == 0.5 and pools["test"][-1].mean() == 0.5
    for name in ("smnist", "pmnist", "mnist_image", "scifar", "cifar10_image"):
        assert zoo.tasks.get(name).spec.baseline == 0.1
    labels = keras_mnist["y_test"]
    assert np.bincount(labels, minlength=10).max() / len(labels) == pytest.approx(0.1, abs=0.015)


# ------------------------------------------------------------------ CIFAR-10


def test_cifar10_batches_read_as_keras_reads_them(tmp_path):
    from keras.src.datasets.cifar import load_batch

    batches = make_cifar10_folder(tmp_path)
    task = zoo.tasks.get("cifar10_image", num_validation=10, data_dir=str(tmp_path))
    pools = task.load()
    inner = tmp_path / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    train_batches = [f"data_batch_{i}" for i in range(1, 6)]
    for pool, names in (("train", train_batches), ("test", ["test_batch"])):
        images, labels = zip(*(load_batch(str(inner / name)) for name in names))
        np.testing.assert_array_equal(pools[pool][0], np.concatenate(images).transpose(0, 2, 3, 1))
        np.testing.assert_array_equal(pools[pool][1], np.concatenate(labels))
    assert len(pools["train"][1]) == 5 * len(batches["test_batch"][1])


def test_cifar10_tasks(data_dir):
    images = tiny("cifar10_image", data_dir=str(data_dir)).build(seed=0)
    tokens = tiny("scifar", data_dir=str(data_dir)).build(seed=0)
    pools = zoo.tasks.get("scifar", data_dir=str(data_dir)).load()
    for split in zoo.tasks.SPLITS:
        raw, labels = pools["test" if split == "test" else "train"]
        index = images.indices[split]
        np.testing.assert_allclose(images.split(split).inputs * 255, raw[index], atol=1e-3)
        np.testing.assert_array_equal(tokens.split(split).inputs,
                                      lra_grayscale(raw[index]).reshape(-1, 1024))
        np.testing.assert_array_equal(tokens.split(split).targets, labels[index])


def test_grayscale_is_lras_tensorflow_conversion():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(64, 32, 32, 3), dtype=np.uint8)
    images[0] = 255
    images[1] = 0
    expected = tf.image.rgb_to_grayscale(images).numpy()[..., 0]
    np.testing.assert_array_equal(lra_grayscale(images), expected)


def test_cifar10_archive_is_checked_and_extracted(tmp_path, monkeypatch):
    source = tmp_path / "source"
    batches = make_cifar10_folder(source)
    folder = tmp_path / "data"
    folder.mkdir()
    archive = folder / "cifar-10-python.tar.gz"  # the name of the file users download
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py-target" / "cifar-10-batches-py",
                arcname="cifar-10-batches-py")
    task = tiny("scifar", data_dir=str(folder))
    with pytest.raises(DatasetUnavailableError, match="not the file Keras expects"):
        task.build()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setattr(datasets, "CIFAR10_FILE",
                        dataclasses.replace(datasets.CIFAR10_FILE, file_hash=digest))
    data = task.build(seed=0)
    assert (folder / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch").is_file()
    test_images = batches["test_batch"][0].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    expected = lra_grayscale(test_images[data.indices["test"]]).reshape(-1, 1024)
    np.testing.assert_array_equal(data.test.inputs, expected)


def test_cifar10_folder_missing_or_spoilt_batch_says_which(tmp_path):
    make_cifar10_folder(tmp_path)
    inner = tmp_path / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    (inner / "data_batch_3").write_bytes(b"\x80\x02}q\x00")  # cut short
    with pytest.raises(DatasetUnavailableError, match="data_batch_3 is not a CIFAR-10 batch"):
        tiny("cifar10_image", data_dir=str(tmp_path)).build()
    (inner / "data_batch_3").unlink()
    with pytest.raises(DatasetUnavailableError, match="lacks data_batch_3"):
        tiny("cifar10_image", data_dir=str(tmp_path)).build()


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("name,filename", [
    ("smnist", "mnist.npz"), ("pmnist", "mnist.npz"), ("mnist_image", "mnist.npz"),
    ("imdb", "imdb.npz"), ("imdb_bytes", "imdb.npz"),
    ("scifar", "cifar-10-batches-py-target"), ("cifar10_image", "cifar-10-batches-py-target"),
])
def test_missing_file_gives_one_clear_error_at_once(name, filename, tmp_path):
    started = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as error:
        tiny(name, data_dir=str(tmp_path)).build()
    assert time.perf_counter() - started < 5
    message = str(error.value)
    for needed in (filename, str(tmp_path), "data_dir", "ZOO_DATA_DIR", "ZOO_OFFLINE"):
        assert needed in message
    assert isinstance(error.value, FileNotFoundError)


def test_failed_download_says_what_failed(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_OFFLINE")

    def unreachable(keras_file, folder):
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(files, "_download_file", unreachable)
    with pytest.raises(DatasetUnavailableError) as error:
        tiny("imdb", data_dir=str(tmp_path)).build()
    message = str(error.value)
    assert "Network is unreachable" in message and datasets.IMDB_FILE.origin in message
    assert "imdb.npz" in message and str(tmp_path) in message


def test_download_lands_in_the_data_folder_under_kerass_name(tmp_path, monkeypatch, data_dir):
    # The real download path, with the network replaced by a copy of the file.
    monkeypatch.delenv("ZOO_OFFLINE")
    monkeypatch.setattr(files.socket, "create_connection", lambda *a, **k: _Closable())

    def fake_urlretrieve(url, target, progress=None):
        assert url == datasets.MNIST_FILE.origin
        shutil.copy(data_dir / "mnist.npz", target)

    monkeypatch.setattr("keras.src.utils.file_utils.urlretrieve", fake_urlretrieve)
    folder = tmp_path / "new" / "datasets"
    data = tiny("smnist", data_dir=str(folder)).build(seed=0)
    assert (folder / "mnist.npz").is_file() and data.train.num_examples == 64


class _Closable:
    def close(self):
        pass


def test_a_wrong_file_is_named_not_overwritten(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not mnist")
    with pytest.raises(DatasetUnavailableError, match="not the file Keras expects"):
        tiny("smnist", data_dir=str(tmp_path)).build()
    assert (tmp_path / "mnist.npz").read_bytes() == b"not mnist"


def test_data_folder_comes_from_knob_then_environment_then_keras(monkeypatch, data_dir, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(data_dir.parent))
    assert datasets.data_folder() == data_dir
    assert tiny("smnist").build().train.num_examples == 64  # through Keras's cache
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    assert datasets.data_folder() == tmp_path
    assert datasets.data_folder(str(data_dir)) == data_dir
    with pytest.raises(DatasetUnavailableError, match=str(tmp_path)):
        tiny("smnist").build()
