"""Claim 9, ViT carries attention to images: ViT on `mnist_image` (16 patches
of 7x7) against an LSTM and a Transformer reading the same digits as 784
pixels (`smnist`), at equal mixer parameters and equal steps; accuracy and
time to accuracy (validation every 100 steps).
"""

from zoo.experiments import _claims

DESCRIPTION = "claim 9: vit on mnist_image vs lstm/transformer on smnist, equal budget"
SELECT_ON_SEEDS = _claims.SELECT_ON_SEEDS  # the rate chosen on seed 0, seeds 1-2 there
SIZES = {
    "quick": ({"num_train": 3200, "num_validation": 500, "num_test": 2000},
              {"steps": 300, "batch_size": 32}),
    "full": ({}, {"steps": 10000}),
}
MODELS = (("vit", "mnist_image"), ("lstm", "smnist"), ("transformer", "smnist"))


def runs(profile="quick"):
    _claims.check_profile(profile)
    knobs, budget = SIZES[profile]
    return _claims.with_seeds([
        _claims.run(f"{family}_{_claims.SIZE[profile]}", task, knobs, profile, **budget)
        for family, task in MODELS
    ])
