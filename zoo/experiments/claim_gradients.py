"""Claim 2, vanishing gradients, measured: the norm of d loss / d x_t by the
distance between step t and the output, for rnn / lstm / gru / transformer,
at initialisation and after training (probe `gradients`), on `adding` at the
longest quick length of `long_range` with its budget.
"""

from zoo.experiments import _claims

DESCRIPTION = "claim 2: gradient norm by distance, rnn/lstm/gru/transformer on adding, 3 seeds"
FAMILIES = ("rnn", "lstm", "gru", "transformer")
LENGTH = {"quick": 100, "full": 1000}
BUDGET = {
    # the long_range budget, so these runs match its adding rows
    "quick": {"steps": 300, "batch_size": 64, "learning_rate": 3e-3,
              "sizes": {"num_train": 6400, "num_validation": 512, "num_test": 1024}},
    "full": {"steps": 5000, "batch_size": 32, "learning_rate": 1e-3,
             "sizes": {"num_train": 32000, "num_validation": 1024, "num_test": 2048}},
}


def runs(profile="quick"):
    _claims.check_profile(profile)
    budget = dict(BUDGET[profile])
    knobs = {"sequence_length": LENGTH[profile], **budget.pop("sizes")}
    return _claims.with_seeds([
        _claims.run(f"{family}_{_claims.SIZE[profile]}", "adding", knobs, profile,
                    probes=("gradients",), schedule="constant", **budget)
        for family in FAMILIES
    ])
