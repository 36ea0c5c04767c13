"""What `zoo bench` times: the zoo's models and the references beside them.

`build_subject(job, length)` gives the thing a worker times: a compiled model
and one synthetic batch, with a synchronised `train_step()` and
`predict_step()`. The references are what a user would pick instead of the
zoo, at the zoo preset's size:

* `keras`: a plain Keras model of `keras.layers.SimpleRNN` / `LSTM` / `GRU`
  (recurrent families), on whichever Keras backend the process runs.
* `keras_hub`: a stack of `keras_hub.layers.TransformerEncoder` behind
  `keras_hub.layers.TokenAndPositionEmbedding` (the transformer family).
* `pytorch`: PyTorch-native `nn.RNN` / `nn.LSTM` / `nn.GRU` /
  `nn.TransformerEncoderLayer` models, measured in a process without Keras.

Precision (`job["precision"]`): Keras models are built under that global
dtype policy (`keras.config.set_dtype_policy`); the PyTorch reference runs
its forward pass under `torch.autocast` to the same compute dtype (with a
`GradScaler` for float16 on a GPU), keeping float32 weights as Keras does.

All share the zoo's skeleton: embedding -> mixer -> pooling (the final step
for recurrent models, the mean for the Transformer) -> linear head, trained
with Adam on sparse cross-entropy. Keras layers are named `embedding`,
`block_<i>` and `head`, so `zoo.models.count_params` splits their parameters
as it does the zoo's.

Memory: `peak_mb(backend)` is the accelerator's peak allocation where there
is one, else the process's peak resident set (Linux `VmHWM`, which
`reset_peak` restarts before each length).

Beside `zoo/backend_adapter.py`, this is the one module under `zoo/` that
imports frameworks directly, inside functions only: PyTorch for the native
reference and its synchronisation, and each backend for its device memory.
"""

import contextlib

from zoo import names

REFERENCES_BY_FAMILY = {
    "rnn": ("keras", "pytorch"),
    "lstm": ("keras", "pytorch"),
    "gru": ("keras", "pytorch"),
    "transformer": ("keras_hub", "pytorch"),
    # the parallel-scan recurrences and linear attention: no library a user would
    # pick instead on every backend; the zoo's own on each backend, beside the above
    "lru": (), "mingru": (), "minlstm": (), "mamba": (), "linear_transformer": (),
}
FAMILIES = tuple(REFERENCES_BY_FAMILY)  # every family `zoo bench` measures, by default all
AUTOCAST_DTYPES = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}  # for PyTorch
# the Keras dtype policies measured: float32 and those PyTorch can autocast to
PRECISIONS = tuple(p for p in names.PRECISIONS if p == "float32" or p in AUTOCAST_DTYPES)
KERAS_RECURRENT = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
TORCH_RECURRENT = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


# ----------------------------------------------------------------- subjects


def implementation_label(kind, backend, jit_compile):
    """`zoo/tensorflow+xla`, `keras/jax`, `keras_hub/torch`, `pytorch`, ..."""
    if kind == "pytorch":
        return "pytorch"
    if jit_compile:
        suffix = {"tensorflow": "+xla", "torch": "+compile"}.get(backend, "")
    else:
        suffix = "-eager" if backend == "jax" else ""
    return f"{kind}/{backend}{suffix}"


class KerasSubject:
    """A compiled Keras model and one synthetic batch, as backend tensors."""

    def __init__(self, model, inputs, targets, jit):
        """Compile `model` (Adam, sparse cross-entropy on logits) with `jit`:
        `"auto"` (Keras's choice), `"on"` or `"off"` for `jit_compile`."""
        import keras

        import zoo.models

        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile={"auto": "auto", "on": True, "off": False}[jit])
        self.model = model
        self.jit_compile = model.jit_compile
        self.inputs = keras.ops.convert_to_tensor(inputs)
        self.targets = keras.ops.convert_to_tensor(targets)
        self.params = zoo.models.count_params(model)
        self.flops_per_example = _flops_per_example(model, inputs.shape[1])

    def train_step(self):
        return float(self.model.train_on_batch(self.inputs, self.targets))

    @property
    def attention_path(self):
        """The paths the zoo's attention layers took in the last step
        (`"fused"`, `"chunked"`, `"full"`), or None for models without them."""
        paths = {getattr(layer, "last_path", None) for layer in self.model._flatten_layers()}
        return ", ".join(sorted(paths - {None})) or None

    def predict_step(self):
        self.model.predict_on_batch(self.inputs)  # NumPy: waits for the device


def _flops_per_example(model, sequence_length):
    """Forward FLOPs per example (`zoo.measure.flops`); None where it cannot count."""
    try:
        from zoo.measure import flops

        return float(flops.per_example(model, sequence_length))
    except Exception:  # noqa: BLE001 -- FLOPs are optional; timings are not
        return None


def synthetic_batch(job, length):
    """Random tokens and labels: the speed of a step does not depend on them."""
    import numpy as np

    rng = np.random.default_rng(job["seed"])
    shape = (job["batch_size"], length)
    inputs = rng.integers(1, job["vocabulary_size"], size=shape).astype("int32")
    targets = rng.integers(0, job["num_classes"], size=job["batch_size"]).astype("int32")
    return inputs, targets


def build_subject(job, length):
    """The measured thing for `job` at `length`: a Keras or PyTorch model on one batch."""
    inputs, targets = synthetic_batch(job, length)
    if job["kind"] == "pytorch":
        return TorchSubject(job["family"], job["config"], inputs, targets,
                            job["vocabulary_size"], job["num_classes"],
                            precision=job.get("precision", "float32"))
    import keras

    import zoo.models
    from zoo.spec import TaskSpec

    keras.backend.clear_session()
    keras.config.set_dtype_policy(job.get("precision", "float32"))  # before any layer is built
    keras.utils.set_random_seed(job["seed"])
    if job["kind"] == "zoo":
        spec = TaskSpec(input_kind="tokens", sequence_length=length, output_kind="class",
                        metric="accuracy", baseline=1 / job["num_classes"], solved_at=1.0,
                        vocabulary_size=job["vocabulary_size"], num_classes=job["num_classes"])
        model = zoo.models.get(f"{job['family']}_{job['size']}", spec, **job["config"])
    else:
        model = keras_model(job["kind"], job["family"], job["config"],
                            job["vocabulary_size"], length, job["num_classes"])
    return KerasSubject(model, inputs, targets, job["jit"])


# --------------------------------------------------------------------- Keras


def keras_model(kind, family, config, vocabulary_size, sequence_length, num_classes):
    """The uncompiled Keras reference model `kind` for `family` (see module doc)."""
    if kind == "keras" and family in KERAS_RECURRENT:
        return _keras_recurrent(family, config, vocabulary_size, num_classes)
    if kind == "keras_hub" and family == "transformer":
        return _keras_hub_transformer(config, vocabulary_size, sequence_length, num_classes)
    valid = {f: [k for k in kinds if k != "pytorch"] for f, kinds in REFERENCES_BY_FAMILY.items()}
    raise ValueError(f"No Keras reference {kind!r} for family {family!r}. Valid: {valid}")


def _keras_recurrent(family, config, vocabulary_size, num_classes):
    import keras

    layer = getattr(keras.layers, KERAS_RECURRENT[family])
    num_layers = config["num_layers"]
    inputs = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        vocabulary_size, config["embedding_dim"] or config["hidden_dim"], name="embedding"
    )(inputs)
    for i in range(num_layers):
        # (B, T, H), and (B, H) from the top layer: its final state
        x = layer(config["hidden_dim"], return_sequences=i < num_layers - 1, name=f"block_{i}")(x)
    outputs = keras.layers.Dense(num_classes, name="head")(x)
    return keras.Model(inputs, outputs, name=f"keras_{family}")


def _keras_hub_transformer(config, vocabulary_size, sequence_length, num_classes):
    import keras
    import keras_hub

    inputs = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size, sequence_length, config["hidden_dim"], name="embedding"
    )(inputs)
    for i in range(config["num_layers"]):
        x = keras_hub.layers.TransformerEncoder(
            intermediate_dim=config["intermediate_dim"],
            num_heads=config["num_heads"],
            dropout=config["dropout"],
            normalize_first=config["normalize_first"],
            layer_norm_epsilon=1e-5,
            name=f"block_{i}",
        )(x)  # (B, T, D)
    x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)  # (B, D)
    outputs = keras.layers.Dense(num_classes, name="head")(x)
    return keras.Model(inputs, outputs, name="keras_hub_transformer")


# ------------------------------------------------------------------- PyTorch


def torch_model(family, config, vocabulary_size, sequence_length, num_classes):
    """The PyTorch-native reference for `family`, as an `nn.Module`."""
    import torch
    from torch import nn

    class SequenceClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            if family == "transformer":
                width = config["hidden_dim"]
                self.embedding = nn.Embedding(vocabulary_size, width)
                self.position_embedding = nn.Embedding(sequence_length, width)
                block = nn.TransformerEncoderLayer(
                    width, config["num_heads"], config["intermediate_dim"],
                    dropout=config["dropout"], batch_first=True,
                    norm_first=config["normalize_first"], layer_norm_eps=1e-5,
                )
                self.mixer = nn.TransformerEncoder(
                    block, config["num_layers"], enable_nested_tensor=False
                )
            else:
                width = config["embedding_dim"] or config["hidden_dim"]
                self.embedding = nn.Embedding(vocabulary_size, width)
                self.mixer = getattr(nn, TORCH_RECURRENT[family])(
                    width, config["hidden_dim"], num_layers=config["num_layers"],
                    batch_first=True,
                )
                width = config["hidden_dim"]
            self.head = nn.Linear(width, num_classes)

        def forward(self, tokens):
            x = self.embedding(tokens)  # (B, T, D)
            if family == "transformer":
                positions = torch.arange(tokens.shape[1], device=tokens.device)
                x = self.mixer(x + self.position_embedding(positions))
                x = x.mean(dim=1)  # (B, D)
            else:
                x, _ = self.mixer(x)
                x = x[:, -1]  # (B, H): the final state of the top layer
            return self.head(x)

    if family not in TORCH_RECURRENT and family != "transformer":
        raise ValueError(
            f"No PyTorch reference for family {family!r}. Valid: {sorted(REFERENCES_BY_FAMILY)}"
        )
    return SequenceClassifier()


def torch_count_params(module):
    """Parameters by part, as `zoo.models.count_params` splits a Keras model."""
    parts = {"embedding": 0, "mixer": 0, "head": 0}
    for name, parameter in module.named_parameters():
        top = name.split(".")[0]
        parts["embedding" if top.endswith("embedding") else top] += parameter.numel()
    return {"total": sum(parts.values()), **parts}


class TorchSubject:
    """One PyTorch-native model on one synthetic batch: timed train and predict steps.

    Every step ends in a device synchronisation (`loss.item()`, and
    `torch.cuda.synchronize()` on a GPU), so the clock reads finished work.
    `precision`: `"float32"`, or a mixed policy run under `torch.autocast`.
    """

    def __init__(self, family, config, inputs, targets, vocabulary_size, num_classes,
                 precision="float32"):
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"Received an invalid value for `precision`: {precision!r}. "
                             f"Valid choices: {list(PRECISIONS)}")
        self.torch = torch
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        torch.manual_seed(0)
        length = inputs.shape[1]
        self.model = torch_model(family, config, vocabulary_size, length, num_classes)
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.inputs = torch.as_tensor(inputs, dtype=torch.long, device=self.device)
        self.targets = torch.as_tensor(targets, dtype=torch.long, device=self.device)
        self.params = torch_count_params(self.model)
        self.jit_compile = False
        self.precision = precision
        dtype = AUTOCAST_DTYPES.get(precision)
        self.autocast_dtype = getattr(torch, dtype) if dtype else None
        # float16 gradients underflow without loss scaling (Keras scales them too)
        self.scaler = (torch.amp.GradScaler("cuda")
                       if precision == "mixed_float16" and self.device.type == "cuda" else None)

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return self.torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _synchronize(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def train_step(self):
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            loss = self.loss_fn(self.model(self.inputs), self.targets)
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        value = loss.item()
        self._synchronize()
        return value

    def predict_step(self):
        self.model.eval()
        with self.torch.inference_mode(), self._autocast():
            logits = self.model(self.inputs)
            logits.cpu()
        self._synchronize()


def torch_describe(environment, precision="float32"):
    """`zoo.measure.environment.describe()` for a process without Keras.

    `environment` carries what the parent process found (versions, commit,
    CPU name); the device comes from PyTorch here.
    """
    import torch

    found = dict(environment)
    found["backend"] = "pytorch"
    found["precision"] = precision
    if torch.cuda.is_available():
        found.update(device=torch.cuda.get_device_name(0), device_kind="gpu")
    return found
