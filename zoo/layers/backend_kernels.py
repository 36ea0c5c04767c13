"""The few places where attention needs to know its backend.

1. `with_recomputed_gradient(forward, backward)`: one differentiable function
   from a forward pass and a hand-written backward pass (both `keras.ops`), so
   that automatic differentiation does not keep what the forward pass computed
   on the way (for chunked attention: every block of scores). Keras's own
   `keras.ops.custom_gradient` cannot carry boolean inputs (masks) on JAX and
   saves nothing explicitly on PyTorch, hence one small wrapper per backend.
2. `has_fused_attention(query, key, value)`: whether
   `keras.ops.dot_product_attention` reaches a fused, memory-efficient kernel
   for these inputs on this device.
3. `on_accelerator()`: whether tensors live on a GPU or TPU (chunked attention
   sizes its blocks for a CPU's cache only on a CPU).

Backend modules are imported inside the functions only, so importing this
file never imports a backend that is not in use.
"""

import keras


def with_recomputed_gradient(forward, backward):
    """`attend(query, key, value, constants)` with a custom gradient.

    `forward(query, key, value, constants)` returns `(outputs, saved)`;
    `backward(query, key, value, constants, saved, upstream)` returns the
    gradients of query, key and value. `constants` is a dict of tensors that
    get no gradient (masks); `saved` a tuple of tensors.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_function(forward, backward)
    if backend == "tensorflow":
        return _tensorflow_function(forward, backward)
    if backend == "torch":
        return _torch_function(forward, backward)
    raise ValueError(
        "Chunked attention supports the jax, tensorflow and torch backends. "
        f"Received: backend={backend!r}"
    )


def _jax_function(forward, backward):
    import jax

    @jax.custom_vjp
    def attend(query, key, value, constants):
        return forward(query, key, value, constants)[0]

    def attend_forward(query, key, value, constants):
        outputs, saved = forward(query, key, value, constants)
        return outputs, (query, key, value, constants, saved)

    def attend_backward(residuals, upstream):
        query, key, value, constants, saved = residuals
        grads = backward(query, key, value, constants, saved, upstream)
        return (*grads, jax.tree.map(lambda _: None, constants))

    attend.defvjp(attend_forward, attend_backward)
    return attend


def _tensorflow_function(forward, backward):
    """Both passes compiled by XLA even where the model is not (Keras's default
    on a CPU): TensorFlow's graph executor ran the loops of small blocks at a
    fifth of XLA's speed (T=16384, batch 1: a 53 s train step)."""
    import tensorflow as tf

    compiled_forward = tf.function(forward, jit_compile=True, autograph=False)
    compiled_backward = tf.function(backward, jit_compile=True, autograph=False)

    def attend(query, key, value, constants):
        @tf.custom_gradient
        def differentiable(query, key, value):
            # Cut from the tape: it would otherwise have the compiled loops keep
            # every step's values for a gradient that `gradient` gives instead
            # (which XLA refuses: "requires a fixed tensor list size").
            inputs = [tf.stop_gradient(x) for x in (query, key, value)]
            outputs, saved = compiled_forward(*inputs, constants)

            def gradient(upstream):
                return compiled_backward(*inputs, constants, saved, upstream)

            return outputs, gradient

        return differentiable(query, key, value)

    return attend


def _torch_function(forward, backward):
    import torch

    class Attention(torch.autograd.Function):
        @staticmethod
        def forward(context, query, key, value, names, *constants):
            constants = dict(zip(names, constants))
            outputs, saved = forward(query, key, value, constants)
            context.names, context.num_saved = names, len(saved)
            context.save_for_backward(query, key, value, *saved, *constants.values())
            return outputs

        @staticmethod
        def backward(context, upstream):
            query, key, value, *rest = context.saved_tensors
            saved, constants = rest[: context.num_saved], rest[context.num_saved:]
            constants = dict(zip(context.names, constants))
            grads = backward(query, key, value, constants, tuple(saved), upstream)
            return (*grads, None) + (None,) * len(constants)

    def attend(query, key, value, constants):
        names = tuple(constants)
        return Attention.apply(query, key, value, names, *constants.values())

    return attend


def has_fused_attention(query, key, value):
    """Whether `keras.ops.dot_product_attention` is fused here (memory linear in T).

    PyTorch: `scaled_dot_product_attention` has flash / memory-efficient
    kernels on CPU and CUDA. JAX: cuDNN flash attention on a recent NVIDIA GPU
    (half precision, head sizes it supports) or the Splash kernel on TPU, as
    Keras decides; elsewhere JAX computes the full score matrix. TensorFlow:
    Keras computes the full score matrix everywhere.
    """
    backend = keras.backend.backend()
    if backend == "torch":
        return True
    if backend != "jax":
        return False
    import jax

    if jax.devices()[0].platform not in ("gpu", "tpu", "cuda"):
        return False
    try:  # Keras's own test; private, so any failure means "not fused"
        from keras.src.backend.jax.nn import _can_use_flash_attention

        return bool(_can_use_flash_attention(query, key, value, None))
    except Exception:  # noqa: BLE001
        return False


def on_accelerator():
    """Whether the backend computes on a GPU or TPU rather than the CPU."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.devices()[0].platform != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()  # Keras's torch backend then uses CUDA
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    return False


def updates_in_place():
    """Whether `ops.slice_update` of a loop's carried tensor writes in place.

    XLA reuses a while loop's buffers (JAX, and TensorFlow, whose chunked
    attention `_tensorflow_function` compiles with XLA); PyTorch copies the
    whole tensor at every update.
    """
    return keras.backend.backend() in ("jax", "tensorflow")
