"""Encoder-decoder families for tasks whose target is a sequence.

`seq2seq_transformer`: Transformer encoder + decoder (Vaswani et al. 2017).
`seq2seq_lstm`: LSTM encoder + LSTM decoder started from the encoder's final
states, with attention over the encoder's outputs combined as in Luong et al.
2015 (`tanh(W [h; context])`); without attention it is Sutskever et al.
2014's encoder-decoder, and with `decoder_input="encoder_output"` keras-io's
addition_rnn (the encoder's last output repeated as every decoder input).

Both take `{"encoder_inputs": (B, S), "decoder_inputs": (B, T)}` token ids
and emit `(B, T, target vocabulary)` logits. Training uses teacher forcing:
`decoder_inputs` are the targets shifted right behind `START_TOKEN`;
`greedy_decode` generates without seeing the targets.
"""

import dataclasses
from typing import TYPE_CHECKING, Optional

import numpy as np

from zoo import lazy
from zoo.checks import check_choice
from zoo.models.registry import register_family
from zoo.models.skeleton import check_fits
from zoo.models.transformer import POSITIONS, SIZES, encoder_blocks, final_norm
from zoo.spec import START_TOKEN

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): listing models loads no backend
    import keras

    from zoo import layers
else:
    keras = lazy.module("keras")
    layers = lazy.module("zoo.layers")


def _inputs():
    return {
        "encoder_inputs": keras.Input(shape=(None,), dtype="int32", name="encoder_inputs"),
        "decoder_inputs": keras.Input(shape=(None,), dtype="int32", name="decoder_inputs"),
    }


def _embeddings(spec, dim, position):
    source = layers.TokenAndPositionEmbedding(
        spec.vocabulary_size, spec.sequence_length, dim, position=position,
        mask_zero=spec.mask_zero, name="encoder_embedding",
    )
    target = layers.TokenAndPositionEmbedding(
        spec.num_classes, spec.target_length, dim, position=position,
        mask_zero=spec.mask_zero, name="decoder_embedding",
    )
    return source, target


def _head(spec, x):
    return keras.layers.Dense(spec.num_classes, dtype="float32", name="head")(x)


@dataclasses.dataclass(frozen=True)
class Seq2SeqTransformerConfig:
    """hidden_dim, num_heads, intermediate_dim, dropout, normalize_first, norm,
    position: as for `transformer`; num_layers: encoder blocks and decoder
    blocks each."""

    hidden_dim: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_dim: int = 128
    dropout: float = 0.0
    normalize_first: bool = False
    norm: str = "layer"
    position: str = "learned"

    def __post_init__(self):
        check_choice("position", self.position, POSITIONS)


def build_seq2seq_transformer(spec, config, name):
    check_fits(name, spec, ("tokens",), ("sequence",))
    inputs = _inputs()
    position = "none" if config.position == "rotary" else config.position
    source_embed, target_embed = _embeddings(spec, config.hidden_dim, position)
    encoded = source_embed(inputs["encoder_inputs"])
    for block in encoder_blocks(config, prefix="encoder_block"):
        encoded = block(encoded)
    norm = final_norm(config)
    if norm is not None:
        encoded = keras.layers.LayerNormalization(epsilon=1e-5, name="encoder_block_norm")(encoded)
    x = target_embed(inputs["decoder_inputs"])
    for i in range(config.num_layers):
        x = layers.TransformerDecoderBlock(
            num_heads=config.num_heads,
            intermediate_dim=config.intermediate_dim,
            dropout=config.dropout,
            normalize_first=config.normalize_first,
            norm=config.norm,
            rotary=config.position == "rotary",
            name=f"decoder_block_{i}",
        )(x, encoded)
    if norm is not None:
        x = norm(x)
    return keras.Model(inputs, _head(spec, x), name=name)


DECODER_INPUTS = ("targets", "encoder_output")


@dataclasses.dataclass(frozen=True)
class Seq2SeqLSTMConfig:
    """hidden_dim: LSTM state size; num_layers: encoder and decoder layers
    each; num_heads: heads of the attention over the encoder's outputs;
    dropout: after each decoder layer.

    embedding_dim: token embedding size; None: `hidden_dim`.
    attention: attend over the encoder's outputs (False: the decoder sees
        the source only through its states, Sutskever et al. 2014).
    decoder_input: `"targets"`: the previous target token (teacher forcing
        in training, the model's own previous output in `greedy_decode`),
        the decoder starting from the encoder's final states;
        `"encoder_output"`: the encoder's final output at every step, the
        decoder starting from zeros (keras-io addition_rnn's RepeatVector;
        the decoder inputs are then ignored).
    """

    hidden_dim: int = 64
    num_layers: int = 1
    num_heads: int = 1
    dropout: float = 0.0
    embedding_dim: Optional[int] = None
    attention: bool = True
    decoder_input: str = "targets"

    def __post_init__(self):
        check_choice("decoder_input", self.decoder_input, DECODER_INPUTS)


def build_seq2seq_lstm(spec, config, name):
    check_fits(name, spec, ("tokens",), ("sequence",))
    if config.hidden_dim % config.num_heads:
        raise ValueError(
            "`hidden_dim` must divide by `num_heads`. Received: "
            f"hidden_dim={config.hidden_dim}, num_heads={config.num_heads}"
        )
    inputs = _inputs()
    embedding_dim = config.embedding_dim or config.hidden_dim
    source_embed, target_embed = _embeddings(spec, embedding_dim, "none")
    encoded = source_embed(inputs["encoder_inputs"])
    states = []
    for i in range(config.num_layers):
        encoded, h, c = keras.layers.LSTM(
            config.hidden_dim, return_sequences=True, return_state=True,
            dropout=0.0, name=f"encoder_block_{i}",
        )(encoded)
        states.append([h, c])
    if config.decoder_input == "encoder_output":
        # (B, T, H): the encoder's last output at each of the target's steps
        x = keras.layers.RepeatVector(spec.target_length, name="decoder_repeat")(states[-1][0])
        states = [None] * config.num_layers
    else:
        x = target_embed(inputs["decoder_inputs"])
    for i in range(config.num_layers):
        x = keras.layers.LSTM(
            config.hidden_dim, return_sequences=True, name=f"decoder_block_{i}"
        )(x, initial_state=states[i])
        x = keras.layers.Dropout(config.dropout)(x)
    if config.attention:
        context = layers.MultiHeadAttention(
            config.num_heads, config.hidden_dim // config.num_heads,
            name="decoder_block_attention",
        )(x, encoded)
        x = keras.layers.Concatenate()([x, context])
        x = keras.layers.Dense(config.hidden_dim, activation="tanh",
                               name="decoder_block_attention_combine")(x)
    return keras.Model(inputs, _head(spec, x), name=name)


def _lstm_steps(model):
    """`(encoder, embedding, cells, head)` of a `seq2seq_lstm` model whose
    decoder feeds back its tokens without attention, so that it can decode
    one step at a time; None for any other model."""
    names = {layer.name for layer in model.layers}
    if ("decoder_block_0" not in names or "decoder_block_attention" in names
            or "decoder_repeat" in names
            or not isinstance(model.get_layer("decoder_block_0"), keras.layers.LSTM)):
        return None
    num_layers = sum(name.startswith("decoder_block_") for name in names)
    encoder = keras.Model(
        model.get_layer("encoder_embedding").input,
        [state for i in range(num_layers)
         for state in model.get_layer(f"encoder_block_{i}").output[1:]],
    )
    cells = [model.get_layer(f"decoder_block_{i}").cell for i in range(num_layers)]
    return encoder, model.get_layer("decoder_embedding"), cells, model.get_layer("head")


def _greedy_decode_lstm(steps, encoder_inputs, target_length, batch_size):
    """Greedy decoding carrying the LSTM states: one step per output, the
    same ids as re-running the whole decoder. A fed-back padding id 0 is
    skipped, as the decoder's mask skips it on TensorFlow and JAX (torch
    zeroes masked steps instead); no scored step depends on it, since a 0
    at a scored step is already wrong."""
    encoder, embedding, cells, head = steps
    chunks = [encoder(encoder_inputs[start:start + batch_size], training=False)
              for start in range(0, len(encoder_inputs), batch_size)]  # no retracing
    flat = [np.concatenate([keras.ops.convert_to_numpy(chunk[k]) for chunk in chunks])
            for k in range(2 * len(cells))]
    states = [[flat[2 * i], flat[2 * i + 1]] for i in range(len(cells))]  # (h, c) per layer
    n = len(encoder_inputs)
    tokens = np.full((n, 1), START_TOKEN, dtype="int32")
    outputs = np.zeros((n, target_length), dtype="int32")
    logits = None
    for t in range(target_length):
        x = embedding(tokens)[:, 0]  # (N, E)
        new_states = []
        for cell, state in zip(cells, states):
            x, state = cell(x, state, training=False)
            new_states.append([keras.ops.convert_to_numpy(v) for v in state])
        new_logits = keras.ops.convert_to_numpy(head(x))
        if embedding.mask_zero and logits is not None:
            step = tokens[:, 0] > 0  # masked steps keep the states and the last output
            new_logits = np.where(step[:, None], new_logits, logits)
            new_states = [[np.where(step[:, None], new, old) for new, old in zip(pair, before)]
                          for pair, before in zip(new_states, states)]
        logits, states = new_logits, new_states
        outputs[:, t] = logits.argmax(axis=-1)
        tokens = outputs[:, t:t + 1]
    return outputs


def greedy_decode(model, encoder_inputs, target_length, batch_size=256):
    """Generate target sequences one step at a time, feeding back the argmax.

    Returns `(N, target_length)` int32 ids. The decoder never sees the true
    targets, so exact-match accuracy on this output is honest.

    The decoders are causal, so step `t` is predicted from the first steps
    of the decoder inputs only: the next power of two >= t + 1 of them (a
    few input shapes to compile, about half the work of the whole width).
    An LSTM decoder without attention carries its states instead, one step
    per output.
    """
    encoder_inputs = np.asarray(encoder_inputs)
    steps = _lstm_steps(model)
    if steps is not None:
        return _greedy_decode_lstm(steps, encoder_inputs, target_length, batch_size)
    n = len(encoder_inputs)
    decoder_inputs = np.zeros((n, target_length), dtype="int32")
    decoder_inputs[:, 0] = START_TOKEN
    outputs = np.zeros((n, target_length), dtype="int32")
    for t in range(target_length):
        width = min(target_length, 1 << t.bit_length())  # >= t + 1 steps
        logits = model.predict(
            {"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs[:, :width]},
            batch_size=batch_size, verbose=0,
        )
        outputs[:, t] = logits[:, t].argmax(axis=-1)
        if t + 1 < target_length:
            decoder_inputs[:, t + 1] = outputs[:, t]
    return outputs


register_family(
    "seq2seq_transformer",
    Seq2SeqTransformerConfig,
    build_seq2seq_transformer,
    presets={**SIZES, "tiny": {**SIZES["tiny"], "num_layers": 1}},
    description="Transformer encoder-decoder (Vaswani et al. 2017)",
)
register_family(
    "seq2seq_lstm",
    Seq2SeqLSTMConfig,
    build_seq2seq_lstm,
    presets={
        "tiny": {"hidden_dim": 16, "num_layers": 1},
        "small": {"hidden_dim": 96, "num_layers": 1},
        "base": {"hidden_dim": 384, "num_layers": 2},
    },
    description="LSTM encoder-decoder with attention (Luong et al. 2015)",
)
