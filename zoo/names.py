"""Names every stage shares, defined once: backends, profiles, precisions,
sizes, the order families are listed in, and how a model name splits.

A leaf module (no imports from the zoo, no Keras), so the registry, the
runner, the sweep, the benchmark and the reports all read the same tuples.
"""

BACKENDS = ("tensorflow", "jax", "torch")
PROFILES = ("quick", "full")  # quick: a 2-core CPU in minutes; full: an accelerator
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "bfloat16")  # Keras dtype policies
SIZES = ("tiny", "small", "base")
# Families in the order tables list them: recurrent loops, parallel-scan
# recurrences, attention, then encoder-decoders and images.
FAMILY_ORDER = (
    "rnn", "lstm", "gru",
    "lru", "mingru", "minlstm", "mamba", "linear_transformer",
    "transformer", "transformer_decoder",
    "seq2seq_lstm", "seq2seq_transformer", "vit",
)
RECURRENT_LOOPS = ("rnn", "lstm", "gru")  # the families whose training loops over time
# Position encodings: added to the embedding, or (rotary) applied inside attention.
EMBEDDED_POSITIONS = ("learned", "sinusoidal", "none")
POSITIONS = ("learned", "sinusoidal", "rotary", "none")
NORMS = ("layer", "batch", "rms")  # a Transformer block's normalisation
MIXER_NORMS = ("layer", "rms")  # a scan's residual block: no batch statistics
# how attention is computed (zoo.layers.MultiHeadAttention): auto picks fused
# or chunked by backend and length; chunked keeps memory linear in the length
ATTENTION_IMPLEMENTATIONS = ("auto", "fused", "chunked", "full")


def split_model_name(name):
    """`"transformer_decoder_small"` -> `("transformer_decoder", "small")`.

    Any name splits at its last underscore; whether the family and size are
    registered is the registry's business (`zoo.models.parse`).
    """
    family, _, size = str(name).rpartition("_")
    return family, size


def family_rank(family):
    """Sort key: the families of `FAMILY_ORDER` in that order, then others by name."""
    if family in FAMILY_ORDER:
        return (FAMILY_ORDER.index(family), "")
    return (len(FAMILY_ORDER), str(family))


def size_rank(size):
    return SIZES.index(size) if size in SIZES else len(SIZES)
