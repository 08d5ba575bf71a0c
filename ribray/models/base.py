"""What a model-registry entry builds: a 1000-way ImageNet classifier and its preprocessing."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

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


class ModelSource(ABC):
    """A family of model names that build without a registry entry of their own: timm's names,
    `open_clip:ARCH/TAG`. One subclass per source, registered in `ribray.models.SOURCES` under
    the prefix its names start with (`open_clip`); the names without a registered prefix are
    timm's. `ribray.models.resolve.parse_model_name` tells a name's source once; every hook
    takes the name as the spec writes it.

    Called in this order: `check` (validate, and every build), then `weights_problem` (offline),
    `weights_url` and `state_bytes` (the plan's storage estimate) before a sweep; `build` in the
    trial. A registry entry that only names one of the source's models (`is_alias`) is built by
    the source too, with what it knows (open_clip skips the text head that a checkpoint replaces,
    timm's sizes are cached); any other entry builds itself."""

    # What the source's aliases wrap: their `build` is functools.partial(builder, source name)
    builder: ClassVar[Callable[..., nn.Module]]

    @abstractmethod
    def check(self, name: str) -> None:
        """Raise UnknownNameError (with a did-you-mean) unless the source knows `name`."""

    def build(self, name: str, pretrained: bool, weights_replaced: bool = False) -> nn.Module:
        """The 1000-way classifier `name`; `weights_replaced`: a checkpoint replaces its weights
        next (what those replace need not be computed)."""
        return self.builder(name, pretrained)

    def is_alias(self, entry: ModelEntry) -> bool:
        """Whether `entry` only names one of this source's models: its build is `builder` of its
        `source`, nothing added (what `timm_entry` makes)."""
        build = entry.build
        return (isinstance(build, functools.partial) and build.func is self.builder
                and build.args == (entry.source,) and not build.keywords)

    @abstractmethod
    def weights_problem(self, name: str) -> str | None:
        """None when the pretrained weights of `name` are in the local cache, else what is missing."""

    @abstractmethod
    def weights_url(self, name: str) -> str | None:
        """Where the pretrained weights of `name` are downloaded from; None when nowhere."""

    @abstractmethod
    def state_bytes(self, name: str) -> float | None:
        """Bytes of the state dict of `name` in fp32, nothing downloaded; None when unknown."""


@dataclass
class LoadedModel:
    """A built model with the eval transform settings it was trained with."""

    module: nn.Module
    data_config: dict[str, Any] = field(default_factory=dict)  # timm: input_size, mean, std, crop_pct, interpolation
