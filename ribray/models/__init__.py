"""Model registry: named pretrained sources; any other timm model name, and open_clip
zero-shot classifiers (`open_clip:ARCH/TAG`), work too: each such source of names is an entry
of SOURCES."""

from __future__ import annotations

from collections.abc import Callable

from ribray.models.base import LoadedModel, ModelEntry, ModelSource
from ribray.registry import Registry, import_submodules

MODELS: Registry[ModelEntry] = Registry("model", list_command="ribray models")
SOURCES: Registry[ModelSource] = Registry("model source")
DEFAULT_SOURCE = "timm"  # the source of every name without a registered prefix


def register(entry: ModelEntry) -> ModelEntry:
    return MODELS.register(entry.name)(entry)


def register_source(prefix: str) -> Callable[[type[ModelSource]], type[ModelSource]]:
    """Class decorator: register one instance of a ModelSource subclass for the names that start
    with `prefix:` (DEFAULT_SOURCE: the names without a registered prefix)."""

    def add(cls: type[ModelSource]) -> type[ModelSource]:
        SOURCES.register(prefix)(cls())
        return cls

    return add


import_submodules(__name__)

from ribray.models.resolve import (
    build_model,
    check_model_name,
    check_weights_available,
    download_weights,
    state_bytes,
    weights_origin,
)

__all__ = ["DEFAULT_SOURCE", "MODELS", "SOURCES", "LoadedModel", "ModelEntry", "ModelSource", "build_model",
           "check_model_name", "check_weights_available", "download_weights", "register", "register_source",
           "state_bytes", "weights_origin"]
