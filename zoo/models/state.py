"""State sizes of the families registered before `state_size` existed.

The floats a model carries per sequence while generating one step at a
time (Zoology's "state size"). Rules take `(config, lengths)`; see
`registry.register_family`. Newer families state theirs where they register.
"""

from zoo.models import recurrent, seq2seq, transformer, vit  # noqa: F401 (registered first)
from zoo.models.registry import set_state_size


def _directions(config):
    return 2 if getattr(config, "bidirectional", False) else 1


def _rnn(config, lengths):
    """h per layer (and direction)."""
    return config.num_layers * _directions(config) * config.hidden_dim


def _lstm(config, lengths):
    """h and c per layer (and direction)."""
    return 2 * config.num_layers * _directions(config) * config.hidden_dim


def _attention_cache(config, positions):
    """Keys and values of every position, in every layer: 2 x T x d x layers."""
    return 2 * positions * config.hidden_dim * config.num_layers


def _transformer(config, lengths):
    return _attention_cache(config, lengths["sequence"])


def _vit(config, lengths):
    """The cache over the patches (and the class token)."""
    image_shape = lengths["image_shape"]
    if image_shape is None:
        tokens = lengths["sequence"]
    else:
        height, width = image_shape[:2]
        tokens = (height // config.patch_size) * (width // config.patch_size)
        tokens += config.pooling == "cls"
    return _attention_cache(config, tokens)


def _seq2seq_transformer(config, lengths):
    """The decoder's self-attention cache over the target, and the keys and
    values of the encoder's outputs that its cross-attention reads."""
    return _attention_cache(config, lengths["target"] + lengths["sequence"])


def _seq2seq_lstm(config, lengths):
    """The decoder's h and c per layer, and the attention's keys and values
    over the encoder's outputs (2 x S x hidden)."""
    return 2 * config.num_layers * config.hidden_dim + 2 * lengths["sequence"] * config.hidden_dim


for _name, _rule in {
    "rnn": _rnn,
    "gru": _rnn,
    "lstm": _lstm,
    "transformer": _transformer,
    "transformer_decoder": _transformer,
    "vit": _vit,
    "seq2seq_transformer": _seq2seq_transformer,
    "seq2seq_lstm": _seq2seq_lstm,
}.items():
    set_state_size(_name, _rule)
