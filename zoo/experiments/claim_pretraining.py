"""Claim 8, pretraining then fine-tuning: masked-token self-pretraining on
the task's own training inputs (Amos et al. 2023), saved to and reloaded
from `.keras`, then fine-tuning; against training from scratch with the
same fine-tuning budget. On `listops` and `imdb_bytes`.
"""

from zoo.experiments import _claims

DESCRIPTION = "claim 8: self-pretrained vs from-scratch Transformer on listops and imdb_bytes"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS  # the rate chosen on seed 0, seeds 1-2 there
PRETRAIN_STEPS = {"quick": 400, "full": 5000}


def runs(profile="quick"):
    _claims.check_profile(profile)
    model = f"transformer_{_claims.SIZE[profile]}"
    listed = []
    for task, knobs in (("listops", _claims.LISTOPS[profile]),
                        ("imdb_bytes", _claims.IMDB_BYTES[profile])):
        listed.append(_claims.run(model, task, knobs, profile))
        listed.append(_claims.run(model, task, knobs, profile,
                                  pretrain_steps=PRETRAIN_STEPS[profile]))
    return _claims.with_seeds(listed)
