"""Every ribray error reaches the driver whole: Ray copies (`copy.copy`) and pickles a trial's
exception on its way, and an error that cannot be rebuilt arrives as a TypeError about its
`__init__` instead of the real cause."""

from __future__ import annotations

import copy
import importlib
import pickle
import pkgutil

import pytest

import ribray
from ribray.errors import RibrayError, UnknownNameError

ARGUMENTS = {"UnknownNameError": ("method", "fft", ["ft", "lp"]), "SubsetTooLargeError": (4, 7, 2)}


def _every_error_type() -> list[type]:
    for info in pkgutil.walk_packages(ribray.__path__, "ribray."):
        if not info.name.startswith("ribray._"):
            importlib.import_module(info.name)
    found, todo = set(), [RibrayError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo += cls.__subclasses__()
    return sorted((c for c in found if c.__module__.startswith("ribray")), key=lambda c: c.__qualname__)


ERRORS = _every_error_type()


def test_every_error_type_is_found():
    names = {c.__name__ for c in ERRORS}
    assert {"RibrayError", "SpecError", "UnknownNameError", "PermanentError", "DataError", "StorageError",
            "MixedSpecsError", "MixedEvaluationError", "SubsetTooLargeError"} <= names


@pytest.mark.parametrize("cls", ERRORS, ids=[c.__name__ for c in ERRORS])
@pytest.mark.parametrize("how", ["copy", "pickle"])
def test_every_error_survives_copy_and_pickle_with_its_message(cls, how):
    if cls.__name__ in ARGUMENTS:
        error = cls(*ARGUMENTS[cls.__name__])
    else:  # every other error takes its message
        error = cls("storage s3://b/x is not writable: planted message")
    rebuilt = copy.copy(error) if how == "copy" else pickle.loads(pickle.dumps(error))
    assert type(rebuilt) is cls
    assert str(rebuilt) == str(error) and str(rebuilt)
    assert vars(rebuilt) == vars(error)


def test_a_plugins_own_error_with_any_init_survives_too():
    class PluginError(RibrayError):
        def __init__(self, layer: str, shape: tuple):
            self.layer, self.shape = layer, shape
            super().__init__(f"layer {layer} has shape {shape}")

    error = PluginError("blocks.0", (3, 4))
    copied = copy.copy(error)
    assert str(copied) == "layer blocks.0 has shape (3, 4)" and copied.shape == (3, 4)


def test_unknown_names_keep_their_did_you_mean():
    error = pickle.loads(pickle.dumps(UnknownNameError("method", "fft", ["ft", "lp"])))
    assert str(error) == "unknown method 'fft'; did you mean 'ft'? (known: ft, lp)" and error.known == ["ft", "lp"]
