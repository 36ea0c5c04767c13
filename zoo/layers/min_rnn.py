"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

GRU and LSTM with the state taken out of the gates: the gates and the
candidate depend on the input only, so the update is linear in the state,

    minGRU:  z_t = sigmoid(W_z x_t),  h~_t = g(W_h x_t)
             h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
    minLSTM: f_t = sigmoid(W_f x_t),  i_t = sigmoid(W_i x_t),  h~_t = g(W_h x_t)
             f'_t, i'_t = f_t / (f_t + i_t), i_t / (f_t + i_t)
             h_t = f'_t * h_{t-1} + i'_t * h~_t

with `g(x) = x + 0.5` for x >= 0 and `sigmoid(x)` below, which keeps every
state positive, so training runs the paper's log-space parallel scan
(`zoo.layers.scan.log_linear_recurrence`). An output projection maps the
`units` states back to the input's features (the paper's expansion), so the
layer drops into a residual block.
"""

import keras
from keras import ops

from zoo.checks import check_positive
from zoo.layers.scan import LOG_ZERO, keep_state_on_padding, log_linear_recurrence


def g(x):
    """The paper's positive activation: `x + 0.5` for x >= 0, `sigmoid(x)` below."""
    return ops.where(x >= 0, x + 0.5, ops.sigmoid(x))


def log_g(x):
    return ops.where(x >= 0, ops.log(ops.relu(x) + 0.5), -ops.softplus(-x))


class _MinRNN(keras.layers.Layer):
    """The projections, scan, step and config shared by minGRU and minLSTM."""

    num_gates = None  # gates besides the candidate

    def __init__(
        self,
        units=64,
        output_dim=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("units", units)
        if output_dim is not None:
            check_positive("output_dim", output_dim)
        self.units = int(units)
        self.output_dim = int(output_dim) if output_dim is not None else None
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        dense = dict(
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )
        self.input_projection = keras.layers.Dense(
            (self.num_gates + 1) * self.units, name="input_projection", **dense
        )
        self.input_projection.build(inputs_shape)
        self.output_projection = keras.layers.Dense(
            self.output_dim or inputs_shape[-1], name="output_projection", **dense
        )
        self.output_projection.build(tuple(inputs_shape[:-1]) + (self.units,))
        self.built = True

    def _log_coefficients(self, projected):
        """`(log a_t, log b_t)` of `h_t = a_t h_{t-1} + b_t`, float32."""
        raise NotImplementedError

    def call(self, inputs, mask=None):
        projected = ops.cast(self.input_projection(inputs), "float32")
        log_a, log_b = self._log_coefficients(projected)  # (B, T, units) each
        log_a, log_b = keep_state_on_padding(log_a, log_b, mask, one=0.0, zero=LOG_ZERO)
        states = ops.exp(log_linear_recurrence(log_a, log_b))
        return self.output_projection(ops.cast(states, self.compute_dtype))

    def initial_state(self, batch_size):
        return [ops.zeros((batch_size, self.units), dtype="float32")]

    def step(self, inputs, state):
        """One step: `inputs` `(batch, features)`, `state` from `initial_state`."""
        projected = ops.cast(self.input_projection(inputs), "float32")
        log_a, log_b = self._log_coefficients(projected)
        (h,) = state
        h = ops.exp(log_a) * h + ops.exp(log_b)
        return self.output_projection(ops.cast(h, self.compute_dtype)), [h]

    def sequence_mixing_flops(self, query_positions, key_positions):
        """The recurrence: one multiply-add per unit per step (the projections
        are counted by `flops.py` from their kernels)."""
        return 2 * self.units * query_positions

    def state_size(self):
        return self.units

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.output_dim or inputs_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "output_dim": self.output_dim,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class MinGRU(_MinRNN):
    """minGRU: `(batch, T, features)` -> `(batch, T, output_dim or features)`.

    Args:
        units: state size.
        output_dim: features out of the output projection; defaults to the input's.
        use_bias, kernel_initializer, bias_initializer: of both projections.

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`, True on real steps; padded steps keep the state.

    Generation: `state = layer.initial_state(batch_size)`, then
    `y_t, state = layer.step(x_t, state)`.
    """

    num_gates = 1

    def _log_coefficients(self, projected):
        gate, candidate = ops.split(projected, 2, axis=-1)
        log_update = -ops.softplus(-gate)  # log z
        log_keep = -ops.softplus(gate)  # log (1 - z)
        return log_keep, log_update + log_g(candidate)


@keras.saving.register_keras_serializable(package="zoo")
class MinLSTM(_MinRNN):
    """minLSTM: `(batch, T, features)` -> `(batch, T, output_dim or features)`.

    Arguments, call arguments and generation as for `MinGRU`; the forget and
    input gates are normalised to sum to one (the paper's time-independent
    scale).
    """

    num_gates = 2

    def _log_coefficients(self, projected):
        forget, input_gate, candidate = ops.split(projected, 3, axis=-1)
        # log f' = -softplus(log i - log f), log i' = -softplus(log f - log i)
        difference = ops.softplus(-forget) - ops.softplus(-input_gate)
        return -ops.softplus(difference), -ops.softplus(-difference) + log_g(candidate)
