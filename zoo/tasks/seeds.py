"""The random streams of the tasks: one per split, one per streamed batch.

Each is drawn from `numpy.random.SeedSequence(seed)` with the split (or the
batch) in its spawn key, so train, validation, test and streamed batches
never share a stream, whatever seeds a user picks.
"""

import numpy as np

_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_STREAM_ID = 3  # fresh training batches, also disjoint from the evaluation splits
# masks of self-pretraining (training batches, and the validation inputs it is scored on)
_SPLIT_IDS.update({"pretrain": 4, "pretrain_validation": 5})
_ZOO_KEY = 0x5EED  # first spawn-key word of every stream the tasks draw


def split_rng(seed, split, *subkeys):
    """The generator of one split; different splits never share a stream.

    `subkeys` (integers) branch further streams off a split, e.g. test sets
    at other lengths: `split_rng(seed, "test", 512)`.

    The split goes into the `spawn_key`, not the entropy, so no split's stream
    equals `numpy.random.default_rng(seed)` either (NumPy pads entropy with
    zeros, so `SeedSequence([seed, 0])` would be the same as `seed`).
    """
    return np.random.default_rng(
        np.random.SeedSequence(
            int(seed), spawn_key=(_ZOO_KEY, _SPLIT_IDS[split], *map(int, subkeys))
        )
    )


def stream_rng(seed, batch_index):
    """The generator of streamed training batch `batch_index`."""
    return np.random.default_rng(
        np.random.SeedSequence(int(seed), spawn_key=(_ZOO_KEY, _STREAM_ID, int(batch_index)))
    )
