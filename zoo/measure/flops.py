"""Analytic FLOPs of a model's forward pass, per example.

    from zoo.measure import flops
    flops.per_example(model, sequence_length=1024)          # forward
    3 * flops.per_example(model, sequence_length=1024)      # one training step

Counted: every matrix product, as 2 FLOPs per multiply-add — each weight
matrix (dense, einsum-dense, convolution, recurrent kernels) once per position
it is applied at, and attention's two products `Q K^T` and `A V`
(`2 * 2 * T_query * T_key * heads * head_dim`, causal or not, as in the
usual model-FLOPs-utilisation convention). Not counted: embedding lookups,
biases, normalisation, activations, softmax — small next to the products.
Training is taken as 3x the forward pass (forward + two backward products).

A model's top-level layers are walked in order; a layer whose output has a
time axis is applied at `sequence_length` positions (its static length when
the model fixes one, as ViT's patches do), a pooled one at one position.
Encoder-decoder models take `{"encoder": S, "decoder": T}`: layers named
`encoder_*` run at S, the others at T, and cross-attention has S keys.
"""

import keras

from zoo.layers.attention import MultiHeadAttention as _ZooAttention
from zoo.layers.embedding import PositionEmbedding as _PositionEmbedding

_LOOKUP_TABLES = (keras.layers.Embedding, _PositionEmbedding)
_ATTENTION = (_ZooAttention, keras.layers.MultiHeadAttention)


def _sublayers(layer):
    return layer._flatten_layers(include_self=True, recursive=True)


def _own_variables(layer):
    return list(layer._trainable_variables) + list(layer._non_trainable_variables)


def _matrix_size(layer):
    """Weights used in matrix products by `layer` and its sublayers, per position."""
    total = 0
    for sub in _sublayers(layer):
        if isinstance(sub, _LOOKUP_TABLES):
            continue
        for variable in _own_variables(sub):
            if len(variable.shape) >= 2 and not variable.name.endswith("bias"):
                total += int(keras.ops.size(variable))
    return total


def _attention_flops(layer, query_positions, key_positions):
    """Products between positions (attention's scores, a scan's state reads).

    A layer outside Keras's and the zoo's attention states its own by a
    `sequence_mixing_flops(query_positions, key_positions)` method.
    """
    total = 0
    for sub in _sublayers(layer):
        if hasattr(sub, "sequence_mixing_flops"):
            total += int(sub.sequence_mixing_flops(query_positions, key_positions))
        elif isinstance(sub, _ATTENTION):
            heads = sub.num_heads
            key_dim = getattr(sub, "key_dim", None) or sub._key_dim
            value_dim = getattr(sub, "value_dim", None) or getattr(sub, "_value_dim", None) or key_dim
            keys = key_positions if "cross" in sub.name else query_positions
            total += 2 * query_positions * keys * heads * (key_dim + value_dim)
    return total


def _positions(layer, length):
    output = getattr(layer, "output", None)
    if isinstance(output, (list, tuple)):  # e.g. an RNN returning its states too
        output = output[0]
    shape = getattr(output, "shape", None)
    if shape is None or len(shape) < 3:
        return 1
    steps = shape[1:-1]
    if all(s is not None for s in steps):
        count = 1
        for s in steps:
            count *= int(s)
        return count
    return length


def per_example(model, sequence_length):
    """Forward-pass FLOPs of `model` for one example of `sequence_length` steps.

    sequence_length: an int, or `{"encoder": S, "decoder": T}` for
    encoder-decoder models.
    """
    if isinstance(sequence_length, dict):
        unknown = set(sequence_length) - {"encoder", "decoder"}
        if unknown:
            raise ValueError(
                f"Unknown sequence_length keys {sorted(unknown)}; valid: ['decoder', 'encoder']"
            )
        encoder_length = int(sequence_length["encoder"])
        decoder_length = int(sequence_length["decoder"])
    else:
        if not isinstance(sequence_length, int) or sequence_length < 1:
            raise ValueError(
                f"sequence_length must be a positive int or a dict; got {sequence_length!r}"
            )
        encoder_length = decoder_length = sequence_length
    total = 0
    for layer in model.layers:
        length = encoder_length if layer.name.startswith("encoder") else decoder_length
        positions = _positions(layer, length)
        total += 2 * positions * _matrix_size(layer)
        total += _attention_flops(layer, positions, encoder_length)
    return int(total)
