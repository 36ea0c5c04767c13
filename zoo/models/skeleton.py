"""The one model skeleton: input embedding -> N mixer blocks -> pooling -> head.

Families differ only in their mixer blocks (and their defaults); the input
layer, the embedding and the head follow from the task spec, so any model
runs on any task it can fit. Layers are named `embedding`, `block_<i>`,
`final_norm`, `pooling` and `head`, which `count_params` relies on.
"""

import contextvars
from typing import TYPE_CHECKING

from zoo import lazy

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): listing models loads no backend
    import keras

    from zoo import layers
else:
    keras = lazy.module("keras")
    layers = lazy.module("zoo.layers")

PER_EXAMPLE = ("class", "regression")


class IncompatibleTaskError(ValueError):
    """A model cannot fit a task (wrong input kind, output kind, causality)."""


class _Fits(Exception):
    """Raised by `check_fits` in check-only mode: the model fits; build nothing."""


_CHECK_ONLY = contextvars.ContextVar("zoo_models_check_only", default=False)


def fits(build, spec, config, name):
    """Run a family's `build` only as far as its `check_fits`: refuse, with
    `IncompatibleTaskError`, a task the model cannot fit, without building it
    (every family checks first), so a sweep can check all its runs at once."""
    token = _CHECK_ONLY.set(True)
    try:
        build(spec, config, name=name)
    except _Fits:
        pass
    finally:
        _CHECK_ONLY.reset(token)


def check_fits(name, spec, inputs, outputs, bidirectional=False):
    """Refuse a task a model cannot fit, with the reason and what would fit."""
    if spec.input_kind not in inputs:
        raise IncompatibleTaskError(
            f"Model {name!r} accepts inputs {list(inputs)}, but the task gives "
            f"input_kind={spec.input_kind!r}."
        )
    if spec.output_kind not in outputs:
        raise IncompatibleTaskError(
            f"Model {name!r} emits outputs {list(outputs)}, but the task needs "
            f"output_kind={spec.output_kind!r}."
        )
    if spec.causal and bidirectional:
        raise IncompatibleTaskError(
            f"Model {name!r} looks at future steps, but the task is causal "
            "(each output may only depend on earlier inputs). Use a causal "
            "model: a unidirectional RNN, `transformer_decoder_*` or "
            "`causal=True`."
        )
    if _CHECK_ONLY.get():
        raise _Fits()


def model_inputs(spec):
    """The `keras.Input` for a spec. Sequences take any length (None)."""
    if spec.input_kind == "tokens":
        return keras.Input(shape=(None,), dtype="int32", name="tokens")
    if spec.input_kind == "features":
        return keras.Input(shape=(None, spec.feature_dim), name="features")
    return keras.Input(shape=tuple(spec.image_shape), name="image")


def embedding(spec, embedding_dim, position, mask_padding=True):
    """Token or feature embedding with `position` (`"none"` for RNNs).

    With `mask_padding=False` the padding id 0 of a task whose spec marks it
    (`mask_zero`) is embedded like any token and seen by every layer, as in
    keras-io's examples, whose `Embedding` has no `mask_zero`.
    """
    if spec.input_kind == "tokens":
        return layers.TokenAndPositionEmbedding(
            spec.vocabulary_size,
            spec.sequence_length,
            embedding_dim,
            position=position,
            mask_zero=spec.mask_zero and mask_padding,
            name="embedding",
        )
    return layers.FeatureAndPositionEmbedding(
        spec.sequence_length, embedding_dim, position=position, name="embedding"
    )


def head(spec, x, pooling, hidden_units=None, dropout=0.0):
    """Pool (for per-example outputs) and project to logits or a value.

    `hidden_units`: a ReLU layer of that size before the output (keras-io's
    text Transformer: `Dense(20, relu)`); `dropout`: before the output, and
    before the hidden layer when there is one (the defaults add nothing).
    The head computes in float32 so losses are stable under mixed precision.
    """
    if spec.output_kind in PER_EXAMPLE and len(x.shape) == 3:
        x = layers.SequencePooling(pooling, name="pooling")(x)
    if hidden_units:
        if dropout:
            x = keras.layers.Dropout(dropout, name="head_hidden_dropout")(x)
        x = keras.layers.Dense(hidden_units, activation="relu", name="head_hidden")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    units = 1 if spec.output_kind == "regression" else spec.num_classes
    return keras.layers.Dense(units, dtype="float32", name="head")(x)


def head_options(config):
    """`head()`'s keyword arguments from a config's `head_units` and
    `head_dropout` (absent fields: the plain head)."""
    return {"hidden_units": getattr(config, "head_units", None),
            "dropout": getattr(config, "head_dropout", 0.0)}


def build_sequence_model(spec, name, embed, blocks, pooling, final_norm=None, head_kwargs=None):
    """Assemble the skeleton from an embedding layer and mixer blocks;
    `head_kwargs` go to `head()`."""
    inputs = model_inputs(spec)
    x = embed(inputs)
    for block in blocks:
        x = block(x)
    if final_norm is not None:
        x = final_norm(x)
    return keras.Model(inputs, head(spec, x, pooling, **(head_kwargs or {})), name=name)


def count_params(model):
    """Parameters by part: `total`, `embedding`, `mixer` (blocks) and `head`.

    Comparisons hold the `mixer` count within 10 % of a budget (the LRA rule);
    the embedding depends on the task (vocabulary, learned positions).
    """
    counts = {"total": model.count_params(), "embedding": 0, "mixer": 0, "head": 0}
    for layer in model.layers:
        n = layer.count_params() if layer.built else 0
        if layer.name.startswith(("block_", "final_norm", "encoder_block_", "decoder_block_")):
            counts["mixer"] += n
        elif layer.name.endswith("embedding"):
            counts["embedding"] += n
        elif layer.name in ("head", "head_hidden"):
            counts["head"] += n
    return counts
