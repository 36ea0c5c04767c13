"""Claim 4, positional encoding: no position information, sinusoidal, learned
and rotary positions, on two order-sensitive tasks: `copying` (the answer
is the symbols in order; the bidirectional Transformer) and
`induction_heads` (the causal decoder, which learns it within the budget
where the encoder did not) trained at one length and tested at longer
ones (length generalisation; learned positions past the training length
are never trained).
"""

from zoo.experiments import _claims

DESCRIPTION = "claim 4: positions none/sinusoidal/learned/rotary on copying and induction_heads"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS  # the rate chosen on seed 0, seeds 1-2 there
POSITIONS = ("none", "sinusoidal", "learned", "rotary")
TASKS = {
    # task -> (family, knobs, budget) per profile
    "quick": {
        "copying": ("transformer", {"sequence_length": 20, "num_train": 6400,
                                    "num_validation": 512, "num_test": 1024},
                    {"steps": 300, "batch_size": 64}),
        "induction_heads": ("transformer_decoder",
                            {"sequence_length": 32, "test_lengths": (32, 64, 128, 256),
                             "num_train": 12800, "num_validation": 500, "num_test": 1000},
                            {"steps": 1200, "batch_size": 64}),
    },
    "full": {
        "copying": ("transformer", {"sequence_length": 1000, "num_train": 32000}, {}),
        "induction_heads": ("transformer_decoder",
                            {"sequence_length": 256, "num_train": 32000}, {}),
    },
}


def runs(profile="quick"):
    _claims.check_profile(profile)
    return _claims.with_seeds([
        _claims.run(f"{family}_{_claims.SIZE[profile]}", task, knobs, profile,
                    {"position": position}, **budget)
        for task, (family, knobs, budget) in TASKS[profile].items()
        for position in POSITIONS
    ])
