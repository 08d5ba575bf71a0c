"""Turn a model name from the spec into a built classifier, and check it before a sweep.

A name is a registry alias (`ribray models`), any timm model name (`arch` or `arch.tag`),
or `open_clip:ARCH/TAG` for a CLIP zero-shot classifier.
"""

from __future__ import annotations

from ribray.errors import RibrayError, UnknownNameError
from ribray.models.base import LoadedModel, ModelEntry
from ribray.models.checkpoint import check_checkpoint_file, load_checkpoint
from ribray.models.clip_zero_shot import PREFIX as OPEN_CLIP_PREFIX
from ribray.models.clip_zero_shot import (
    build_zero_shot,
    check_open_clip_name,
    open_clip_weights_problem,
    open_clip_weights_url,
)
from ribray.models.timm_family import (
    build_timm,
    meta_state_bytes,
    timm_names,
    timm_source,
    timm_state_bytes,
    timm_weights_problem,
    timm_weights_url,
)
from ribray.options import CHECKPOINT, PRETRAINED_WEIGHTS, RANDOM_INIT


def _registry():
    from ribray.models import MODELS

    return MODELS


def _entry(name: str) -> ModelEntry | None:
    return _registry().get(name) if name in _registry() else None


def check_model_name(name: str) -> None:
    """Raise UnknownNameError (with a did-you-mean) unless `name` is a known model."""
    if name in _registry():
        return
    if name.startswith(OPEN_CLIP_PREFIX):
        check_open_clip_name(name)
        return
    if name in timm_names():
        return
    known = set(_registry().names()) | timm_names()
    raise UnknownNameError("model", name, known,
                           hint="run `ribray models` for the registry; any timm model name works too")


def build_model(name: str, pretrained: bool = True, checkpoint: str | None = None) -> LoadedModel:
    """Build the named model with its timm data config (preprocessing) at the model's
    evaluation resolution (timm's test size: e.g. torchvision's ResNet-50 V2 weights train at
    176 px but are evaluated, and here fine-tuned, at 224 px with a 232 px resize). A local
    checkpoint (.safetensors, or a torch state dict read with weights_only=True) replaces the
    weights, and the pretrained ones are then not loaded at all."""
    from timm.data import resolve_model_data_config

    check_model_name(name)
    from_hub = pretrained and checkpoint is None
    entry = _entry(name)
    source = entry.source if entry else name
    if source.startswith(OPEN_CLIP_PREFIX):
        module = build_zero_shot(source, from_hub, text_head=checkpoint is None)
    elif entry is not None:
        module = entry.build(from_hub)
    else:
        module = build_timm(name, from_hub)
    if entry is not None:
        _declare(module, entry)
    if checkpoint is not None:
        load_checkpoint(module, checkpoint, model_name=name)
    return LoadedModel(module=module, data_config=resolve_model_data_config(module, use_test_size=True))


def _declare(module, entry: ModelEntry) -> None:
    """What a non-timm entry declares travels on its module: its preprocessing as timm's
    pretrained config (which timm's data-config resolution reads) and its parts."""
    from ribray.parts import PARTS_ATTRIBUTE

    if entry.data_config:
        declared = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.data_config.items()}
        module.pretrained_cfg = {**(getattr(module, "pretrained_cfg", None) or {}), **declared}
    if entry.parts is not None:
        setattr(module, PARTS_ATTRIBUTE, entry.parts)


def check_weights_available(name: str, pretrained: bool = True, checkpoint: str | None = None,
                            offline: bool | None = None) -> None:
    """Raise RibrayError, before any sweep starts, when the model's weights cannot be had:
    a missing checkpoint file, or (offline: HF_HUB_OFFLINE=1, the default of `offline=None`
    when it is set) pretrained weights that are not in the local timm / open_clip cache.
    Online, `weights_to_download` says which weights the trials would download."""
    if checkpoint is not None:
        check_checkpoint_file(checkpoint)
        return
    if not pretrained or not is_offline(offline):
        return
    problem = missing_weights(name)
    if problem:
        raise RibrayError(f"{problem}. {weights_advice([name])}")


def weights_advice(names: list[str]) -> str:
    """How to get pretrained weights onto a machine that cannot download them."""
    return (f"Download them on a machine with internet (`HF_HUB_OFFLINE=0 ribray models "
            f"{' '.join(f'--download {n}' for n in names)}`) and copy its Hugging Face cache ($HF_HOME, default "
            "~/.cache/huggingface) here, or give a local weights file as `checkpoint:` in the model's entry of the spec")


def weights_url(name: str) -> str | None:
    """Where the named model's pretrained weights are downloaded from (a page of the Hugging Face
    hub or a URL); None when it has none to download."""
    entry = _entry(name)
    source = entry.source if entry else name
    if not source:
        return None
    if source.startswith(OPEN_CLIP_PREFIX):
        return open_clip_weights_url(source)
    return timm_weights_url(source)


def weights_origin(name: str, pretrained: bool = True, checkpoint: str | None = None) -> str:
    """Where a model's starting weights come from, as result rows record it: a local checkpoint,
    random init (`pretrained: false`, or an entry with no weights to download, as the demo's tiny
    models), or the pretrained weights of its source."""
    if checkpoint is not None:
        return CHECKPOINT
    entry = _entry(name)
    if not pretrained or (entry is not None and not entry.source):
        return RANDOM_INIT
    return PRETRAINED_WEIGHTS


def missing_weights(name: str) -> str | None:
    """What is missing from the local cache for the named model's pretrained weights, or None."""
    entry = _entry(name)
    source = entry.source if entry else name
    if not source:
        return None  # a random-init test model
    check_model_name(name)
    problem = (open_clip_weights_problem(source) if source.startswith(OPEN_CLIP_PREFIX)
               else timm_weights_problem(source))
    shown = name if source == name else f"{name} ({source})"
    return f"pretrained weights of model {shown} are not available offline: {problem}" if problem else None


def download_weights(name: str) -> None:
    """Build the named model with pretrained weights once, so that they land in the cache."""
    if is_offline():
        raise RibrayError("HF_HUB_OFFLINE is set: unset it (HF_HUB_OFFLINE=0) to download weights")
    build_model(name, pretrained=True)


def is_offline(offline: bool | None = None) -> bool:
    """HF_HUB_OFFLINE, unless `offline` says."""
    if offline is not None:
        return offline
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def state_bytes(name: str) -> float | None:
    """Bytes of the named model's state dict in fp32 (its final weights on disk), counted on a
    model built on the meta device: nothing is allocated or downloaded. A model timm builds is
    counted once per timm version (then read from the cache: no torch, no timm). None when it
    cannot be built that way."""
    entry = _entry(name)
    source = entry.source if entry else name
    if source.startswith(OPEN_CLIP_PREFIX):
        from ribray.models.clip_zero_shot import zero_shot_state_bytes

        try:
            return zero_shot_state_bytes(source)
        except Exception:  # noqa: BLE001 - a size estimate is optional; `validate` reports real problems
            return None
    timm_name = timm_source(entry, name)
    if timm_name is not None:
        return timm_state_bytes(timm_name)
    return meta_state_bytes(lambda: entry.build(False))
