"""Model Stock (Jang et al. 2024, "Model Stock: All we need is just a few fine-tuned models"):
layer-wise, move from the average of k >= 2 fine-tunes (of different seeds) toward the pretrained
weights by the angle between the fine-tunes' updates:

    w = t * w_avg + (1 - t) * w_0,    t = k cos(theta) / (1 + (k - 1) cos(theta)),

per tensor, where w_0 is the pretrained tensor, w_avg the mean of the k fine-tuned ones, and
cos(theta) the cosine between two fine-tunes' updates (w_i - w_0), averaged over every pair when
k > 2. An update that is zero (a frozen tensor) gives cos 0, and cos is clipped at 0 (the formula
assumes updates no further apart than orthogonal; below 0, t would leave [0, 1]): such tensors
stay pretrained. Non-floating buffers come from the first fine-tune. One trial per cell, over
the sweep's seeds (at least two)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from pydantic import Field

from ribray.errors import RibrayError
from ribray.interpolations import register
from ribray.interpolations.base import (
    Interpolation,
    InterpolationInputs,
    InterpolationOptions,
    State,
    Variant,
    check_compatible,
)
from ribray.options import PRETRAINED


class ModelStockOptions(InterpolationOptions):
    of: str = Field("ft", description="the method whose fine-tunes (one per seed) are combined")


@register("model_stock")
class ModelStock(Interpolation):
    summary = "layer-wise interpolation toward the pretrained weights by the fine-tunes' angle (Jang et al. 2024)"
    Options = ModelStockOptions
    planned_options = ("of",)
    min_seeds = 2

    def variants(self) -> list[Variant]:
        return [Variant((PRETRAINED, self.options.of), across_seeds=True)]

    def build(self, inputs: InterpolationInputs) -> State:
        finetuned = [s for name, s in zip(inputs.names, inputs.states, strict=True) if name != PRETRAINED]
        stock, ratios = model_stock(inputs.pretrained, finetuned)
        inputs.notes |= {"model stock mean t": sum(ratios.values()) / max(1, len(ratios))}
        return stock


def model_stock(pretrained: State, finetuned: Sequence[State]) -> tuple[State, dict[str, float]]:
    """The Model Stock weights, and the ratio t of every floating tensor."""
    import torch

    k = len(finetuned)
    if k < 2:
        raise RibrayError(f"model_stock needs at least two fine-tunes (of different seeds), got {k}")
    check_compatible({PRETRAINED: pretrained, **{f"fine-tune {i}": s for i, s in enumerate(finetuned)}})
    merged, ratios = {}, {}
    for key, first in finetuned[0].items():
        if not first.is_floating_point():
            merged[key] = first.clone()
            continue
        base = pretrained[key].to(device=first.device, dtype=torch.float32)
        updates = [s[key].to(dtype=torch.float32).flatten() - base.flatten() for s in finetuned]
        cosines = [_cosine(a, b) for a, b in combinations(updates, 2)]
        cos = max(0.0, sum(cosines) / len(cosines))
        t = k * cos / (1 + (k - 1) * cos)
        average = sum(s[key].to(dtype=torch.float32) for s in finetuned) / k
        merged[key] = (t * average + (1 - t) * base).to(first.dtype)
        ratios[key] = t
    return merged, ratios


def _cosine(a, b) -> float:
    norms = float(a.norm()) * float(b.norm())
    return float(a @ b) / norms if norms > 0 else 0.0
