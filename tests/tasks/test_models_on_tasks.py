"""Any model runs on any task it can fit: every tiny model either trains a
step on a tiny version of each task or refuses it with
`IncompatibleTaskError`, never another error."""

import keras
import numpy as np
import pytest
from task_test_helpers import CIFAR_TASKS, REAL_TASKS, tiny

import zoo.models
import zoo.tasks

# One step of 8 examples; the real datasets at their own lengths (784 steps
# for smnist), the synthetic ones short.
TASKS = {
    "adding": {}, "copying": {}, "selective_copying": {}, "associative_recall": {},
    "induction_heads": {}, "listops": {}, "repeat_lm": {}, "reverse": {}, "sort": {}, "addition": {},
    "smnist": {}, "imdb": {}, "mnist_image": {}, "cifar10_image": {}, "scifar": {},
}
assert set(TASKS) <= set(zoo.tasks.names())
# One eager step is cheaper than compiling one on TensorFlow and PyTorch, but
# not over the 784 steps of sequential MNIST (gru_tiny: 34 s eager, 9 s
# compiled on TensorFlow); on JAX one compiled step is always cheaper.
EAGER = keras.backend.backend() != "jax"
LONG = 256


@pytest.fixture(scope="module")
def built(request):
    """Each tiny task built once per module (8 training examples)."""
    cache = {}

    def get(name):
        if name not in cache:
            knobs = dict(num_train=8, num_validation=8, num_test=8)
            if name in REAL_TASKS:
                knobs["data_dir"] = str(request.getfixturevalue("data_dir"))
            task = tiny(name, **knobs)
            cache[name] = (task, task.build(seed=0))
        return cache[name]

    return get


# CIFAR-10 goes through the same model code as MNIST: two models suffice.
CASES = [(model, task) for model in zoo.models.names("*_tiny") for task in sorted(TASKS)
         if task not in CIFAR_TASKS or model in ("vit_tiny", "transformer_tiny")]


@pytest.mark.parametrize("model_name,task_name", CASES)
def test_tiny_model_trains_a_step_or_refuses_the_task(model_name, task_name, built):
    task, data = built(task_name)
    keras.utils.set_random_seed(0)
    try:
        model = zoo.models.get(model_name, task.spec)
    except zoo.models.IncompatibleTaskError:
        return
    eager = EAGER and _length(data.train.inputs) < LONG
    model.compile(optimizer="adam", loss=task.spec.loss(), run_eagerly=eager)
    history = model.fit(**data.train.fit_kwargs(), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def _length(inputs):
    """The sequence length of a batch of inputs (a dict for some tasks)."""
    first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
    return first.shape[1] if first.ndim > 1 else 1
