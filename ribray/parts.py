"""Which parameters of a model are which part: what LP, LoRA and VPT need to know of an
architecture. timm's models are recognised by their layout; any other architecture declares its
parts in its model entry (`ModelEntry(parts=ModelParts(...))`, see `ribray.api`), and the built
model carries them (`PARTS_ATTRIBUTE`), so a method sees them on the module it trains."""

from __future__ import annotations

from dataclasses import dataclass

PARTS_ATTRIBUTE = "ribray_parts"


@dataclass(frozen=True)
class ModelParts:
    """A model's parts, each as module names (a parameter belongs to a part when its name starts
    with one of them followed by a dot, or equals it).

    - `head`: the classifier; LP trains it, LoRA leaves it frozen.
    - `embedding`: the input stem (a patch embedding, a first convolution).
    - `blocks`: the feature extractor's blocks.
    LP trains everything outside the embedding and the blocks (the head, and norms or tokens
    around the blocks, as for a timm ViT); LoRA adapts `lora_targets` (a regex of Linear module
    names, e.g. r".*\\.attn\\.(q|v)"; None: LoRA refuses the model) and trains what LP trains
    but the head."""

    head: tuple[str, ...]
    embedding: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    lora_targets: str | None = None

    def __post_init__(self) -> None:
        for name in ("head", "embedding", "blocks"):
            value = getattr(self, name)
            if isinstance(value, str):  # ("head") is a string, not a tuple: a common slip
                object.__setattr__(self, name, (value,))
        if not self.head:
            raise ValueError("ModelParts needs the head's module name(s)")


def in_part(name: str, modules: tuple[str, ...]) -> bool:
    """Whether parameter `name` belongs to one of `modules`."""
    return any(name == m or name.startswith(m + ".") for m in modules)
