"""A registry of model families and their named presets (timm-style).

A family is a config dataclass (the hyperparameters), a `build(spec, config,
name)` function and presets `{size: values}`. A model name is
`<family>_<size>`, e.g. `lstm_small` or `transformer_decoder_tiny`:

    zoo.models.names("lstm_*")           # ['lstm_base', 'lstm_small', 'lstm_tiny']
    zoo.models.get("lstm_small", task.spec, hidden_dim=96)   # -> keras.Model
    zoo.models.state_size("lstm_small", task.spec)            # -> 256 floats

A family may also state its state size: the floats a model carries per
sequence while generating (Zoology's column), from its config and the lengths.
"""

import dataclasses
import difflib
import fnmatch
import typing
from typing import Callable, Optional

from zoo.names import SIZES  # noqa: F401 (zoo.models.SIZES)


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    config_class: type
    build: Callable
    presets: dict
    description: str
    state_size: Optional[Callable] = None

    def config(self, size, **overrides):
        if size not in self.presets:
            raise KeyError(
                f"Family {self.name!r} has no size {size!r}; valid: {list(self.presets)}"
            )
        values = {**self.presets[size], **overrides}
        valid = [f.name for f in dataclasses.fields(self.config_class)]
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise ValueError(
                f"Unknown override(s) {unknown} for {self.name}_{size}. "
                f"Valid overrides: {valid}"
            )
        hints = typing.get_type_hints(self.config_class)
        for key, value in overrides.items():
            expected = _expected_type(hints.get(key))
            if expected is not None and not _is_a(value, expected):
                names = " or ".join("None" if t is type(None) else t.__name__ for t in expected)
                raise ValueError(
                    f"Received an invalid value for override `{key}` of {self.name}_{size}, "
                    f"expected {names}. Received: {key}={value!r}")
        return self.config_class(**values)


_FAMILIES: dict = {}
_CHECKED = (bool, int, float, str, tuple)


def _expected_type(hint):
    """The types an override annotated `hint` may take; None: not checked."""
    if hint in _CHECKED:
        return (hint,)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and all(a in _CHECKED + (type(None),) for a in args):
        return args
    return None


def _is_a(value, expected):
    for kind in expected:
        if kind is type(None) and value is None:
            return True
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind is tuple and isinstance(value, (tuple, list)):
            return True
        if kind in (bool, str) and isinstance(value, kind):
            return True
    return False


def register_family(name, config_class, build, presets, description, state_size=None):
    """Register a family. state_size: `state_size(config, lengths) -> int`,
    the floats a model carries per sequence while generating; `lengths` is a
    dict with `"sequence"` (input steps), `"target"` (output steps, for
    encoder-decoders) and `"image_shape"` (for image models, else None)."""
    if name in _FAMILIES:
        raise ValueError(f"Model family {name!r} is registered twice.")
    _FAMILIES[name] = Family(name, config_class, build, presets, description, state_size)


def set_state_size(name, state_size):
    """Attach a state-size rule to an already registered family."""
    if name not in _FAMILIES:
        raise KeyError(f"Unknown model family {name!r}; valid: {sorted(_FAMILIES)}")
    _FAMILIES[name] = dataclasses.replace(_FAMILIES[name], state_size=state_size)


def families():
    return dict(_FAMILIES)


def names(pattern="*"):
    """Registered model names matching a shell-style `pattern`, sorted."""
    every = [f"{family}_{size}" for family, f in _FAMILIES.items() for size in f.presets]
    return sorted(n for n in every if fnmatch.fnmatchcase(n, pattern))


def parse(name):
    """`"transformer_decoder_small"` -> `(Family, "small")`."""
    family, _, size = str(name).rpartition("_")
    if family not in _FAMILIES or size not in _FAMILIES[family].presets:
        close = difflib.get_close_matches(str(name), names(), n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise KeyError(f"Unknown model {name!r}.{hint} Valid models: {names()}")
    return _FAMILIES[family], size


def config(name, **overrides):
    """The resolved hyperparameters of model `name` with `overrides`."""
    family, size = parse(name)
    return family.config(size, **overrides)


def get(name, spec, **overrides):
    """Build model `name` for a task spec, as an uncompiled `keras.Model`.

    The input layer and the head follow from `spec`; `overrides` replace the
    preset's hyperparameters. Raises `KeyError` for an unknown name,
    `ValueError` for an unknown override, and `IncompatibleTaskError` (a
    `ValueError`) when the model cannot fit the task.
    """
    family, size = parse(name)
    return family.build(spec, family.config(size, **overrides), name=name)


def check_fits(name, spec, **overrides):
    """Refuse now, without building it, a model that cannot fit the task
    `spec` describes (`IncompatibleTaskError` naming why), or a bad override."""
    from zoo.models.skeleton import fits

    family, size = parse(name)
    fits(family.build, spec, family.config(size, **overrides), name)


def _lengths(spec_or_sequence_length):
    value = spec_or_sequence_length
    if isinstance(value, bool) or not (isinstance(value, int) or hasattr(value, "sequence_length")):
        raise ValueError(
            "Expected a task spec or a positive int sequence length. "
            f"Received: spec_or_sequence_length={value!r}"
        )
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"Expected a positive sequence length. Received: {value!r}")
        return {"sequence": value, "target": value, "image_shape": None}
    return {
        "sequence": value.sequence_length,
        "target": value.target_length or value.sequence_length,
        "image_shape": getattr(value, "image_shape", None),
    }


def state_size(name, spec_or_sequence_length, **overrides):
    """Floats model `name` carries per sequence while generating (Zoology's
    state size): hidden units of an RNN (h and c for an LSTM), d x N of an
    SSM, the key-value cache `2 x T x d x layers` of attention, `d_k x d_v`
    per head of linear attention.

    spec_or_sequence_length: a task spec (its lengths are used: input length,
    target length for encoder-decoders, image shape for ViT) or an int length
    T (for ViT, the number of tokens attended over). `overrides` as for `get`.
    """
    family, size = parse(name)
    if family.state_size is None:
        raise ValueError(f"Model family {family.name!r} states no state size.")
    lengths = _lengths(spec_or_sequence_length)
    return int(family.state_size(family.config(size, **overrides), lengths))
