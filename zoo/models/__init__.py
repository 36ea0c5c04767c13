"""Model families on one skeleton, and a registry of named presets.

    import zoo.models
    zoo.models.names("lstm_*")                  # ['lstm_base', 'lstm_small', 'lstm_tiny']
    model = zoo.models.get("lstm_small", task.spec, hidden_dim=96)
    zoo.models.state_size("mamba_small", task.spec)   # floats carried per sequence
"""

from zoo.models import (  # noqa: F401 (register)
    linear_transformer,
    recurrent,
    scan,
    seq2seq,
    state,
    transformer,
    vit,
)
from zoo.models.recommended import RECOMMENDED, recommended
from zoo.models.registry import (
    SIZES,
    check_fits,
    config,
    families,
    get,
    names,
    parse,
    state_size,
)
from zoo.models.seq2seq import greedy_decode
from zoo.models.skeleton import IncompatibleTaskError, count_params

__all__ = [
    "RECOMMENDED",
    "SIZES",
    "IncompatibleTaskError",
    "check_fits",
    "config",
    "count_params",
    "families",
    "get",
    "greedy_decode",
    "names",
    "parse",
    "recommended",
    "state_size",
]
