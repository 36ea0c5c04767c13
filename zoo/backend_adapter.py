"""The one place under `zoo/` that touches backend modules.

Keras 3 has no backend-agnostic gradient API, yet the zoo needs gradients
outside `fit` (the "every weight gets a gradient" test, gradient-norm
diagnostics). Each function imports its backend lazily, so importing this
module pulls in no framework beyond Keras.
"""

import sys

import keras
import numpy as np


def backend():
    return keras.backend.backend()


def accelerator():
    """`(kind, name)` of the first accelerator the backend sees, or `("cpu", None)`."""
    name = backend()
    if name == "jax":
        import jax

        first = jax.devices()[0]
        if first.platform != "cpu":
            return first.platform, first.device_kind
    elif name == "torch":
        import torch

        if torch.cuda.is_available():
            return "gpu", torch.cuda.get_device_name(0)
    elif name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return "gpu", details.get("device_name", "GPU")
    return "cpu", None


def devices_holding(variable):
    """How many devices hold `variable` (several when replicated by
    `keras.distribution`, JAX backend); 1 elsewhere."""
    sharding = getattr(getattr(variable, "value", None), "sharding", None)
    device_set = getattr(sharding, "device_set", None)
    return len(device_set) if device_set else 1


def peak_host_memory_mb():
    """Peak resident memory of this process since the last reset, in MiB."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def reset_peak_host_memory():
    """Start a new peak-RSS window (Linux: `/proc/self/clear_refs`); False if impossible.

    Lets runs that share a process each report their own peak; memory a
    previous run left allocated still counts.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_device_memory_mb():
    """Peak memory allocated on the first accelerator so far, in MiB; None on CPU.

    CPU runs are measured by the process's peak resident memory instead.
    """
    name = backend()
    try:
        if name == "jax":
            import jax

            first = jax.devices()[0]
            if first.platform == "cpu":
                return None
            stats = first.memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
            return None if peak is None else peak / 2**20
        if name == "torch":
            import torch

            if not torch.cuda.is_available():
                return None
            return torch.cuda.max_memory_allocated() / 2**20
        if name == "tensorflow":
            import tensorflow as tf

            if not tf.config.list_physical_devices("GPU"):
                return None
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    except (RuntimeError, ValueError, KeyError):  # a backend without memory stats
        return None
    return None


def reset_peak_device_memory():
    """Start a new peak-memory window where the backend allows it (torch, TF)."""
    name = backend()
    if name == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
    elif name == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            tf.config.experimental.reset_memory_stats("GPU:0")


def loss_and_gradients(model, loss_fn, x, y, sample_weight=None, wrt_inputs=False):
    """Loss and gradients for one batch in training mode.

    Returns `(loss, grads)` as NumPy: `grads` aligned with
    `model.trainable_variables` (zeros where a weight gets no gradient), or,
    with `wrt_inputs=True`, the gradient with respect to `x` (float inputs).
    """
    name = backend()
    if name == "tensorflow":
        return _tensorflow(model, loss_fn, x, y, sample_weight, wrt_inputs)
    if name == "jax":
        return _jax(model, loss_fn, x, y, sample_weight, wrt_inputs)
    if name == "torch":
        return _torch(model, loss_fn, x, y, sample_weight, wrt_inputs)
    raise NotImplementedError(
        f"Gradients are implemented for tensorflow, jax and torch; backend={name!r}"
    )


def _numpy(values, variables):
    return [
        np.zeros(v.shape, dtype="float32") if g is None else np.asarray(keras.ops.convert_to_numpy(g))
        for g, v in zip(values, variables)
    ]


def _tensorflow(model, loss_fn, x, y, sample_weight, wrt_inputs):
    import tensorflow as tf

    variables = model.trainable_variables
    if wrt_inputs:
        x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        if wrt_inputs:
            tape.watch(x)
        loss = loss_fn(y, model(x, training=True), sample_weight=sample_weight)
    if wrt_inputs:
        return float(loss), tape.gradient(loss, x).numpy()
    grads = tape.gradient(loss, [v.value for v in variables])
    return float(loss), _numpy(grads, variables)


def _jax(model, loss_fn, x, y, sample_weight, wrt_inputs):
    import jax

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def compute(trainable_values, inputs):
        outputs, _ = model.stateless_call(trainable_values, non_trainable, inputs, training=True)
        return loss_fn(y, outputs, sample_weight=sample_weight)

    argnums = 1 if wrt_inputs else 0
    loss, grads = jax.value_and_grad(compute, argnums=argnums)(trainable, x)
    if wrt_inputs:
        return float(loss), np.asarray(grads)
    return float(loss), _numpy(grads, model.trainable_variables)


def _torch(model, loss_fn, x, y, sample_weight, wrt_inputs):
    import torch

    variables = model.trainable_variables
    if wrt_inputs:
        x = keras.ops.convert_to_tensor(x)
        x.requires_grad_(True)
    loss = loss_fn(y, model(x, training=True), sample_weight=sample_weight)
    targets = [x] if wrt_inputs else [v.value for v in variables]
    grads = torch.autograd.grad(loss, targets, allow_unused=True)
    if wrt_inputs:
        return float(loss.detach()), grads[0].detach().cpu().numpy()
    return float(loss.detach()), _numpy([None if g is None else g.detach().cpu() for g in grads], variables)
