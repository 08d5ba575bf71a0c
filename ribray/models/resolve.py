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


def build_model(name: str, pretrained: bool = True, checkpoint: str | None = None) -> LoadedModel:
    """Build the named model with its timm data config (preprocessing); a local checkpoint
    (.safetensors, or a torch state dict loaded with weights_only=True) replaces the weights."""
    import timm

    check_model_name(name)
    from_hub = pretrained and checkpoint is None
    if name in _registry():
        module = _registry().get(name).build(from_hub)
    else:
        module = timm.create_model(name, pretrained=from_hub)
    if checkpoint is not None:
        load_checkpoint(module, checkpoint)
    data_config = timm.data.resolve_model_data_config(module)
    return LoadedModel(module=module, data_config=data_config)


def load_checkpoint(module, path: str) -> None:
    """Load a state dict file into `module`; say which keys do not fit when it is not this model's."""
    import torch

    from ribray.errors import RibrayError

    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict):
        raise RibrayError(f"checkpoint {path} is not a state dict")
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise RibrayError(f"checkpoint {path} does not fit this model: missing keys "
                          f"{result.missing_keys[:5]}, unexpected keys {result.unexpected_keys[:5]}")
