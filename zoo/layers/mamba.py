"""The Mamba block: a selective state space model (Gu & Dao 2023).

    x, z  = split(W_in u)                          # (B, T, E*D) each
    x     = silu(causal depthwise conv(x))         # kernel `conv_kernel`
    dt, B, C = split(W_x x)                        # ranks R, N, N
    delta = softplus(W_dt dt + b_dt)               # (B, T, E*D), input-dependent
    h_t   = exp(delta_t A) * h_{t-1} + delta_t B_t x_t    # (E*D, N) per step
    y_t   = C_t . h_t + D * x_t
    out   = W_out (y * silu(z))

`A = -exp(A_log)` is diagonal with the S4D-real start `A_n = n` (n = 1..N);
`b_dt` starts at the inverse softplus of steps log-uniform in [dt_min,
dt_max], as in the reference implementation (`mamba_simple.py`). The
recurrence runs as a parallel scan (`zoo.layers.scan`), materialising the
`(B, T, E*D, N)` states that the fused CUDA kernel keeps in SRAM; `step`
runs one step for generation with the conv window and the SSM state.
"""

import math

import keras
from keras import ops

from zoo.checks import check_positive
from zoo.layers.scan import keep_state_on_padding, linear_recurrence


@keras.saving.register_keras_serializable(package="zoo")
class Mamba(keras.layers.Layer):
    """Mamba block: `(batch, T, features)` -> `(batch, T, features)`.

    Args:
        state_dim: N, the SSM state per channel.
        expand: E, inner channels = E * features.
        conv_kernel: width of the causal depthwise convolution.
        dt_rank: R, rank of the step-size projection; `"auto"` is
            `ceil(features / 16)`.
        dt_min, dt_max, dt_init_floor: range of the initial step sizes.

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`, True on real steps. Padded steps leave the SSM
            state unchanged and enter the convolution as zeros, so left and
            right padding give the unpadded outputs (padding in the middle of
            a sequence would shift the convolution's window).

    Generation: `state = layer.initial_state(batch_size)`, then
    `y_t, state = layer.step(u_t, state)`.
    """

    def __init__(
        self,
        state_dim=16,
        expand=2,
        conv_kernel=4,
        dt_rank="auto",
        dt_min=0.001,
        dt_max=0.1,
        dt_init_floor=1e-4,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("state_dim", state_dim)
        check_positive("expand", expand)
        check_positive("conv_kernel", conv_kernel)
        if dt_rank != "auto":
            check_positive("dt_rank", dt_rank)
        if not 0 < dt_min <= dt_max:
            raise ValueError(
                "Received invalid step sizes, expected 0 < dt_min <= dt_max. "
                f"Received: dt_min={dt_min!r}, dt_max={dt_max!r}"
            )
        self.state_dim = int(state_dim)
        self.expand = expand
        self.conv_kernel = int(conv_kernel)
        self.dt_rank = dt_rank
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.dt_init_floor = dt_init_floor
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        features = inputs_shape[-1]
        inner = self.inner_dim = int(self.expand * features)
        rank = self.rank = (
            math.ceil(features / 16) if self.dt_rank == "auto" else int(self.dt_rank)
        )
        inner_shape = tuple(inputs_shape[:-1]) + (inner,)
        dense = dict(kernel_initializer=self.kernel_initializer, dtype=self.dtype_policy)
        self.input_projection = keras.layers.Dense(
            2 * inner, use_bias=False, name="input_projection", **dense
        )
        self.input_projection.build(inputs_shape)
        # Depthwise conv kernel (K, E*D): one filter of width K per channel.
        bound = 1 / math.sqrt(self.conv_kernel)
        self.conv_kernel_weight = self.add_weight(
            shape=(self.conv_kernel, inner), name="conv_kernel",
            initializer=keras.initializers.RandomUniform(-bound, bound),
        )
        self.conv_bias = self.add_weight(
            shape=(inner,), name="conv_bias",
            initializer=keras.initializers.RandomUniform(-bound, bound),
        )
        self.x_projection = keras.layers.Dense(
            rank + 2 * self.state_dim, use_bias=False, name="x_projection", **dense
        )
        self.x_projection.build(inner_shape)
        std = rank**-0.5
        self.dt_projection = keras.layers.Dense(
            inner, name="dt_projection",
            kernel_initializer=keras.initializers.RandomUniform(-std, std),
            bias_initializer=self._dt_bias_init, dtype=self.dtype_policy,
        )
        self.dt_projection.build(tuple(inputs_shape[:-1]) + (rank,))
        self.A_log = self.add_weight(
            shape=(inner, self.state_dim), initializer=self._a_log_init, name="A_log",
            autocast=False,
        )
        self.D = self.add_weight(shape=(inner,), initializer="ones", name="D", autocast=False)
        self.output_projection = keras.layers.Dense(
            features, use_bias=False, name="output_projection", **dense
        )
        self.output_projection.build(inner_shape)
        self.built = True

    def _a_log_init(self, shape, dtype=None):
        # S4D-real: A_n = -n for n = 1..N, the same for every channel.
        n = ops.arange(1, shape[1] + 1, dtype="float32")
        return ops.tile(ops.log(n)[None, :], (shape[0], 1))

    def _dt_bias_init(self, shape, dtype=None):
        u = keras.random.uniform(shape, dtype="float32")
        log_min, log_max = math.log(self.dt_min), math.log(self.dt_max)
        dt = ops.maximum(ops.exp(u * (log_max - log_min) + log_min), self.dt_init_floor)
        return dt + ops.log(-ops.expm1(-dt))  # inverse softplus

    def _selective_parameters(self, x):
        """`(delta, B, C)` in float32 from the convolved inputs `x`."""
        dt, b, c = ops.split(
            self.x_projection(x), [self.rank, self.rank + self.state_dim], axis=-1
        )
        delta = ops.softplus(ops.cast(self.dt_projection(dt), "float32"))
        return delta, ops.cast(b, "float32"), ops.cast(c, "float32")

    def _gate_and_project(self, y, x, z):
        y = y + ops.cast(x, "float32") * ops.cast(self.D, "float32")
        y = ops.cast(y, self.compute_dtype) * ops.silu(z)
        return self.output_projection(y)

    def call(self, inputs, mask=None):
        x, z = ops.split(self.input_projection(inputs), 2, axis=-1)  # (B, T, E*D)
        if mask is not None:
            x = x * ops.cast(mask, x.dtype)[:, :, None]
        # Causal depthwise conv: pad K - 1 steps on the left, sum the shifts.
        padded = ops.pad(x, [[0, 0], [self.conv_kernel - 1, 0], [0, 0]])
        conv = self.conv_bias
        for j in range(self.conv_kernel):
            end = j - (self.conv_kernel - 1) or None
            conv = conv + padded[:, j:end] * self.conv_kernel_weight[j]
        x = ops.silu(conv)
        delta, b, c = self._selective_parameters(x)  # (B, T, E*D), (B, T, N) x 2
        a = -ops.exp(ops.cast(self.A_log, "float32"))  # (E*D, N)
        decay = ops.exp(delta[..., None] * a)  # (B, T, E*D, N)
        drive = (delta * ops.cast(x, "float32"))[..., None] * b[:, :, None, :]
        decay, drive = keep_state_on_padding(decay, drive, mask)
        h = linear_recurrence(decay, drive)  # (B, T, E*D, N)
        y = ops.sum(h * c[:, :, None, :], axis=-1)
        return self._gate_and_project(y, x, z)

    def initial_state(self, batch_size):
        conv = ops.zeros((batch_size, self.conv_kernel - 1, self.inner_dim), "float32")
        ssm = ops.zeros((batch_size, self.inner_dim, self.state_dim), "float32")
        return [conv, ssm]

    def step(self, inputs, state):
        """One step: `inputs` `(batch, features)`, `state` = [conv window, SSM state]."""
        conv_window, h = state
        x, z = ops.split(self.input_projection(inputs), 2, axis=-1)  # (B, E*D)
        window = ops.concatenate([conv_window, ops.cast(x, "float32")[:, None]], axis=1)
        kernel = ops.cast(self.conv_kernel_weight, "float32")
        conv = ops.sum(window * kernel[None], axis=1) + ops.cast(self.conv_bias, "float32")
        x = ops.cast(ops.silu(conv), self.compute_dtype)
        delta, b, c = self._selective_parameters(x)  # (B, E*D), (B, N) x 2
        a = -ops.exp(ops.cast(self.A_log, "float32"))
        h = ops.exp(delta[..., None] * a) * h + (
            (delta * ops.cast(x, "float32"))[..., None] * b[:, None, :]
        )
        y = ops.sum(h * c[:, None, :], axis=-1)
        return self._gate_and_project(y, x, z), [window[:, 1:], h]

    def sequence_mixing_flops(self, query_positions, key_positions):
        """Per channel and state each step: delta * B * x (2 FLOPs), the
        recurrence's multiply-add (2) and the read-out C . h (2). `flops.py`
        counts the projections and the conv from their 2-D kernels, and
        A_log, being 2-D, as the product delta * A (2 per channel and state)."""
        return 6 * self.inner_dim * self.state_dim * query_positions

    def state_size(self):
        """Floats carried per sequence while generating: the SSM state
        (E*D x N) and the convolution's window (E*D x (K - 1))."""
        return self.inner_dim * (self.state_dim + self.conv_kernel - 1)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "state_dim": self.state_dim,
                "expand": self.expand,
                "conv_kernel": self.conv_kernel,
                "dt_rank": self.dt_rank,
                "dt_min": self.dt_min,
                "dt_max": self.dt_max,
                "dt_init_floor": self.dt_init_floor,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
