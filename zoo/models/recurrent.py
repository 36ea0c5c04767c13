"""Recurrent families: `rnn` (tanh SimpleRNN), `lstm`, `gru`.

Stacked `RecurrentBlock`s over an embedding without positions (recurrence
orders the steps itself). For one label per sequence with `pooling="last"`,
the top block returns its final state, which is mask-aware and, when
bidirectional, joins the forward state at the end with the backward state at
the start.

Presets match the Transformer's mixer parameter count at each size (within
10 %): tiny ~4.4k, small ~67k, base ~3.2M (the LRA text Transformer).
"""

import dataclasses
from typing import TYPE_CHECKING, Optional

from zoo import lazy
from zoo.models.registry import register_family
from zoo.models.skeleton import (
    PER_EXAMPLE,
    build_sequence_model,
    check_fits,
    embedding,
    head_options,
)

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): listing models loads no backend
    from zoo import layers
else:
    layers = lazy.module("zoo.layers")


@dataclasses.dataclass(frozen=True)
class RecurrentConfig:
    """Hyperparameters of a recurrent model.

    hidden_dim: state size per layer (per direction when bidirectional).
    num_layers: stacked recurrent layers.
    embedding_dim: input embedding size; defaults to `hidden_dim`.
    bidirectional: also read right to left (not for causal tasks).
    dropout: dropout after each recurrent layer.
    pooling: `"last"` (final state), `"mean"` or `"max"` for per-example heads.
    mask_padding: skip the padding id 0 of tasks that mark it (False: read
        it like any token, as keras-io's IMDB BiLSTM does).
    head_units, head_dropout: a ReLU layer of that size before the output,
        and dropout before it and the output (defaults: neither).
    """

    hidden_dim: int = 64
    num_layers: int = 2
    embedding_dim: Optional[int] = None
    bidirectional: bool = False
    dropout: float = 0.0
    pooling: str = "last"
    mask_padding: bool = True
    head_units: Optional[int] = None
    head_dropout: float = 0.0


def _builder(kind):
    def build(spec, config, name):
        check_fits(name, spec, ("tokens", "features"), PER_EXAMPLE + ("class_per_position",),
                   bidirectional=config.bidirectional)
        final_state = spec.output_kind in PER_EXAMPLE and config.pooling == "last"
        blocks = [
            layers.RecurrentBlock(
                kind,
                config.hidden_dim,
                bidirectional=config.bidirectional,
                return_sequences=not (final_state and i == config.num_layers - 1),
                dropout=config.dropout,
                name=f"block_{i}",
            )
            for i in range(config.num_layers)
        ]
        embed = embedding(spec, config.embedding_dim or config.hidden_dim, "none",
                          config.mask_padding)
        return build_sequence_model(spec, name, embed, blocks, config.pooling,
                                    head_kwargs=head_options(config))

    return build


# hidden sizes chosen so the mixer parameter counts match the transformer's
_HIDDEN = {"rnn": (33, 128, 628), "lstm": (16, 64, 314), "gru": (19, 74, 362)}
_DESCRIPTIONS = {
    "rnn": "stacked SimpleRNN (tanh), Elman 1990",
    "lstm": "stacked LSTM, Hochreiter & Schmidhuber 1997",
    "gru": "stacked GRU, Cho et al. 2014",
}

for _kind, (_tiny, _small, _base) in _HIDDEN.items():
    register_family(
        _kind,
        RecurrentConfig,
        _builder(_kind),
        presets={
            "tiny": {"hidden_dim": _tiny, "num_layers": 2},
            "small": {"hidden_dim": _small, "num_layers": 2},
            "base": {"hidden_dim": _base, "num_layers": 4},
        },
        description=_DESCRIPTIONS[_kind],
    )
