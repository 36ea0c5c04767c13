"""A residual block around a sequence mixer, for the scan and linear-attention
families: only the mixer changes from one family to the next.

    feedforward="mlp":  x = x + mixer(norm(x));  x = x + mlp(norm(x))
                        (the Transformer's block with its attention swapped;
                        minGRU / minLSTM and the linear Transformer)
    feedforward="glu":  x = x + glu(activation(mixer(norm(x))))
                        (the S4 / LRU block, Orvieto et al. 2023, Fig. 1)
    feedforward="none": x = x + mixer(norm(x))
                        (the Mamba block, Gu & Dao 2023, Fig. 3)

`normalize_first=False` moves each norm after its residual sum (post-norm).
The mixer is named by a string and built inside the block, so the block's
config, dtype policy and `.keras` file carry it.
"""

import keras
from keras import ops

from zoo.checks import check_choice, check_positive, check_rate
from zoo.layers.linear_attention import LinearAttention
from zoo.layers.lru import LRU
from zoo.layers.mamba import Mamba
from zoo.layers.min_rnn import MinGRU, MinLSTM
from zoo.layers.normalization import normalization
from zoo.names import MIXER_NORMS as NORMS

MIXERS = {
    "lru": LRU,
    "mingru": MinGRU,
    "minlstm": MinLSTM,
    "mamba": Mamba,
    "linear_attention": LinearAttention,
}
FEEDFORWARDS = ("mlp", "glu", "none")


@keras.saving.register_keras_serializable(package="zoo")
class MixerBlock(keras.layers.Layer):
    """Pre-norm (or post-norm) residual block around a `zoo.layers` mixer.

    Args:
        mixer: `"lru"`, `"mingru"`, `"minlstm"`, `"mamba"` or `"linear_attention"`.
        mixer_options: keyword arguments of the mixer, e.g. `{"state_dim": 16}`.
        feedforward: `"mlp"`, `"glu"` or `"none"` (see the module docstring).
        intermediate_dim: hidden size of the MLP; defaults to 4 x features.
        activation: of the MLP's hidden layer, or before the GLU.
        norm: `"layer"` or `"rms"`.
        norm_epsilon: epsilon of the normalisations.
        normalize_first: pre-norm (True) or post-norm (False).
        dropout: on each residual branch (and the MLP's hidden layer).

    Call arguments:
        inputs: `(batch, T, features)`.
        mask: `(batch, T)`, True on real steps, passed to the mixer.

    Generation (causal mixers): `state = block.initial_state(batch_size)`,
    then `y_t, state = block.step(x_t, state)`.
    """

    def __init__(
        self,
        mixer,
        mixer_options=None,
        feedforward="mlp",
        intermediate_dim=None,
        activation="gelu",
        norm="layer",
        norm_epsilon=1e-5,
        normalize_first=True,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("mixer", mixer, tuple(MIXERS))
        check_choice("feedforward", feedforward, FEEDFORWARDS)
        check_choice("norm", norm, NORMS)
        check_rate("dropout", dropout)
        if intermediate_dim is not None:
            check_positive("intermediate_dim", intermediate_dim)
        self.mixer_name = mixer
        self.mixer_options = dict(mixer_options or {})
        self.feedforward = feedforward
        self.intermediate_dim = int(intermediate_dim) if intermediate_dim else None
        self.activation = keras.activations.get(activation)
        self.norm = norm
        self.norm_epsilon = norm_epsilon
        self.normalize_first = bool(normalize_first)
        self.dropout = dropout
        self.supports_masking = True

    def _make_norm(self, name, inputs_shape):
        layer = normalization(self.norm, self.norm_epsilon, self.dtype_policy, name)
        layer.build(inputs_shape)
        return layer

    def _make_dense(self, units, name, input_dim, inputs_shape, activation=None):
        layer = keras.layers.Dense(units, activation=activation, dtype=self.dtype_policy, name=name)
        layer.build(tuple(inputs_shape[:-1]) + (input_dim,))
        return layer

    def build(self, inputs_shape):
        features = inputs_shape[-1]
        self.mixer = MIXERS[self.mixer_name](
            **self.mixer_options, dtype=self.dtype_policy, name=self.mixer_name
        )
        self.mixer.build(inputs_shape)
        self.mixer_norm = self._make_norm("mixer_norm", inputs_shape)
        if self.feedforward == "mlp":
            hidden = self.intermediate_dim or 4 * features
            self.feedforward_intermediate = self._make_dense(
                hidden, "feedforward_intermediate", features, inputs_shape, self.activation
            )
            self.feedforward_output = self._make_dense(
                features, "feedforward_output", hidden, inputs_shape
            )
            self.feedforward_norm = self._make_norm("feedforward_norm", inputs_shape)
        elif self.feedforward == "glu":
            self.glu_value = self._make_dense(features, "glu_value", features, inputs_shape)
            self.glu_gate = self._make_dense(features, "glu_gate", features, inputs_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def _residual(self, x, branch, norm, training):
        """Pre-norm: x + f(norm(x)). Post-norm: norm(x + f(x))."""
        y = branch(norm(x) if self.normalize_first else x)
        x = x + self.dropout_layer(y, training=training)
        return x if self.normalize_first else norm(x)

    def _mixer_branch(self, y, mix, training):
        y = mix(y)
        if self.feedforward == "glu":
            y = self.dropout_layer(self.activation(y), training=training)
            y = self.glu_value(y) * ops.sigmoid(self.glu_gate(y))
        return y

    def _mlp(self, y, training):
        y = self.dropout_layer(self.feedforward_intermediate(y), training=training)
        return self.feedforward_output(y)

    def _forward(self, x, mix, training):
        x = self._residual(
            x, lambda y: self._mixer_branch(y, mix, training), self.mixer_norm, training
        )
        if self.feedforward == "mlp":
            x = self._residual(x, lambda y: self._mlp(y, training), self.feedforward_norm, training)
        return x

    def call(self, inputs, mask=None, training=None):
        return self._forward(inputs, lambda y: self.mixer(y, mask=mask), training)

    def initial_state(self, batch_size):
        return self.mixer.initial_state(batch_size)

    def step(self, inputs, state):
        """One step: `inputs` `(batch, features)`, `state` from `initial_state`."""
        new_state = []

        def mix(y):
            y, after = self.mixer.step(y, state)
            new_state.extend(after)
            return y

        outputs = self._forward(ops.convert_to_tensor(inputs, self.compute_dtype), mix, False)
        return outputs, new_state

    def state_size(self):
        return self.mixer.state_size()

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mixer": self.mixer_name,
                "mixer_options": dict(self.mixer_options),
                "feedforward": self.feedforward,
                "intermediate_dim": self.intermediate_dim,
                "activation": keras.activations.serialize(self.activation),
                "norm": self.norm,
                "norm_epsilon": self.norm_epsilon,
                "normalize_first": self.normalize_first,
                "dropout": self.dropout,
            }
        )
        return config
