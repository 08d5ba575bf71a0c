"""What a model-registry entry builds: a 1000-way ImageNet classifier and its preprocessing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    """A named pretrained source. `build(pretrained)` returns a module mapping normalized
    images (B, 3, H, W) to 1000 ImageNet logits in canonical class order."""

    name: str
    family: str  # "timm", "open_clip", "test"
    summary: str
    build: Callable[[bool], nn.Module]
    weights: str = ""  # where the pretrained weights come from (documentation)
    paper_column: str = ""  # the column of the paper's tables this model is
    # The timm name or `open_clip:ARCH/TAG` that `build` creates; its weights are the ones
    # `check_weights_available` looks for. Empty: no downloadable weights (random init).
    source: str = ""


@dataclass
class LoadedModel:
    """A built model with the eval transform settings it was trained with."""

    module: nn.Module
    data_config: dict[str, Any] = field(default_factory=dict)  # timm: input_size, mean, std, crop_pct, interpolation
