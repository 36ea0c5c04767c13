"""Reusable, serializable, backend-agnostic Keras layers.

    from zoo import layers
    x = layers.TokenAndPositionEmbedding(20000, 200, 64, mask_zero=True)(tokens)
    x = layers.TransformerEncoderBlock(num_heads=4, intermediate_dim=128)(x)
    x = layers.SequencePooling("mean")(x)
"""

from zoo.layers.attention import MultiHeadAttention, causal_mask
from zoo.layers.embedding import (
    FeatureAndPositionEmbedding,
    PositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
)
from zoo.layers.linear_attention import LinearAttention
from zoo.layers.lru import LRU
from zoo.layers.mamba import Mamba
from zoo.layers.min_rnn import MinGRU, MinLSTM
from zoo.layers.mixer_block import MixerBlock
from zoo.layers.normalization import normalization
from zoo.layers.pooling import SequencePooling
from zoo.layers.recurrent import RecurrentBlock
from zoo.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock
from zoo.layers.vision import PatchEmbedding

__all__ = [
    "FeatureAndPositionEmbedding",
    "LRU",
    "LinearAttention",
    "Mamba",
    "MinGRU",
    "MinLSTM",
    "MixerBlock",
    "MultiHeadAttention",
    "PatchEmbedding",
    "PositionEmbedding",
    "RecurrentBlock",
    "RotaryEmbedding",
    "SequencePooling",
    "SinusoidalPositionEncoding",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "causal_mask",
    "normalization",
]
