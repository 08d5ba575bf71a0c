"""timm models: any timm name builds; registry aliases point at timm names. Weights come
from timm's pretrained config (Hugging Face hub id, else a URL) through the local cache."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from ribray.errors import UnknownNameError
from ribray.models import DEFAULT_SOURCE, register_source
from ribray.models.base import ModelEntry, ModelSource
from ribray.models.cache import cached_file_problem, hub_file_problem
from ribray.models.timm_index import cached_state_bytes, timm_index

HF_WEIGHTS = "pytorch_model.bin"  # timm's default hub file name, and its safetensors twin
HF_SAFE_WEIGHTS = "model.safetensors"


def build_timm(timm_name: str, pretrained: bool):
    """`timm.create_model` with its 1000-way ImageNet head."""
    import timm

    return timm.create_model(timm_name, pretrained=pretrained)


def timm_entry(name: str, timm_name: str, summary: str, paper_column: str = "") -> ModelEntry:
    """A registry alias for a pretrained timm model."""
    return ModelEntry(name=name, family="timm", summary=summary, source=timm_name,
                      build=functools.partial(build_timm, timm_name), paper_column=paper_column,
                      weights=f"timm `{timm_name}` (Hugging Face hub `timm/{timm_name}`)")


@register_source(DEFAULT_SOURCE)
class TimmSource(ModelSource):
    """Any timm model name: `arch`, or `arch.tag` for one of its pretrained weights."""

    builder = staticmethod(build_timm)

    def check(self, name: str) -> None:
        from ribray.models import MODELS

        if name not in timm_names():
            raise UnknownNameError("model", name, set(MODELS.names()) | timm_names(),
                                   hint="run `ribray models` for the registry; any timm model name works too")

    def weights_problem(self, name: str) -> str | None:
        return timm_weights_problem(name)

    def weights_url(self, name: str) -> str | None:
        return timm_weights_url(name)

    def state_bytes(self, name: str) -> float | None:
        return timm_state_bytes(name)


def timm_names() -> frozenset[str]:
    """Every architecture name and every `arch.tag` name with pretrained weights (ribray/models/
    timm_index.py: from the per-user cache when it is this timm version's)."""
    return timm_index().names


def timm_state_bytes(timm_name: str) -> float | None:
    """Bytes of the model's state dict in fp32 (built once on the meta device, then cached)."""
    return cached_state_bytes(timm_name, lambda: meta_state_bytes(lambda: build_timm(timm_name, False)))


def meta_state_bytes(build: Callable[[], object]) -> float | None:
    """Bytes in fp32 of the state dict of the module `build()` returns, built on the meta
    device (nothing allocated or downloaded); None when it cannot be built that way."""
    import torch

    try:
        with torch.device("meta"):
            module = build()
    except Exception:  # noqa: BLE001 - a size estimate is optional; `validate` reports real problems
        return None
    return float(sum(t.numel() * 4 for t in module.state_dict().values()))


def timm_weights_problem(timm_name: str) -> str | None:
    """None when timm would find this model's pretrained weights offline, else what is missing."""
    cfg = timm_index().weights.get(timm_name)
    if cfg is None or not (cfg.hf_hub_id or cfg.url or cfg.file):
        return f"timm has no pretrained weights for {timm_name!r}"
    if cfg.file:
        return None if os.path.isfile(cfg.file) else f"file {cfg.file} not found"
    if cfg.hf_hub_id:  # timm prefers the hub whenever the config names a hub id
        return hub_file_problem(cfg.hf_hub_id, _hub_file_names(cfg.hf_hub_filename))
    return cached_file_problem(_torch_hub_checkpoints(), cfg.url)


def timm_weights_url(timm_name: str) -> str | None:
    """Where timm downloads this model's pretrained weights from: the Hugging Face hub's repo
    page, a URL, or None (a local file, or no weights)."""
    from huggingface_hub import constants

    cfg = timm_index().weights.get(timm_name)
    if cfg is None or cfg.file:
        return None
    if cfg.hf_hub_id:
        return f"{constants.ENDPOINT}/{cfg.hf_hub_id.partition('@')[0]}"
    return cfg.url or None


def _hub_file_names(filename: str | None) -> list[str]:
    """The hub files timm tries, in order (it prefers a safetensors twin of a .bin file)."""
    filename = filename or HF_WEIGHTS
    if filename.endswith(".safetensors"):
        return [filename]
    twin = HF_SAFE_WEIGHTS if filename == HF_WEIGHTS else filename.removesuffix(".bin") + ".safetensors"
    return [twin, filename]


def _torch_hub_checkpoints() -> str:
    """Where timm's URL downloads go (torch.hub's checkpoint folder)."""
    import torch

    return os.path.join(torch.hub.get_dir(), "checkpoints")
