"""Uniform model soup (Wortsman et al. 2022): the average of several models' weights (the
paper: pretrained, FT, EWC and LwF), one trial per cell."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from ribray.errors import RibrayError
from ribray.interpolations import register
from ribray.interpolations.base import Interpolation, InterpolationOptions, State, Variant, check_compatible
from ribray.options import PRETRAINED


class SoupOptions(InterpolationOptions):
    ingredients: list[str] = Field(default_factory=lambda: [PRETRAINED, "ft", "ewc", "lwf"], min_length=1,
                                   description="pretrained and/or method labels whose weights are averaged (or "
                                               "patterns, ft(*: at least two once expanded)")


@register("soup")
class UniformSoup(Interpolation):
    order = 20
    summary = "uniform average of the ingredients' weights"
    Options = SoupOptions
    planned_options = ("ingredients",)
    min_ingredients = 2

    def variants(self) -> list[Variant]:
        return [Variant(tuple(self.options.ingredients))]

    @staticmethod
    def combine(states: Sequence[State], alpha: float | None) -> State:
        return soup(list(states))


def soup(states: list[State]) -> State:
    """The uniform average of several models' weights (non-floating buffers from the first)."""
    import torch

    if len(states) < 2:
        raise RibrayError(f"a soup needs at least two ingredients, got {len(states)}")
    check_compatible({f"ingredient {i}": state for i, state in enumerate(states)})
    averaged = {}
    for key, first in states[0].items():
        if not first.is_floating_point():
            averaged[key] = first.clone()
            continue
        # Sum in at least fp32 so that averaging bf16/fp16 weights loses nothing extra.
        total_dtype = torch.promote_types(first.dtype, torch.float32)
        total = sum(state[key].to(device=first.device, dtype=total_dtype) for state in states)
        averaged[key] = (total / len(states)).to(first.dtype)
    return averaged
