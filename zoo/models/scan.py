"""Recurrent families that train with a parallel scan: `lru`, `mingru`,
`minlstm`, `mamba`.

Stacks of pre-norm residual `MixerBlock`s over an embedding without
positions (the recurrence orders the steps), a final norm, and the last real
step as the pooled state for one label per sequence. Every family is causal
by construction, so each fits causal tasks too. The blocks follow the papers:

    lru:      x + GLU(GELU(LRU(LayerNorm(x))))          Orvieto et al. 2023
    mingru,
    minlstm:  x + minRNN(LayerNorm(x)), then x + MLP(LayerNorm(x))   Feng et al. 2024
    mamba:    x + Mamba(RMSNorm(x))                      Gu & Dao 2023

Presets match the Transformer's mixer parameter count at each size (within
10 %): tiny ~4.4k, small ~67k, base ~3.2M.
"""

import dataclasses
import math
from typing import TYPE_CHECKING

from zoo import lazy
from zoo.models.registry import register_family
from zoo.models.skeleton import PER_EXAMPLE, build_sequence_model, check_fits, embedding

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): listing models loads no backend
    import keras

    from zoo import layers
else:
    keras = lazy.module("keras")
    layers = lazy.module("zoo.layers")

OUTPUTS = PER_EXAMPLE + ("class_per_position",)


@dataclasses.dataclass(frozen=True)
class LRUConfig:
    """hidden_dim: model width H; state_dim: N complex states per layer;
    r_min, r_max, max_phase: the ring initialisation; num_layers, dropout;
    pooling: `"last"`, `"mean"` or `"max"` for per-example heads."""

    hidden_dim: int = 64
    num_layers: int = 2
    state_dim: int = 96
    r_min: float = 0.9
    r_max: float = 0.999
    max_phase: float = 2 * math.pi
    dropout: float = 0.0
    pooling: str = "last"


@dataclasses.dataclass(frozen=True)
class MinRNNConfig:
    """hidden_dim: model width; units: recurrent state per layer (the
    paper's expansion); intermediate_dim: MLP size; num_layers, dropout,
    pooling as for `lru`."""

    hidden_dim: int = 64
    num_layers: int = 2
    units: int = 64
    intermediate_dim: int = 128
    dropout: float = 0.0
    pooling: str = "last"


@dataclasses.dataclass(frozen=True)
class MambaConfig:
    """hidden_dim: model width D; state_dim: N per channel; expand: E (inner
    channels E x D); conv_kernel: causal conv width; dt_rank: `"auto"`
    (ceil(D / 16)) or an int; num_layers, dropout, pooling as for `lru`."""

    hidden_dim: int = 64
    num_layers: int = 2
    state_dim: int = 16
    expand: int = 2
    conv_kernel: int = 4
    dt_rank: object = "auto"
    dropout: float = 0.0
    pooling: str = "last"


def _lru_block(config, i):
    options = {"state_dim": config.state_dim, "r_min": config.r_min,
               "r_max": config.r_max, "max_phase": config.max_phase}
    return layers.MixerBlock("lru", options, feedforward="glu", norm="layer",
                             dropout=config.dropout, name=f"block_{i}")


def _min_rnn_block(kind):
    def block(config, i):
        return layers.MixerBlock(
            kind, {"units": config.units}, feedforward="mlp",
            intermediate_dim=config.intermediate_dim, norm="layer",
            dropout=config.dropout, name=f"block_{i}",
        )

    return block


def _mamba_block(config, i):
    options = {"state_dim": config.state_dim, "expand": config.expand,
               "conv_kernel": config.conv_kernel, "dt_rank": config.dt_rank}
    return layers.MixerBlock("mamba", options, feedforward="none", norm="rms",
                             dropout=config.dropout, name=f"block_{i}")


def _builder(make_block, norm):
    def build(spec, config, name):
        check_fits(name, spec, ("tokens", "features"), OUTPUTS)
        blocks = [make_block(config, i) for i in range(config.num_layers)]
        # passes the padding mask on to the pooling
        final_norm = layers.normalization(norm, epsilon=1e-5, name="final_norm")
        embed = embedding(spec, config.hidden_dim, "none")
        return build_sequence_model(spec, name, embed, blocks, config.pooling, final_norm)

    return build


def _per_layer(config, floats_per_layer):
    return config.num_layers * floats_per_layer


register_family(
    "lru", LRUConfig, _builder(_lru_block, "layer"),
    presets={
        "tiny": {"hidden_dim": 16, "state_dim": 24, "num_layers": 2},
        "small": {"hidden_dim": 64, "state_dim": 96, "num_layers": 2},
        "base": {"hidden_dim": 256, "state_dim": 256, "num_layers": 8},
    },
    description="Linear Recurrent Unit, diagonal complex recurrence (Orvieto et al. 2023)",
    state_size=lambda config, lengths: _per_layer(config, 2 * config.state_dim),
)
for _kind, _units, _description in (
    ("mingru", (21, 85, 341), "minGRU, input-only gates, log-space scan (Feng et al. 2024)"),
    ("minlstm", (16, 64, 256), "minLSTM, input-only gates, log-space scan (Feng et al. 2024)"),
):
    register_family(
        _kind, MinRNNConfig, _builder(_min_rnn_block(_kind), "layer"),
        presets={
            "tiny": {"hidden_dim": 16, "units": _units[0], "intermediate_dim": 32},
            "small": {"hidden_dim": 64, "units": _units[1], "intermediate_dim": 128},
            "base": {"hidden_dim": 256, "units": _units[2], "intermediate_dim": 1024,
                     "num_layers": 4},
        },
        description=_description,
        state_size=lambda config, lengths: _per_layer(config, config.units),
    )


def _mamba_state_size(config, lengths):
    """SSM state (E*D x N) and conv window (E*D x (K - 1)) per layer."""
    inner = int(config.expand * config.hidden_dim)
    return _per_layer(config, inner * (config.state_dim + config.conv_kernel - 1))


register_family(
    "mamba", MambaConfig, _builder(_mamba_block, "rms"),
    presets={
        "tiny": {"hidden_dim": 16, "state_dim": 4, "num_layers": 2},
        "small": {"hidden_dim": 64, "state_dim": 16, "num_layers": 2},
        "base": {"hidden_dim": 256, "state_dim": 16, "num_layers": 7},
    },
    description="Mamba, selective state space model (Gu & Dao 2023)",
    state_size=_mamba_state_size,
)
