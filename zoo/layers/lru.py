"""Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural
Networks for Long Sequences").

A diagonal complex linear recurrence between an input and an output
projection:

    x_t = Lambda * x_{t-1} + gamma * (B u_t)        # x: N complex states
    y_t = Re(C x_t) + D * u_t

with the exponential parameterisation `Lambda = exp(-exp(nu_log) + i *
exp(theta_log))` (so |Lambda| < 1 whatever the weights), the ring
initialisation (|Lambda| uniform on the ring [r_min, r_max] in the squared
radius, phase uniform in [0, max_phase]) and the normalisation
`gamma = sqrt(1 - |Lambda|^2)` (trained from that start, as `gamma_log`).

Complex numbers are kept as (real, imaginary) pairs of float32 tensors, so
every backend runs the same code. Training runs the recurrence as a parallel
scan (`zoo.layers.scan`); `step` runs one step for generation.
"""

import math

import keras
from keras import ops

from zoo.checks import check_positive
from zoo.layers.scan import complex_linear_recurrence, keep_state_on_padding


def _check_radii(r_min, r_max, max_phase):
    if not (0 <= r_min < r_max <= 1):
        raise ValueError(
            "Received invalid ring radii, expected 0 <= r_min < r_max <= 1. "
            f"Received: r_min={r_min!r}, r_max={r_max!r}"
        )
    check_positive("max_phase", max_phase)


@keras.saving.register_keras_serializable(package="zoo")
class LRU(keras.layers.Layer):
    """Linear Recurrent Unit: `(batch, T, features)` -> `(batch, T, features)`.

    Args:
        state_dim: N, the number of complex states.
        r_min, r_max: the ring of initial eigenvalue moduli, 0 <= r_min < r_max <= 1.
        max_phase: initial phases are uniform in [0, max_phase].

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`, True on real steps; padded steps leave the state
            unchanged.

    Generation: `state = layer.initial_state(batch_size)`, then
    `y_t, state = layer.step(u_t, state)` with `u_t` of shape `(batch, features)`.
    """

    def __init__(self, state_dim=64, r_min=0.0, r_max=1.0, max_phase=2 * math.pi, **kwargs):
        super().__init__(**kwargs)
        check_positive("state_dim", state_dim)
        _check_radii(r_min, r_max, max_phase)
        self.state_dim = int(state_dim)
        self.r_min = r_min
        self.r_max = r_max
        self.max_phase = max_phase
        self.supports_masking = True

    def build(self, inputs_shape):
        features, states = inputs_shape[-1], self.state_dim
        self.nu_log = self.add_weight(
            shape=(states,), initializer=self._nu_log_init, name="nu_log", autocast=False
        )
        self.theta_log = self.add_weight(
            shape=(states,), initializer=self._theta_log_init, name="theta_log",
            autocast=False,
        )
        self.gamma_log = self.add_weight(
            shape=(states,), initializer=self._gamma_log_init, name="gamma_log",
            autocast=False,
        )
        b_init = keras.initializers.RandomNormal(stddev=1 / math.sqrt(2 * features))
        c_init = keras.initializers.RandomNormal(stddev=1 / math.sqrt(states))
        # (H, N): u @ B maps features to states; (N, H): states back to features.
        self.input_kernel_real = self.add_weight(
            shape=(features, states), initializer=b_init, name="input_kernel_real"
        )
        self.input_kernel_imag = self.add_weight(
            shape=(features, states), initializer=b_init, name="input_kernel_imag"
        )
        self.output_kernel_real = self.add_weight(
            shape=(states, features), initializer=c_init, name="output_kernel_real"
        )
        self.output_kernel_imag = self.add_weight(
            shape=(states, features), initializer=c_init, name="output_kernel_imag"
        )
        self.skip = self.add_weight(
            shape=(features,), initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="skip",
        )
        self.built = True

    # Initialisers (Orvieto et al. 2023, Lemma 3.2 and section 3.3).

    def _nu_log_init(self, shape, dtype=None):
        u = keras.random.uniform(shape, dtype="float32")
        radius_squared = u * (self.r_max**2 - self.r_min**2) + self.r_min**2
        return ops.log(-0.5 * ops.log(ops.maximum(radius_squared, 1e-12)))

    def _theta_log_init(self, shape, dtype=None):
        u = keras.random.uniform(shape, minval=1e-6, maxval=1.0, dtype="float32")
        return ops.log(self.max_phase * u)

    def _gamma_log_init(self, shape, dtype=None):
        modulus_squared = ops.exp(-2 * ops.exp(ops.convert_to_tensor(self.nu_log)))
        return 0.5 * ops.log(ops.maximum(1 - modulus_squared, 1e-12))

    def eigenvalues(self):
        """`(Lambda_real, Lambda_imag, gamma)`, each `(N,)` float32."""
        modulus = ops.exp(-ops.exp(ops.cast(self.nu_log, "float32")))
        phase = ops.exp(ops.cast(self.theta_log, "float32"))
        gamma = ops.exp(ops.cast(self.gamma_log, "float32"))
        return modulus * ops.cos(phase), modulus * ops.sin(phase), gamma

    def _project_in(self, inputs, gamma):
        real = ops.cast(ops.matmul(inputs, self.input_kernel_real), "float32") * gamma
        imag = ops.cast(ops.matmul(inputs, self.input_kernel_imag), "float32") * gamma
        return real, imag

    def _project_out(self, inputs, state_real, state_imag):
        dtype = inputs.dtype
        y = ops.matmul(ops.cast(state_real, dtype), self.output_kernel_real)
        y = y - ops.matmul(ops.cast(state_imag, dtype), self.output_kernel_imag)
        return y + inputs * self.skip

    def call(self, inputs, mask=None):
        lambda_real, lambda_imag, gamma = self.eigenvalues()
        b_real, b_imag = self._project_in(inputs, gamma)  # (B, T, N) each
        a_real = ops.broadcast_to(lambda_real, ops.shape(b_real))
        a_imag = ops.broadcast_to(lambda_imag, ops.shape(b_imag))
        a_real, b_real = keep_state_on_padding(a_real, b_real, mask)
        a_imag, b_imag = keep_state_on_padding(a_imag, b_imag, mask, one=0.0)
        x_real, x_imag = complex_linear_recurrence((a_real, a_imag), (b_real, b_imag))
        return ops.cast(self._project_out(inputs, x_real, x_imag), self.compute_dtype)

    def initial_state(self, batch_size):
        zeros = ops.zeros((batch_size, self.state_dim), dtype="float32")
        return [zeros, zeros]

    def step(self, inputs, state):
        """One step: `inputs` `(batch, features)`, `state` from `initial_state`."""
        inputs = ops.cast(inputs, self.variable_dtype)
        lambda_real, lambda_imag, gamma = self.eigenvalues()
        b_real, b_imag = self._project_in(inputs, gamma)
        x_real, x_imag = state
        new_real = lambda_real * x_real - lambda_imag * x_imag + b_real
        new_imag = lambda_real * x_imag + lambda_imag * x_real + b_imag
        outputs = self._project_out(inputs, new_real, new_imag)
        return ops.cast(outputs, self.compute_dtype), [new_real, new_imag]

    def sequence_mixing_flops(self, query_positions, key_positions):
        """The recurrence: a complex multiply-add (8 real FLOPs) per state per
        step. `flops.py` counts the B and C products from their 2-D kernels."""
        return 8 * self.state_dim * query_positions

    def state_size(self):
        """Floats carried per sequence while generating: N complex states."""
        return 2 * self.state_dim

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "state_dim": self.state_dim,
                "r_min": self.r_min,
                "r_max": self.r_max,
                "max_phase": self.max_phase,
            }
        )
        return config
