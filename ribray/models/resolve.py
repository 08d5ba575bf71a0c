"""Turn a model name from the spec into a built classifier, and check it before a sweep.

A name is a registry alias (`ribray models`), any timm model name (`arch` or `arch.tag`),
or `open_clip:ARCH/TAG` for a CLIP zero-shot classifier: `parse_model_name` tells which, once,
and the source (an entry of ribray.models.SOURCES) does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from ribray.errors import RibrayError
from ribray.models.base import LoadedModel, ModelEntry, ModelSource
from ribray.models.checkpoint import check_checkpoint_file, load_checkpoint
from ribray.models.timm_family import meta_state_bytes
from ribray.options import CHECKPOINT, PRETRAINED_WEIGHTS, RANDOM_INIT


@dataclass(frozen=True)
class ModelName:
    """A model name told apart: its registry entry (None for a source's own name), the name its
    source knows it by (the entry's `source`, else the name itself; "" for an entry without
    downloadable weights) and that source (None with no such name)."""

    name: str
    entry: ModelEntry | None
    source_name: str
    source: ModelSource | None

    @property
    def built_by_source(self) -> bool:
        """The source builds it: a source's own name, or an entry that is only an alias of one."""
        return self.source is not None and (self.entry is None or self.source.is_alias(self.entry))


def parse_model_name(name: str) -> ModelName:
    """`name` as the spec writes it, told apart once: a registry entry, else a source's name
    (the source its prefix names, `open_clip:`; timm's without one)."""
    from ribray.models import MODELS

    entry = MODELS.get(name) if name in MODELS else None
    source_name = entry.source if entry is not None else name
    source = source_of(source_name) if entry is None or source_name else None
    return ModelName(name, entry, source_name, source)


def source_of(source_name: str) -> ModelSource:
    """The source of a name that is no registry entry: the one its prefix (before `:`) names,
    else the default source (timm)."""
    from ribray.models import DEFAULT_SOURCE, SOURCES

    prefix, colon, _ = source_name.partition(":")
    return SOURCES.get(prefix if colon and prefix in SOURCES else DEFAULT_SOURCE)


def check_model_name(name: str) -> None:
    """Raise UnknownNameError (with a did-you-mean) unless `name` is a known model."""
    _check(parse_model_name(name))


def _check(model: ModelName) -> None:
    if model.entry is None:
        model.source.check(model.name)


def build_model(name: str, pretrained: bool = True, checkpoint: str | None = None) -> LoadedModel:
    """Build the named model with its timm data config (preprocessing) at the model's
    evaluation resolution (timm's test size: e.g. torchvision's ResNet-50 V2 weights train at
    176 px but are evaluated, and here fine-tuned, at 224 px with a 232 px resize). A local
    checkpoint (.safetensors, or a torch state dict read with weights_only=True) replaces the
    weights, and the pretrained ones are then not loaded at all."""
    from timm.data import resolve_model_data_config

    model = parse_model_name(name)
    _check(model)
    from_hub = pretrained and checkpoint is None
    if model.built_by_source:
        module = model.source.build(model.source_name, from_hub, weights_replaced=checkpoint is not None)
    else:
        module = model.entry.build(from_hub)
    if model.entry is not None:
        _declare(module, model.entry)
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
    model = parse_model_name(name)
    return model.source.weights_url(model.source_name) if model.source is not None else None


def weights_origin(name: str, pretrained: bool = True, checkpoint: str | None = None) -> str:
    """Where a model's starting weights come from, as result rows record it: a local checkpoint,
    random init (`pretrained: false`, or an entry with no weights to download, as the demo's tiny
    models), or the pretrained weights of its source."""
    if checkpoint is not None:
        return CHECKPOINT
    if not pretrained or parse_model_name(name).source is None:
        return RANDOM_INIT
    return PRETRAINED_WEIGHTS


def missing_weights(name: str) -> str | None:
    """What is missing from the local cache for the named model's pretrained weights, or None."""
    model = parse_model_name(name)
    if model.source is None:
        return None  # a random-init test model
    _check(model)
    problem = model.source.weights_problem(model.source_name)
    shown = name if model.source_name == name else f"{name} ({model.source_name})"
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
    model = parse_model_name(name)
    if model.built_by_source:
        return model.source.state_bytes(model.source_name)
    return meta_state_bytes(lambda: model.entry.build(False))
