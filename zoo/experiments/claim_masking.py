"""Claim 7, masked attention keeps a decoder autoregressive: the same
decoder with and without the causal mask on the causal language-model task
`repeat_lm`, probed for leaks (do outputs change when later tokens change?)
and for greedy generation after training.
"""

from zoo.experiments import _claims

DESCRIPTION = "claim 7: decoder with / without the causal mask on repeat_lm (leak, generation)"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS  # the rate chosen on seed 0, seeds 1-2 there
TASK = {
    "quick": ({"prefix_length": 16, "vocabulary_size": 16, "num_train": 12800,
               "num_validation": 500, "num_test": 1000},
              {"steps": 600, "batch_size": 64}),
    "full": ({"prefix_length": 512, "vocabulary_size": 256, "num_train": 32000}, {}),
}


def runs(profile="quick"):
    _claims.check_profile(profile)
    model = f"transformer_decoder_{_claims.SIZE[profile]}"
    knobs, budget = TASK[profile]
    return _claims.with_seeds([
        # the control: mask off, and the task told to accept a model that sees the future
        _claims.run(model, "repeat_lm", {**knobs, "causal": causal}, profile,
                    {"causal": causal}, probes=("leak", "generation"), **budget)
        for causal in (True, False)
    ])
