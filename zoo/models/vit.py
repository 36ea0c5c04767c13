"""Vision Transformer (Dosovitskiy et al. 2021): patches -> Transformer encoder.

Pre-norm encoder blocks over `PatchEmbedding` (class token + learned
positions), a final LayerNorm, and the class token's state as the pooled
representation.
"""

import dataclasses
from typing import TYPE_CHECKING

from zoo import lazy
from zoo.models.registry import register_family
from zoo.models.skeleton import check_fits, head, model_inputs
from zoo.models.transformer import encoder_blocks, final_norm

if TYPE_CHECKING:  # loaded on first use (zoo.lazy): listing models loads no backend
    import keras

    from zoo import layers
else:
    keras = lazy.module("keras")
    layers = lazy.module("zoo.layers")


@dataclasses.dataclass(frozen=True)
class ViTConfig:
    """patch_size: side of the square patches (must divide the image);
    hidden_dim, num_layers, num_heads, intermediate_dim, dropout, norm,
    normalize_first: as for `transformer`; position: `"learned"`,
    `"sinusoidal"` or `"none"`; pooling: `"cls"` (class token) or `"mean"`."""

    patch_size: int = 4
    hidden_dim: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_dim: int = 128
    dropout: float = 0.0
    normalize_first: bool = True
    norm: str = "layer"
    position: str = "learned"
    pooling: str = "cls"


def build_vit(spec, config, name):
    check_fits(name, spec, ("image",), ("class", "regression"))
    inputs = model_inputs(spec)
    x = layers.PatchEmbedding(
        config.patch_size, config.hidden_dim, class_token=config.pooling == "cls",
        position=config.position, name="embedding",
    )(inputs)
    for block in encoder_blocks(config):
        x = block(x)
    norm = final_norm(config)
    if norm is not None:
        x = norm(x)
    return keras.Model(inputs, head(spec, x, config.pooling), name=name)


register_family(
    "vit",
    ViTConfig,
    build_vit,
    presets={
        "tiny": {"patch_size": 4, "hidden_dim": 16, "num_layers": 2, "num_heads": 2,
                 "intermediate_dim": 32},
        "small": {"patch_size": 4, "hidden_dim": 64, "num_layers": 2, "num_heads": 4,
                  "intermediate_dim": 128},
        "base": {"patch_size": 4, "hidden_dim": 256, "num_layers": 4, "num_heads": 4,
                 "intermediate_dim": 1024},
    },
    description="Vision Transformer (Dosovitskiy et al. 2021)",
)
