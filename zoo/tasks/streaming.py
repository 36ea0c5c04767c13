"""Fresh batches of a synthetic task, generated on the fly."""

import keras

from zoo.tasks.seeds import stream_rng


class SyntheticStream(keras.utils.PyDataset):
    """An endless supply of training batches as a `keras.utils.PyDataset`.

    Batch `i` of a stream is drawn from its own generator seeded by
    `(seed, i)`, so the stream is reproducible and independent of the order
    in which workers ask for batches. It never overlaps the evaluation splits
    of `task.build(seed)` (a different `SeedSequence` branch).
    """

    def __init__(self, task, seed, batch_size, steps_per_epoch, **kwargs):
        super().__init__(**kwargs)
        self.task = task
        self.seed = int(seed)
        self.batch_size = int(batch_size)
        self.steps_per_epoch = int(steps_per_epoch)

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rng = stream_rng(self.seed, index)
        inputs, targets, weights, _ = self.task.generate(rng, self.batch_size)
        return (inputs, targets) if weights is None else (inputs, targets, weights)
