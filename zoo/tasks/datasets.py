"""Real datasets as tasks, read from the files that `keras.datasets` downloads
and caches (finding, verifying and downloading them: `zoo.tasks.files`).

Splits: validation is carved from the training set by a fixed permutation
(the same for every seed, never trained on); `build(seed)` draws and orders
the training examples with the seed. `num_train=None` / `num_test=None` take
all. Scaling is fixed (pixels / 255), so nothing is learnt from any split.
`data.indices[split]` says which example of Keras's arrays each row is.
"""

import dataclasses
import os
from typing import Optional

import numpy as np

from zoo.tasks.base import (
    SPLITS,
    Split,
    Task,
    TaskData,
    TaskSpec,
    check_int,
    check_knob,
    register,
    split_rng,
)
from zoo.tasks.files import (  # noqa: F401 (DatasetUnavailableError: the tasks' error)
    CIFAR10_FILE,
    IMDB_FILE,
    IMDB_WORD_INDEX_FILE,
    MNIST_FILE,
    DatasetUnavailableError,
    data_folder,
    fetch,
    read_cifar10,
    read_imdb,
    read_mnist,
    read_word_index,
    stamp,
)

VALIDATIONS = ("carved", "test")  # the `validation` knob of the real datasets
_FIXED_SEED = 20240229  # the validation carve and test subsets: the same for every build seed


# ---------------------------------------------------------------- tasks


@dataclasses.dataclass
class RealTaskData(TaskData):
    """`TaskData` plus `indices[split]`: the row of Keras's arrays each example
    is (its train arrays for train and validation, its test arrays for test;
    for IMDB, in `keras.datasets.imdb.load_data`'s shuffled order)."""

    indices: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class KerasDatasetTask(Task):
    """Common knobs of the real datasets: split sizes (None = all) and where
    the files are (`data_dir`; see the module docstring).

    `validation`: `"carved"` (default): `num_validation` training examples
    set apart; `"test"`: train on the whole training set and validate on the
    test split, as keras-io's examples do (early stopping and the best epoch
    then see the test split: only to reproduce a source that did so;
    `num_validation` is unused).
    """

    num_train: Optional[int] = None
    num_validation: int = 5000
    num_test: Optional[int] = None
    data_dir: Optional[str] = None
    validation: str = "carved"

    def __post_init__(self):
        for name in ("num_train", "num_test"):
            if getattr(self, name) is not None:
                check_int(self.name, name, getattr(self, name))
        check_int(self.name, "num_validation", self.num_validation)
        check_knob(self.name, "validation", self.validation, f"one of {list(VALIDATIONS)}",
                   self.validation in VALIDATIONS)
        check_knob(self.name, "data_dir", self.data_dir, "a folder path or None",
                   self.data_dir is None or isinstance(self.data_dir, (str, os.PathLike)))

    FILES = ()  # the Keras cache files the task reads

    def check_files(self):
        """Find (or download, where allowed) and verify every file now, so a
        missing or corrupt one is refused before any run trains."""
        folder = data_folder(self.data_dir)
        for keras_file in self.FILES:
            fetch(keras_file, folder, self.name)

    def load(self):
        """`{"train": pool, "test": pool}` of the whole dataset."""
        raise NotImplementedError

    def examples(self, pool, index):
        """`(inputs, targets, slices)` of the rows `index` of a pool."""
        raise NotImplementedError

    def build(self, seed=0):
        pools = self.load()
        indices = self.choose(len(pools["train"][-1]), len(pools["test"][-1]), seed)
        parts, slices = {}, {}
        for split in SPLITS:
            on_test = split == "test" or (split == "validation" and self.validation == "test")
            pool = pools["test" if on_test else "train"]
            inputs, targets, slices[split] = self.examples(pool, indices[split])
            parts[split] = Split(inputs, targets)
        return RealTaskData(slices=slices, indices=indices, **parts)

    def choose(self, train_size, test_size, seed):
        """Row indices per split: a fixed validation carve, a seeded training draw."""
        carved = self.num_validation if self.validation == "carved" else 0
        check_knob(self.name, "num_validation", self.num_validation,
                   f"fewer than the {train_size} training examples",
                   carved < train_size)
        available = train_size - carved
        num_train = available if self.num_train is None else self.num_train
        check_knob(self.name, "num_train", self.num_train,
                   f"None or at most {available} (training examples left after validation)",
                   num_train <= available)
        num_test = test_size if self.num_test is None else self.num_test
        check_knob(self.name, "num_test", self.num_test, f"None or at most {test_size}",
                   num_test <= test_size)
        carve = np.random.default_rng(_FIXED_SEED).permutation(train_size)
        rng = split_rng(seed, "train")
        train = rng.permutation(rng.choice(carve[carved:], num_train, replace=False))
        test = (np.arange(test_size) if self.num_test is None else
                np.random.default_rng([_FIXED_SEED, 1]).permutation(test_size)[:num_test])
        validation = test if self.validation == "test" else carve[:carved]
        return {"train": train, "validation": validation, "test": test}

    def _class_spec(self, solved_at, num_classes=10, **inputs):
        return TaskSpec(output_kind="class", num_classes=num_classes, metric="accuracy",
                        baseline=1.0 / num_classes, solved_at=solved_at, **inputs)


class _ImageDataset(KerasDatasetTask):
    """Images with one label each; subclasses load the pool and `represent` images."""

    def examples(self, pool, index):
        images, labels = pool
        targets = labels[index].astype("int32")
        return self.represent(images[index]), targets, {"class": targets}


class _Mnist(_ImageDataset):
    FILES = (MNIST_FILE,)
    def load(self):
        return read_mnist(*stamp(fetch(MNIST_FILE, data_folder(self.data_dir), self.name)))


@register("smnist")
@dataclasses.dataclass(frozen=True)
class SequentialMnist(_Mnist):
    """Sequential MNIST (Le, Jaitly & Hinton 2015): each 28x28 digit read one
    pixel per step in scan-line order, 784 steps of one feature (pixel / 255).

    Data: `keras.datasets.mnist` (`mnist.npz`), 60k train (5k carved for
    validation) and 10k test. Baseline: chance, 0.1 (the most common test
    digit is 11.35 %). Reference: LSTM 98.2-98.9 %, Transformer 98.9 %;
    solved at 0.989. Slices: `class` = the digit.
    """

    @property
    def spec(self):
        return self._class_spec(0.989, input_kind="features", feature_dim=1,
                                sequence_length=784)

    def represent(self, images):
        return (images.reshape(len(images), 784, 1) / np.float32(255)).astype("float32")


@register("pmnist")
@dataclasses.dataclass(frozen=True)
class PermutedMnist(_Mnist):
    """Permuted sequential MNIST (Le, Jaitly & Hinton 2015): `smnist` with the
    784 pixels in one fixed random order, drawn from `permutation_seed` (the
    same for every build seed), which scatters neighbouring pixels far apart.

    Baseline: chance, 0.1. Reference: LSTM 88-95.1 %, Transformer 97.9 %;
    solved at 0.979. Slices: `class` = the digit.
    """

    permutation_seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        check_int(self.name, "permutation_seed", self.permutation_seed, minimum=0)

    @property
    def permutation(self):
        return np.random.default_rng(self.permutation_seed).permutation(784)

    @property
    def spec(self):
        return self._class_spec(0.979, input_kind="features", feature_dim=1,
                                sequence_length=784)

    def represent(self, images):
        pixels = images.reshape(len(images), 784)[:, self.permutation]
        return (pixels[..., None] / np.float32(255)).astype("float32")


@register("mnist_image")
@dataclasses.dataclass(frozen=True)
class MnistImage(_Mnist):
    """MNIST digits as `(28, 28, 1)` images, pixels / 255, for ViT.

    Baseline: chance, 0.1. Solved: 0.99, a house threshold (no reference
    number in DESIGN.md; keras-io's ViT example is on CIFAR-100).
    Slices: `class` = the digit.
    """

    @property
    def spec(self):
        return self._class_spec(0.99, input_kind="image", image_shape=(28, 28, 1),
                                sequence_length=784)

    def represent(self, images):
        return (images[..., None] / np.float32(255)).astype("float32")


def lra_grayscale(images):
    """`tf.image.rgb_to_grayscale` on uint8 images, as LRA Image uses it:
    x / 255, weights (0.2989, 0.5870, 0.1140), then `* 255.5` truncated."""
    pixels = images.astype(np.float32) * np.float32(1.0 / 255.0)
    weights = np.array([0.2989, 0.5870, 0.1140], dtype=np.float32)
    gray = (pixels * weights).sum(axis=-1, dtype=np.float32)
    return (gray * np.float32(255.5)).astype(np.uint8)


class _Cifar10(_ImageDataset):
    FILES = (CIFAR10_FILE,)
    def load(self):
        folder = fetch(CIFAR10_FILE, data_folder(self.data_dir), self.name)
        inner = folder / "cifar-10-batches-py"
        return read_cifar10(str(folder), inner.stat().st_mtime_ns if inner.exists() else 0)


@register("scifar")
@dataclasses.dataclass(frozen=True)
class SequentialCifar10(_Cifar10):
    """CIFAR-10 in grayscale as 1024 pixel tokens, as LRA Image (Tay et al.
    2021, §3.4): each pixel's gray level 0-255 (LRA's conversion,
    `lra_grayscale`) is a token, read in scan-line order.

    Data: `keras.datasets.cifar10`'s files (`cifar-10-python.tar.gz`), 50k
    train (5k carved for validation; LRA also holds out 10 %) and 10k test.
    Baseline: chance, 0.1 (classes are balanced). Reference: LRA Transformer
    42.44 %, S4 88.65 %; solved at S4's. Slices: `class`.
    """

    @property
    def spec(self):
        return self._class_spec(0.8865, input_kind="tokens", vocabulary_size=256,
                                sequence_length=1024)

    def represent(self, images):
        return lra_grayscale(images).reshape(len(images), 1024).astype("int32")


@register("cifar10_image")
@dataclasses.dataclass(frozen=True)
class Cifar10Image(_Cifar10):
    """CIFAR-10 as `(32, 32, 3)` colour images, pixels / 255, for ViT.

    Baseline: chance, 0.1. Solved: 0.80, a house threshold, not a published
    number (keras-io's ViT example reports about 55 % on CIFAR-100, a
    different dataset). Slices: `class`.
    """

    @property
    def spec(self):
        return self._class_spec(0.80, input_kind="image", image_shape=(32, 32, 3),
                                sequence_length=1024)

    def represent(self, images):
        return (images / np.float32(255)).astype("float32")


class _Imdb(KerasDatasetTask):
    FILES = (IMDB_FILE,)
    def load(self):
        return read_imdb(*stamp(fetch(IMDB_FILE, data_folder(self.data_dir), self.name)))

    def _check_length(self):
        check_int(self.name, "sequence_length", self.sequence_length)


@register("imdb")
@dataclasses.dataclass(frozen=True)
class Imdb(_Imdb):
    """IMDB movie-review sentiment (Maas et al. 2011), word level as in
    keras-io's "Text classification with Transformer": the ids of
    `keras.datasets.imdb.load_data(num_words=vocabulary_size)` (1 starts a
    review, 2 is a word outside the vocabulary, words are 3 + frequency
    rank), padded and truncated at the front to `sequence_length`
    (`keras.utils.pad_sequences`' default), 0 pads.

    Data: `imdb.npz`, 25k train (5k carved for validation; keras-io
    validates on the test set) and 25k test. Baseline: chance, 0.5 (balanced).
    Reference: keras-io Transformer 0.8745, BiLSTM 0.8428 after 2 epochs;
    solved at 0.8745. Slices: `length` = tokens of the review before
    truncation (with the start token).
    """

    vocabulary_size: int = 20000
    sequence_length: int = 200

    def __post_init__(self):
        super().__post_init__()
        check_int(self.name, "vocabulary_size", self.vocabulary_size, minimum=4)
        self._check_length()

    @property
    def spec(self):
        return self._class_spec(0.8745, num_classes=2, input_kind="tokens",
                                vocabulary_size=self.vocabulary_size,
                                sequence_length=self.sequence_length, mask_zero=True)

    def examples(self, pool, index):
        flat, offsets, labels = pool
        inputs = np.zeros((len(index), self.sequence_length), dtype="int32")
        lengths = np.zeros(len(index), dtype="int32")
        for row, i in enumerate(index):
            words = flat[offsets[i]:offsets[i + 1]].astype(np.int64) + 3  # keras's index_from
            words = np.concatenate([[1], np.where(words < self.vocabulary_size, words, 2)])
            lengths[row] = len(words)
            kept = words[-self.sequence_length:]
            inputs[row, self.sequence_length - len(kept):] = kept
        targets = labels[index].astype("int32")
        return inputs, targets, {"length": lengths}


@register("imdb_bytes")
@dataclasses.dataclass(frozen=True)
class ImdbBytes(_Imdb):
    FILES = (IMDB_FILE, IMDB_WORD_INDEX_FILE)
    """IMDB at byte level, as LRA Text (Tay et al. 2021, §3.3): each byte of
    a review is a token (id = byte + 1, 0 pads), truncated and padded at the
    end to `sequence_length` (LRA's paper: 4K; its released config: 1000).

    The text is rebuilt from Keras's word index (`imdb_word_index.json`):
    the words of `imdb.npz` joined by spaces. It is lowercase and without
    punctuation, unlike LRA's raw review text, so the numbers are
    comparable in spirit, not digit for digit.

    Baseline: chance, 0.5. Reference: LRA Transformer 64.27 %; solved at
    that. Slices: `length` = bytes of the review before truncation.
    """

    sequence_length: int = 4096

    def __post_init__(self):
        super().__post_init__()
        self._check_length()

    @property
    def spec(self):
        return self._class_spec(0.6427, num_classes=2, input_kind="tokens",
                                vocabulary_size=257, sequence_length=self.sequence_length,
                                mask_zero=True)

    def texts(self, pool, index):
        """The rebuilt review texts of rows `index`."""
        folder = data_folder(self.data_dir)
        words = read_word_index(*stamp(fetch(IMDB_WORD_INDEX_FILE, folder, self.name)))
        flat, offsets, _ = pool
        return [" ".join(words[flat[offsets[i]:offsets[i + 1]]]) for i in index]

    def examples(self, pool, index):
        inputs = np.zeros((len(index), self.sequence_length), dtype="int32")
        lengths = np.zeros(len(index), dtype="int32")
        for row, text in enumerate(self.texts(pool, index)):
            encoded = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
            lengths[row] = len(encoded)
            kept = encoded[: self.sequence_length]
            inputs[row, : len(kept)] = kept.astype("int32") + 1
        return inputs, pool[2][index].astype("int32"), {"length": lengths}
