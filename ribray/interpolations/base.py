"""What an interpolation is: its options in the spec, the trials it asks for in each cell
(model, downstream set, seed, train subset), and how it combines the finished weights.

Inputs are state dicts of one architecture keyed alike (what interpolatable methods
`export`); floating tensors are combined, integer buffers (e.g. BatchNorm's
`num_batches_tracked`) are copied. No torch at import: `ribray methods` lists them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ribray.errors import RibrayError
from ribray.options import PRETRAINED, Strict

if TYPE_CHECKING:
    import torch

State = dict[str, "torch.Tensor"]


class InterpolationOptions(Strict):
    """Options of one interpolation; subclasses add theirs with the paper's defaults."""


@dataclass(frozen=True)
class Variant:
    """One interpolation trial of a cell: the weights it combines, in order (method names or
    `pretrained`), and its mixing weight when it has one (a table row per alpha)."""

    ingredients: tuple[str, ...]
    alpha: float | None = None


class Interpolation:
    """Combines finished weights without training: one subclass per file in
    ribray/interpolations, registered by name."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    Options: ClassVar[type[InterpolationOptions]] = InterpolationOptions

    def __init__(self, options: InterpolationOptions):
        self.options = options

    def variants(self) -> list[Variant]:
        """The trials this interpolation asks for in every cell."""
        raise NotImplementedError

    @staticmethod
    def combine(states: Sequence[State], alpha: float | None) -> State:
        """The weights of one variant from its ingredients' states, in the variant's order."""
        raise NotImplementedError

    def methods_read(self) -> list[str]:
        """The fine-tuning methods whose weights the variants read, in order (no pretrained)."""
        names = (i for v in self.variants() for i in v.ingredients if i != PRETRAINED)
        return list(dict.fromkeys(names))


def check_compatible(states: dict[str, State]) -> None:
    """Same keys and shapes in every state, or an error saying which ones differ."""
    from ribray.models.state import state_mismatch

    (first_name, first), *others = states.items()
    for name, state in others:
        problem = state_mismatch(first, state, expected_name=repr(first_name), found_name=repr(name))
        if problem:
            raise RibrayError(f"cannot average {first_name!r} with {name!r}: their weights are not "
                              f"of one model ({problem})")


