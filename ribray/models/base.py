"""What a model-registry entry builds: a 1000-way ImageNet classifier and its preprocessing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ribray.parts import ModelParts

if TYPE_CHECKING:
    from torch import nn

# What a model entry may say of its preprocessing (timm's data-config keys)
DATA_CONFIG_KEYS = ("input_size", "interpolation", "mean", "std", "crop_pct", "crop_mode")


@dataclass(frozen=True)
class ModelEntry:
    """A named pretrained source. `build(pretrained)` returns a module mapping normalized
    images (B, 3, H, W) to 1000 ImageNet logits in canonical class order.

    A timm model brings its preprocessing (its pretrained config) and its parts; any other
    `nn.Module` declares them: `data_config` (timm's keys: input_size (3, H, W), mean, std,
    crop_pct, interpolation, crop_mode; what it omits takes timm's defaults) and `parts` (which
    modules are the head, the embedding and the blocks: what LP, LoRA and VPT need)."""

    name: str
    family: str  # "timm", "open_clip", "test"
    summary: str
    build: Callable[[bool], nn.Module]
    weights: str = ""  # where the pretrained weights come from (documentation)
    paper_column: str = ""  # the column of the paper's tables this model is
    # The timm name or `open_clip:ARCH/TAG` that `build` creates; its weights are the ones
    # `check_weights_available` looks for. Empty: no downloadable weights (random init).
    source: str = ""
    data_config: dict[str, Any] | None = None
    parts: ModelParts | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.data_config or {}) - set(DATA_CONFIG_KEYS))
        if unknown:
            raise ValueError(f"model {self.name}: data_config keys {unknown} are not timm's "
                             f"({', '.join(DATA_CONFIG_KEYS)})")


@dataclass
class LoadedModel:
    """A built model with the eval transform settings it was trained with."""

    module: nn.Module
    data_config: dict[str, Any] = field(default_factory=dict)  # timm: input_size, mean, std, crop_pct, interpolation
