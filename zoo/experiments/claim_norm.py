"""Claim 6, normalisation: LayerNorm vs BatchNorm vs RMSNorm, each before
(pre-norm) and after (post-norm, the original) the residual branches, on
`imdb` (words, variable lengths, padding) and `listops` (symbols, nesting).
"""

from zoo.experiments import _claims
from zoo.names import NORMS

DESCRIPTION = "claim 6: layer/batch/rms norm x pre/post on imdb and listops"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS  # the rate chosen on seed 0, seeds 1-2 there

PLACES = (False, True)  # normalize_first


def runs(profile="quick"):
    _claims.check_profile(profile)
    model = f"transformer_{_claims.SIZE[profile]}"
    listed = []
    for task, knobs in (("imdb", _claims.IMDB[profile]),
                        ("listops", _claims.LISTOPS[profile])):
        for norm in NORMS:
            for first in PLACES:
                listed.append(_claims.run(model, task, knobs, profile,
                                          {"norm": norm, "normalize_first": first}))
    return _claims.with_seeds(listed)
