"""A causal language-modelling task whose honest loss is known exactly.

`repeat_lm`: next-token prediction on sequences made of a random prefix
followed by the same prefix again. The first half cannot be predicted (each
token is uniform), the second half can be, exactly, by a model that looks
back one period: what a causal (masked) decoder can learn. A model that sees
the future reads the next token off its input instead; its training loss
falls under the honest floor, and it fails to generate.
"""

import dataclasses
import math

import numpy as np

from zoo.tasks.base import SyntheticTask, TaskSpec, check_int, check_knob, check_sizes, register

BLANK = 0  # never content; fills not-yet-generated steps when generating


@register("repeat_lm")
@dataclasses.dataclass(frozen=True)
class RepeatLM(SyntheticTask):
    """Next-token prediction on `prefix + prefix` (a causal LM task).

    Tokens: 0 is a blank that never occurs in the data (generation fills
    the steps it has not written yet with it); 1 .. `vocabulary_size - 1`
    are content. A sequence is `prefix_length` uniform content tokens, then
    the same tokens again; the input is the sequence without its last token
    and the target at step t is the token at t + 1 (`2 * prefix_length - 1`
    steps). Every step counts in the loss.

    Honest loss: the targets of the first `prefix_length - 1` steps are
    uniform, the rest are determined, so no causal model can beat
    `loss_floor = (prefix_length - 1) / (2 * prefix_length - 1) * ln(vocabulary_size - 1)`
    nats per step. The headline metric is the accuracy on the predictable
    steps (the second half, `prefix_length` steps); chance is
    `1 / (vocabulary_size - 1)`; solved at >= 0.99.

    `causal=True` (the default) marks the task causal, so bidirectional
    models are refused. `causal=False` lets them train on it: that is the
    control of the masked-attention claim, in which the target leaks through
    the input.

    Generation (`prompt_length`): a prompt is the prefix, and the
    continuation that must be generated is the prefix again.

    Slices: `distance` = `prefix_length`, the steps between a token and its
    repeat (the same for all examples; it varies with the knob).
    """

    prefix_length: int = 16
    vocabulary_size: int = 16
    causal: bool = True
    num_train: int = 10000
    num_validation: int = 1000
    num_test: int = 1000

    def __post_init__(self):
        check_int(self.name, "prefix_length", self.prefix_length, minimum=2)
        check_int(self.name, "vocabulary_size", self.vocabulary_size, minimum=3)
        check_knob(self.name, "causal", self.causal, "True or False",
                   isinstance(self.causal, bool))
        check_sizes(self)

    @property
    def input_length(self):
        return 2 * self.prefix_length - 1

    @property
    def loss_floor(self):
        """The lowest mean cross-entropy a model that cannot see the future reaches."""
        unpredictable = (self.prefix_length - 1) / self.input_length
        return unpredictable * math.log(self.vocabulary_size - 1)

    @property
    def spec(self):
        return TaskSpec(
            input_kind="tokens",
            vocabulary_size=self.vocabulary_size,
            sequence_length=self.input_length,
            output_kind="class_per_position",
            num_classes=self.vocabulary_size,
            metric="accuracy",
            baseline=1.0 / (self.vocabulary_size - 1),
            solved_at=0.99,
            causal=self.causal,
        )

    def generate(self, rng, num_examples):
        n, k = num_examples, self.prefix_length
        prefix = rng.integers(1, self.vocabulary_size, size=(n, k)).astype("int32")
        sequence = np.concatenate([prefix, prefix], axis=1)
        inputs, targets = sequence[:, :-1].copy(), sequence[:, 1:].copy()
        weights = np.ones(targets.shape, dtype="float32")
        return inputs, targets, weights, {"distance": np.full(n, k, dtype="int32")}

    def metric_weights(self, split_data):
        """Accuracy counts the predictable steps: targets in the second half."""
        weights = np.zeros_like(split_data[1], dtype="float32")
        weights[:, self.prefix_length - 1:] = 1.0
        return weights

    def prompt_length(self):
        """Steps given before generation starts: the prefix."""
        return self.prefix_length
