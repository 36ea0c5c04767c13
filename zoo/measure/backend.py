"""The one place under `zoo/` that touches backend modules (besides the
benchmark's reference implementations).

Keras 3 has no backend-agnostic gradient API, yet the zoo needs gradients
outside `fit` (the "every weight gets a gradient" test, gradient-norm
diagnostics). Each function imports its backend lazily, so importing this
module pulls in no framework, not even Keras (the benchmark's PyTorch
worker measures memory with it in a process without Keras).

Peak memory is measured here too, the one implementation the runner and the
benchmark share: on an accelerator the device's peak allocation, on a CPU the
process's peak resident set (`VmHWM` on Linux, `ru_maxrss` elsewhere). A
reading says which, under the record field `peak_memory_kind`:

    backend.reset_peak(name)              # a new window (device and host)
    mb, kind = backend.peak_mb(name)      # kind: one of MEMORY_KINDS

where `name` is a Keras backend, or `"pytorch"` for the benchmark's native
PyTorch reference.
"""

import gc
import resource
import sys
from pathlib import Path

import numpy as np


def backend():
    import keras

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
    import keras

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
    import keras
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


# ------------------------------------------------------------------- memory

MEMORY_KINDS = ("device", "host_rss", "host_ru_maxrss")
MEMORY_BACKENDS = ("tensorflow", "jax", "torch", "pytorch")


def peak_device_mb(backend, reset=False):
    """Peak accelerator memory allocated in this process (MiB), or None on CPU.

    With `reset=True` the peak restarts from now where the backend allows it
    (JAX keeps a lifetime peak) and None is returned.
    """
    try:
        if backend in ("torch", "pytorch"):
            import torch

            if not torch.cuda.is_available():
                return None
            if reset:
                torch.cuda.reset_peak_memory_stats()
                return None
            return torch.cuda.max_memory_allocated() / 2**20
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform == "cpu" or reset:
                return None
            peak = (device.memory_stats() or {}).get("peak_bytes_in_use")
            return None if peak is None else peak / 2**20
        if backend == "tensorflow":
            import tensorflow as tf

            if not tf.config.list_logical_devices("GPU"):
                return None
            if reset:
                tf.config.experimental.reset_memory_stats("GPU:0")
                return None
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    except (RuntimeError, ValueError, KeyError):  # a device without memory statistics
        return None
    raise ValueError(f"Unknown backend {backend!r}; valid: {list(MEMORY_BACKENDS)}")


def reset_peak(backend):
    """Start a new peak window: the device's, and the process's resident set.

    On Linux `/proc/self/clear_refs` resets `VmHWM` to the current resident
    set, so runs or lengths that share a process each report their own peak
    (memory an earlier one left allocated still counts). Returns False where
    the host peak cannot be reset (a lifetime `ru_maxrss`).
    """
    gc.collect()
    peak_device_mb(backend, reset=True)
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def current_mb():
    """The process's resident set now (MiB); 0 where it cannot be read."""
    return _proc_status_mb("VmRSS") or 0.0


def peak_mb(backend):
    """`(MiB, kind)`: the device's peak on an accelerator, else the host's."""
    device = peak_device_mb(backend)
    if device is not None:
        return device, "device"
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm, "host_rss"
    scale = 2**20 if sys.platform == "darwin" else 2**10  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale, "host_ru_maxrss"


def _proc_status_mb(field):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
