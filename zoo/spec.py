"""What a task tells a model: the `TaskSpec`.

Models import this module, not `zoo.tasks`, so building a model loads no
task code (and tasks and models meet only here).

    from zoo.spec import TaskSpec
    spec = TaskSpec("tokens", 50, "class", "accuracy", baseline=0.1, solved_at=0.99,
                    vocabulary_size=20, num_classes=10)
"""

import dataclasses
from typing import Optional

import numpy as np

INPUT_KINDS = ("tokens", "features", "image")
OUTPUT_KINDS = ("class", "regression", "class_per_position", "sequence")
START_TOKEN = 1  # sequence targets: id 0 pads, id 1 starts the decoder's input


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What a model must accept and emit to fit a task.

    Inputs:
        input_kind: `"tokens"` (int ids, `(batch, T)`), `"features"` (floats,
            `(batch, T, feature_dim)`) or `"image"` (`(batch, H, W, C)`).
        sequence_length: T (for images, the number of pixels).
        vocabulary_size: number of token ids, for tokens; id 0 is padding when
            `mask_zero`.
        feature_dim: features per step, for features.
        image_shape: `(H, W, C)`, for images.
        mask_zero: whether id 0 marks padding that models must ignore.
    Outputs:
        output_kind: `"class"` (one label), `"regression"` (one value),
            `"class_per_position"` (a label per step; sample weights mark the
            positions that count) or `"sequence"` (a target sequence, for
            encoder-decoder models; inputs are then a dict with
            `"encoder_inputs"` and `"decoder_inputs"`, the latter being the
            targets shifted right behind `START_TOKEN`; target id 0 pads).
        num_classes: labels, for class outputs; target vocabulary for sequences.
        target_length: length of the target sequence, for sequences.
        causal: the output at a step may depend only on inputs up to that step
            (language modelling); bidirectional models are refused.
    Evaluation:
        metric: the headline metric (`"accuracy"`, `"mse"`, ...).
        higher_is_better: direction of `metric`.
        baseline: the metric of the memoryless predictor or chance.
        solved_at: the metric value from which the task counts as solved.
    """

    input_kind: str
    sequence_length: int
    output_kind: str
    metric: str
    baseline: float
    solved_at: float
    higher_is_better: bool = True
    vocabulary_size: Optional[int] = None
    feature_dim: Optional[int] = None
    image_shape: Optional[tuple] = None
    mask_zero: bool = False
    num_classes: Optional[int] = None
    target_length: Optional[int] = None
    causal: bool = False

    def __post_init__(self):
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(
                f"Unknown input_kind={self.input_kind!r}; valid: {list(INPUT_KINDS)}"
            )
        if self.output_kind not in OUTPUT_KINDS:
            raise ValueError(
                f"Unknown output_kind={self.output_kind!r}; valid: {list(OUTPUT_KINDS)}"
            )
        needed = {
            "tokens": "vocabulary_size",
            "features": "feature_dim",
            "image": "image_shape",
        }[self.input_kind]
        if getattr(self, needed) is None:
            raise ValueError(f"input_kind={self.input_kind!r} needs `{needed}`.")
        if self.output_kind != "regression" and not self.num_classes:
            raise ValueError(f"output_kind={self.output_kind!r} needs `num_classes`.")
        if self.output_kind == "sequence" and not self.target_length:
            raise ValueError("output_kind='sequence' needs `target_length`.")

    def solved(self, value):
        """Whether a metric value counts as solving the task."""
        if value is None or not np.isfinite(value):
            return False
        return value >= self.solved_at if self.higher_is_better else value <= self.solved_at

    def loss(self):
        """The Keras loss for this output (models emit logits)."""
        import keras

        if self.output_kind == "regression":
            return keras.losses.MeanSquaredError()
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def keras_metrics(self):
        """Keras metrics for `model.compile`'s log, named `keras_*`: Keras
        counts every weighted position of every batch, while what the zoo
        scores (`val_task_<metric>`, the record) is the task's own metric."""
        import keras

        if self.output_kind == "regression":
            return [keras.metrics.MeanSquaredError(name="keras_mse")]
        return [keras.metrics.SparseCategoricalAccuracy(name="keras_accuracy")]
