"""Turn a model name from the spec into a built classifier."""

from __future__ import annotations

import functools

from ribray.errors import UnknownNameError
from ribray.models.base import LoadedModel


def _registry():
    from ribray.models import MODELS

    return MODELS


@functools.lru_cache(maxsize=1)
def _timm_names() -> frozenset[str]:
    import timm

    return frozenset(timm.list_models(pretrained=True)) | frozenset(timm.list_models())


def check_model_name(name: str) -> None:
    """Raise UnknownNameError (with a did-you-mean) unless `name` is a known model."""
    if name in _registry():
        return
    if name.startswith("open_clip:"):
        return  # checked by the open_clip family when it resolves the architecture
    if name in _timm_names() or name.split(".")[0] in _timm_names():
        return
    known = set(_registry().names()) | _timm_names()
    raise UnknownNameError("model", name, known, hint="run `ribray models` for the registry; any timm model name works too")


def build_model(name: str, pretrained: bool = True) -> LoadedModel:
    """Build the named model with its timm data config (preprocessing)."""
    import timm

    check_model_name(name)
    if name in _registry():
        module = _registry().get(name).build(pretrained)
    else:
        module = timm.create_model(name, pretrained=pretrained)
    data_config = timm.data.resolve_model_data_config(module)
    return LoadedModel(module=module, data_config=data_config)
