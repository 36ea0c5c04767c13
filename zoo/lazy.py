"""A module imported on first use, so that listing what the zoo holds
(`zoo list`, `Run` checks, experiment files) loads no Keras backend.

    keras = lazy.module("keras")        # at the top of a model module
    ...
    def build(spec, config, name):
        return keras.Model(...)         # Keras (and its backend) loads here

Model and runner modules import Keras and `zoo.layers` this way; the import
statements under `if TYPE_CHECKING:` beside them keep the dependency visible
to `lint-imports` and to type checkers.
"""

import importlib
import types


class _LazyModule(types.ModuleType):
    def __getattr__(self, attribute):
        target = importlib.import_module(self.__name__)
        return getattr(target, attribute)

    def __repr__(self):
        return f"<lazy module {self.__name__!r}>"


def module(name):
    """`name`, imported when one of its attributes is first read."""
    return _LazyModule(name)
