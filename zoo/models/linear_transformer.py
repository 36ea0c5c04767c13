"""`linear_transformer`: the Transformer with linear attention
(Katharopoulos et al. 2020, phi = elu + 1) in place of softmax attention.

Everything else is the `transformer` family's: the same sizes, the same
block with a feed-forward network (pre-norm by default, as the Transformer
presets are since issue 14), learned positions, mean pooling; so the two
differ only in their mixer. `causal=True` makes it a
recurrent model (a fixed-size state per head) that fits causal tasks.
"""

import dataclasses
from typing import TYPE_CHECKING

from zoo import lazy
from zoo.checks import check_choice
from zoo.models.registry import register_family
from zoo.models.skeleton import PER_EXAMPLE, build_sequence_model, check_fits, embedding
from zoo.models.transformer import SIZES
from zoo.names import EMBEDDED_POSITIONS as POSITIONS

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): listing models loads no backend
    import keras

    from zoo import layers
else:
    keras = lazy.module("keras")
    layers = lazy.module("zoo.layers")


@dataclasses.dataclass(frozen=True)
class LinearTransformerConfig:
    """hidden_dim, num_layers, num_heads, intermediate_dim, dropout,
    normalize_first: as for `transformer`; norm: `"layer"` or `"rms"`;
    position: `"learned"`, `"sinusoidal"` or `"none"`; causal: each step
    attends only to earlier steps; chunk_size: steps per chunk of the causal
    form; pooling: `"mean"`, `"max"` or `"last"`."""

    hidden_dim: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_dim: int = 128
    dropout: float = 0.0
    normalize_first: bool = True
    norm: str = "layer"
    position: str = "learned"
    causal: bool = False
    chunk_size: int = 64
    pooling: str = "mean"

    def __post_init__(self):
        check_choice("position", self.position, POSITIONS)


def build_linear_transformer(spec, config, name):
    check_fits(name, spec, ("tokens", "features"), PER_EXAMPLE + ("class_per_position",),
               bidirectional=not config.causal)
    options = {"num_heads": config.num_heads, "causal": config.causal,
               "chunk_size": config.chunk_size}
    blocks = [
        layers.MixerBlock(
            "linear_attention", options, feedforward="mlp",
            intermediate_dim=config.intermediate_dim, activation="relu",
            norm=config.norm, normalize_first=config.normalize_first,
            dropout=config.dropout, name=f"block_{i}",
        )
        for i in range(config.num_layers)
    ]
    final_norm = None
    if config.normalize_first:
        final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")
    embed = embedding(spec, config.hidden_dim, config.position)
    return build_sequence_model(spec, name, embed, blocks, config.pooling, final_norm)


def linear_attention_state_size(config, lengths):
    """S (d_k x d_v) and z (d_k) per head and layer; no growth with length."""
    head_dim = config.hidden_dim // config.num_heads
    return config.num_layers * config.num_heads * head_dim * (head_dim + 1)


register_family(
    "linear_transformer",
    LinearTransformerConfig,
    build_linear_transformer,
    presets=SIZES,
    description="Transformer with linear attention, phi = elu + 1 (Katharopoulos et al. 2020)",
    state_size=linear_attention_state_size,
)
