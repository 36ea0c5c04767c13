"""Recall tasks from the efficient-sequence-model literature: selective
copying and induction heads (Mamba, Gu & Dao 2023, §4.1 and appendix E.1)
and multi-query associative recall (Zoology, Arora et al. 2023).

Each reads a token sequence, and only a few answer steps are scored (the
sample weights mark them), so a model that can't remember what it saw scores
at chance, whatever it does with the other steps.
"""

import dataclasses

import numpy as np

from zoo.tasks.base import (
    Split,
    SyntheticTask,
    TaskData,
    TaskSpec,
    check_int,
    check_knob,
    check_sizes,
    register,
    split_rng,
)


def sample_without_replacement(rng, num_rows, population, size, p=None, chunk=2048):
    """`(num_rows, size)` draws from `range(population)`, without replacement
    within a row, in the order they were drawn.

    Equivalent in distribution to `rng.choice(population, size, replace=False,
    p=p)` per row (successive draws in proportion to `p`), vectorized with the
    exponential-race trick: the `size` smallest `Exp(1) / p` win, in order.
    """
    if p is None and size * size <= population:
        return _distinct_by_rejection(rng, num_rows, population, size)
    out = np.empty((num_rows, size), dtype=np.int64)
    for start in range(0, num_rows, chunk):
        stop = min(start + chunk, num_rows)
        scores = rng.exponential(size=(stop - start, population))
        if p is not None:
            scores /= p
        chosen = np.argpartition(scores, size - 1, axis=1)[:, :size]
        order = np.argsort(np.take_along_axis(scores, chosen, axis=1), axis=1)
        out[start:stop] = np.take_along_axis(chosen, order, axis=1)
    return out


def _distinct_by_rejection(rng, num_rows, population, size):
    """Uniform draws with replacement, redrawn for rows that repeat a value
    (a uniform ordered sample without replacement; fast when size^2 <= population)."""
    out = rng.integers(0, population, size=(num_rows, size))
    while True:
        ordered = np.sort(out, axis=1)
        repeated = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if not len(repeated):
            return out
        out[repeated] = rng.integers(0, population, size=(len(repeated), size))


@register("selective_copying")
@dataclasses.dataclass(frozen=True)
class SelectiveCopying(SyntheticTask):
    """Selective copying (Gu & Dao 2023, "Mamba", §4.1.1, Figure 2, appendix
    E.1: length 4096, 16 tokens including the noise token, 16 data tokens).

    Tokens: 0 is noise (the white squares of Mamba's Figure 2), 1 ..
    `vocabulary_size - 2` are data symbols and `vocabulary_size - 1` is the
    marker that asks for the answer. An input is `sequence_length` steps of
    noise holding `num_data_tokens` random symbols at random distinct
    positions, then `num_data_tokens` markers. At the k-th marker the target
    is the k-th symbol; only these steps are scored (sample weight 1; the
    target is 0 with weight 0 elsewhere). Unlike copying, where the symbols
    sit at fixed steps, the model must select them by content.

    Baseline: a uniform guess over the `vocabulary_size - 2` symbols, accuracy
    `1 / (vocabulary_size - 2)`. Solved: token accuracy >= 0.99 on the answer
    steps (Mamba's selective SSM layer reaches 99.8 %).

    Slices: `distance` = steps from the first symbol to the step where it
    must be written out (the longest span an answer is held).

    At the defaults a split holds 4112 steps per example; Mamba trains on
    fresh batches, which `task.stream(...)` serves without holding them.
    """

    sequence_length: int = 4096
    vocabulary_size: int = 16
    num_data_tokens: int = 16
    num_train: int = 10000
    num_validation: int = 1000
    num_test: int = 1000

    def __post_init__(self):
        check_int(self.name, "vocabulary_size", self.vocabulary_size, minimum=3)
        check_int(self.name, "num_data_tokens", self.num_data_tokens)
        check_int(self.name, "sequence_length", self.sequence_length,
                  minimum=self.num_data_tokens)
        check_sizes(self)

    @property
    def num_symbols(self):
        return self.vocabulary_size - 2

    @property
    def spec(self):
        return TaskSpec(
            input_kind="tokens",
            vocabulary_size=self.vocabulary_size,
            sequence_length=self.sequence_length + self.num_data_tokens,
            output_kind="class_per_position",
            num_classes=self.vocabulary_size,
            metric="accuracy",
            baseline=1.0 / self.num_symbols,
            solved_at=0.99,
        )

    def generate(self, rng, num_examples):
        n, length, k = num_examples, self.sequence_length, self.num_data_tokens
        positions = np.sort(sample_without_replacement(rng, n, length, k), axis=1)
        symbols = rng.integers(1, self.num_symbols + 1, size=(n, k))
        inputs = np.zeros((n, length + k), dtype="int32")
        np.put_along_axis(inputs, positions, symbols, axis=1)
        inputs[:, length:] = self.vocabulary_size - 1  # the markers
        targets = np.zeros((n, length + k), dtype="int32")
        targets[:, length:] = symbols
        weights = np.zeros((n, length + k), dtype="float32")
        weights[:, length:] = 1.0
        slices = {"distance": (length - positions[:, 0]).astype("int32")}
        return inputs, targets, weights, slices


@register("associative_recall")
@dataclasses.dataclass(frozen=True)
class AssociativeRecall(SyntheticTask):
    """Multi-query associative recall, MQAR (Arora, Eyuboglu et al. 2023,
    "Zoology", §3; generator `zoology/data/multiquery_ar.py`, reproduced
    here in NumPy).

    An input of `sequence_length` tokens starts with `num_kv_pairs` key-value
    pairs (keys distinct, from 1 .. `vocabulary_size // 2 - 1`; values
    distinct, from `vocabulary_size // 2` .. `vocabulary_size - 1`). Each key
    is then queried once, at an even offset of the remaining span whose gap
    follows Zoology's power law (`power_a`, small = queries soon after the
    pairs). At a query step the target is that key's value; only query steps
    are scored (sample weight 1). With `random_non_queries` the other steps
    hold random tokens instead of 0, as in Zoology.

    Baseline: a uniform guess over the `vocabulary_size - vocabulary_size // 2`
    value tokens (a model that only remembers which values occurred gets
    `1 / num_kv_pairs`). Solved: accuracy >= 0.99 on the query steps.

    Slices: `distance` = mean steps from a key's pair to its query.
    """

    sequence_length: int = 64
    vocabulary_size: int = 8192
    num_kv_pairs: int = 8
    power_a: float = 0.01
    random_non_queries: bool = True
    num_train: int = 100000
    num_validation: int = 3000
    num_test: int = 3000

    def __post_init__(self):
        check_int(self.name, "num_kv_pairs", self.num_kv_pairs)
        check_int(self.name, "vocabulary_size", self.vocabulary_size,
                  minimum=2 * self.num_kv_pairs + 2)
        check_int(self.name, "sequence_length", self.sequence_length,
                  minimum=4 * self.num_kv_pairs)
        check_knob(self.name, "sequence_length", self.sequence_length, "an even integer",
                   self.sequence_length % 2 == 0)
        check_knob(self.name, "power_a", self.power_a, "a number in (0, 1]",
                   isinstance(self.power_a, (int, float)) and 0 < self.power_a <= 1)
        check_sizes(self)

    @property
    def num_values(self):
        return self.vocabulary_size - self.vocabulary_size // 2

    @property
    def spec(self):
        return TaskSpec(
            input_kind="tokens",
            vocabulary_size=self.vocabulary_size,
            sequence_length=self.sequence_length,
            output_kind="class_per_position",
            num_classes=self.vocabulary_size,
            metric="accuracy",
            baseline=1.0 / self.num_values,
            solved_at=0.99,
        )

    def generate(self, rng, num_examples):
        n, pairs, length = num_examples, self.num_kv_pairs, self.sequence_length
        key_vocabulary = self.vocabulary_size // 2
        keys = 1 + sample_without_replacement(rng, n, key_vocabulary - 1, pairs)
        values = key_vocabulary + sample_without_replacement(rng, n, self.num_values, pairs)
        context = 2 * pairs
        space = (length - context) // 2
        p = self.power_a * np.arange(1, space + 1) ** (self.power_a - 1)
        gaps = sample_without_replacement(rng, n, space, pairs, p=p / p.sum())

        inputs = np.zeros((n, length), dtype="int32")
        inputs[:, 0:context:2] = keys
        inputs[:, 1:context:2] = values
        queries = context + 2 * gaps  # (N, pairs): where key j is asked for
        np.put_along_axis(inputs, queries, keys, axis=1)
        targets = np.zeros((n, length), dtype="int32")
        np.put_along_axis(targets, queries, values, axis=1)
        weights = np.zeros((n, length), dtype="float32")
        np.put_along_axis(weights, queries, 1.0, axis=1)
        if self.random_non_queries:
            noise = rng.integers(0, self.vocabulary_size, size=(n, length))
            empty = inputs == 0
            inputs[empty] = noise[empty]
        distance = queries - 2 * np.arange(pairs)  # query step - key step
        slices = {"distance": np.rint(distance.mean(axis=1)).astype("int32")}
        return inputs, targets, weights, slices


@register("induction_heads")
@dataclasses.dataclass(frozen=True)
class InductionHeads(SyntheticTask):
    """Induction heads (Gu & Dao 2023, "Mamba", §4.1.2 and appendix E.1;
    the task of Fu, Dao et al. 2023, "Hungry Hungry Hippos"; after Olsson et
    al. 2022): train at one length, test at others.

    Tokens: 0 .. `vocabulary_size - 2` are random content and
    `vocabulary_size - 1` is the special token (Mamba: vocabulary 16, train
    length 256). An input is `sequence_length` random content tokens; the
    special token is put at a random step `p` in [0, L-3] and again at the
    last step. The target (one label) is the token at `p + 1`, the one that
    followed the special token the first time.

    Test lengths: `build` also makes one test split per entry of
    `test_lengths`, returned in `data.extra_tests["test_length_<L>"]` with
    slices `data.slices["test_length_<L>"]` (the one at `sequence_length` is
    `data.test` itself). Their seeds branch from the test seed, so they never
    overlap training. The spec's `sequence_length` is the longest of all
    lengths, so models with learned positions can read every test split
    (positions past `sequence_length` are never trained: that is the test).

    Baseline: chance, `1 / (vocabulary_size - 1)`. Solved: accuracy >= 0.99
    on the answer token at the training length; the length-generalization
    curve is read off the extra splits (Mamba stays at 100 % up to 2^20).

    Slices: `distance` = steps from the answer token to the final query;
    `length` = the sequence length.
    """

    sequence_length: int = 256
    test_lengths: tuple = (64, 128, 256, 512, 1024, 2048, 4096)
    vocabulary_size: int = 16
    num_train: int = 10000
    num_validation: int = 1000
    num_test: int = 1000

    def __post_init__(self):
        check_int(self.name, "sequence_length", self.sequence_length, minimum=3)
        check_int(self.name, "vocabulary_size", self.vocabulary_size, minimum=3)
        check_knob(self.name, "test_lengths", self.test_lengths,
                   "a tuple of integers >= 3",
                   isinstance(self.test_lengths, tuple) and all(
                       isinstance(v, int) and not isinstance(v, bool) and v >= 3
                       for v in self.test_lengths))
        check_sizes(self)

    @property
    def spec(self):
        return TaskSpec(
            input_kind="tokens",
            vocabulary_size=self.vocabulary_size,
            sequence_length=max((self.sequence_length,) + self.test_lengths),
            output_kind="class",
            num_classes=self.vocabulary_size,
            metric="accuracy",
            baseline=1.0 / (self.vocabulary_size - 1),
            solved_at=0.99,
        )

    def generate(self, rng, num_examples, sequence_length=None):
        n, length = num_examples, sequence_length or self.sequence_length
        special = self.vocabulary_size - 1
        inputs = rng.integers(0, special, size=(n, length)).astype("int32")
        first = rng.integers(0, length - 2, size=n)  # in [0, L-3]
        rows = np.arange(n)
        inputs[rows, first] = special
        targets = inputs[rows, first + 1].copy()
        inputs[:, -1] = special
        slices = {
            "distance": (length - 2 - first).astype("int32"),
            "length": np.full(n, length, dtype="int32"),
        }
        return inputs, targets, None, slices

    def build(self, seed=0):
        data = super().build(seed)
        slices, extra = dict(data.slices), {}
        for length in dict.fromkeys(self.test_lengths):
            name = f"test_length_{length}"
            if length == self.sequence_length:
                extra[name], slices[name] = data.test, data.slices["test"]
                continue
            rng = split_rng(seed, "test", length)
            inputs, targets, _, slices[name] = self.generate(rng, self.num_test, length)
            extra[name] = Split(inputs, targets)
        return TaskData(
            train=data.train, validation=data.validation, test=data.test,
            slices=slices, extra_tests=extra,
        )
