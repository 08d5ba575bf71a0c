"""Model registry: named pretrained sources; any other timm model name works too."""

from __future__ import annotations

from ribray.models.base import LoadedModel, ModelEntry
from ribray.registry import Registry, import_submodules

MODELS: Registry[ModelEntry] = Registry("model", list_command="ribray models")


def register(entry: ModelEntry) -> ModelEntry:
    return MODELS.register(entry.name)(entry)


import_submodules(__name__)

from ribray.models.resolve import build_model, check_model_name  # noqa: E402

__all__ = ["MODELS", "LoadedModel", "ModelEntry", "build_model", "check_model_name", "register"]
