"""WiSE-FT (Wortsman et al. 2022): `(1 - alpha) * pretrained + alpha * fine-tuned`, one
trial per alpha (the paper: 0.5) between the pretrained and one method's fine-tuned weights."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, field_validator

from ribray.errors import RibrayError
from ribray.interpolations import register
from ribray.interpolations.base import Interpolation, InterpolationOptions, State, Variant, check_compatible
from ribray.options import PRETRAINED


class WiseFtOptions(InterpolationOptions):
    of: str = Field("ft", description="the method whose fine-tuned weights are mixed in")
    alphas: list[float] = Field(default_factory=lambda: [0.5], min_length=1,
                                description="weights of the fine-tuned model; a trial each")

    @field_validator("alphas")
    @classmethod
    def _in_unit_interval(cls, alphas: list[float]) -> list[float]:
        for alpha in alphas:
            if not 0.0 <= alpha <= 1.0:
                raise ValueError(f"alpha {alpha} is outside [0, 1]")
        return sorted(set(alphas))


@register("wise_ft")
class WiseFt(Interpolation):
    order = 10
    summary = "mix the pretrained and fine-tuned weights: (1 - alpha) * pre + alpha * ft"
    Options = WiseFtOptions
    planned_options = ("of", "alphas")
    alpha_options = ("alphas",)

    def variants(self) -> list[Variant]:
        return [Variant((PRETRAINED, self.options.of), alpha) for alpha in self.options.alphas]

    @staticmethod
    def combine(states: Sequence[State], alpha: float | None) -> State:
        if len(states) != 2:
            raise RibrayError(f"wise_ft needs the pretrained and one fine-tuned model, got {len(states)}")
        return wise_ft(states[0], states[1], alpha)


def wise_ft(pretrained: State, finetuned: State, alpha: float) -> State:
    """`(1 - alpha) * pretrained + alpha * finetuned` for every floating tensor: alpha 0 is
    exactly the pretrained model, 1 exactly the fine-tuned one. Non-floating buffers come
    from the fine-tuned model."""
    import torch

    if alpha is None or not 0.0 <= alpha <= 1.0:
        raise RibrayError(f"wise_ft: alpha must be in [0, 1], got {alpha!r}")
    check_compatible({PRETRAINED: pretrained, "finetuned": finetuned})
    mixed = {}
    for key, tuned in finetuned.items():
        base = pretrained[key].to(device=tuned.device, dtype=tuned.dtype)
        if not tuned.is_floating_point() or alpha == 1.0:
            mixed[key] = tuned.clone()
        elif alpha == 0.0:
            mixed[key] = base.clone()
        else:
            mixed[key] = torch.lerp(base, tuned, alpha)
    return mixed
