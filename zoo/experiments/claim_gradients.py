"""Claim 2, vanishing gradients, measured: the norm of d loss / d x_t by the
distance between step t and the output, for rnn / lstm / gru / transformer,
at initialisation and after training (probe `gradients`), on `adding` at the
longest quick length of `long_range` with its budget.
"""

from zoo.experiments import _claims, long_range

DESCRIPTION = "claim 2: gradient norm by distance, rnn/lstm/gru/transformer on adding, 3 seeds"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS  # the rate chosen on seed 0, seeds 1-2 there
FAMILIES = ("rnn", "lstm", "gru", "transformer")
LENGTH = {"quick": 100, "full": 1000}
# the long_range budget, so these runs match its adding rows
BUDGET = long_range.BUDGET


def runs(profile="quick"):
    _claims.check_profile(profile)
    budget = dict(BUDGET[profile])
    knobs = {"sequence_length": LENGTH[profile], **budget.pop("sizes")}
    return _claims.with_seeds([
        _claims.run(f"{family}_{_claims.SIZE[profile]}", "adding", knobs, profile,
                    probes=("gradients",), learning_rate=long_range.LEARNING_RATES[profile],
                    **budget)
        for family in FAMILIES
    ])
