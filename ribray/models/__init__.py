"""Model registry: named pretrained sources; any other timm model name, and open_clip
zero-shot classifiers (`open_clip:ARCH/TAG`), work too."""

from __future__ import annotations

from ribray.models.base import LoadedModel, ModelEntry
from ribray.registry import Registry, import_submodules

MODELS: Registry[ModelEntry] = Registry("model", list_command="ribray models")


def register(entry: ModelEntry) -> ModelEntry:
    return MODELS.register(entry.name)(entry)


import_submodules(__name__)

from ribray.models.resolve import (
    build_model,
    check_model_name,
    check_weights_available,
    download_weights,
    state_bytes,
    weights_origin,
)

__all__ = ["MODELS", "LoadedModel", "ModelEntry", "build_model", "check_model_name",
           "check_weights_available", "download_weights", "register", "state_bytes",
           "weights_origin"]
