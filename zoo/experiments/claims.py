"""claims: every claim experiment at once (`claim_*.py`); `zoo report claims`
turns their records (with those of `long_range` and `speed`) into
`results/claims.md`.

Claims 1 (long range) and 3 (parallelism and O(n^2)) are read from the
`long_range` and `speed` (`zoo bench`) records; the rest train here. A run
two claims share (the default Transformer on listops) is listed once.
"""

from zoo.experiments import (
    _claims,
    claim_gradients,
    claim_heads,
    claim_masking,
    claim_norm,
    claim_positions,
    claim_pretraining,
    claim_vit,
)
from zoo.runner import expand

DESCRIPTION = "claims 2 and 4-9 (gradients, positions, heads, norm, masking, pretraining, vit)"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS
CLAIMS = (claim_gradients, claim_positions, claim_heads, claim_norm, claim_masking,
          claim_pretraining, claim_vit)


def runs(profile="quick"):
    listed, seen = [], set()
    for claim in CLAIMS:
        for run in (one for listed_run in claim.runs(profile) for one in expand(listed_run)):
            if run.run_id not in seen:
                seen.add(run.run_id)
                listed.append(run)
    return listed
