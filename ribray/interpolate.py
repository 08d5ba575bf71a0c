"""Weight-space interpolation: WiSE-FT (Wortsman et al. 2022) and uniform model soups."""

from __future__ import annotations

import torch

from ribray.errors import RibrayError

PRETRAINED = "pretrained"


def _check_keys(states: dict[str, dict[str, torch.Tensor]]) -> None:
    names = list(states)
    reference = set(states[names[0]])
    for name in names[1:]:
        if set(states[name]) != reference:
            missing = sorted(reference - set(states[name]))[:5]
            extra = sorted(set(states[name]) - reference)[:5]
            raise RibrayError(f"cannot average {names[0]!r} with {name!r}: their weights differ "
                              f"(missing {missing}, unexpected {extra})")


def wise_ft(pretrained: dict[str, torch.Tensor], finetuned: dict[str, torch.Tensor],
            alpha: float) -> dict[str, torch.Tensor]:
    """(1 - alpha) * pretrained + alpha * finetuned; alpha 0 is the pretrained model, 1 the
    fine-tuned one. Integer buffers (counters) come from the fine-tuned model."""
    _check_keys({PRETRAINED: pretrained, "finetuned": finetuned})
    mixed = {}
    for key, tuned in finetuned.items():
        base = pretrained[key]
        if tuned.is_floating_point():
            mixed[key] = torch.lerp(base.to(tuned.dtype), tuned, alpha) if 0 < alpha < 1 else \
                (tuned.clone() if alpha == 1 else base.to(tuned.dtype).clone())
        else:
            mixed[key] = tuned.clone()
    return mixed


def soup(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The uniform average of several models' weights (integer buffers from the first)."""
    if len(states) < 2:
        raise RibrayError("a soup needs at least two ingredients")
    _check_keys({str(i): s for i, s in enumerate(states)})
    averaged = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            averaged[key] = torch.stack([s[key].to(torch.float32) for s in states]).mean(0).to(first.dtype)
        else:
            averaged[key] = first.clone()
    return averaged


def interpolate(states_by_name: dict[str, dict[str, torch.Tensor]], method: str,
                alpha: float | None = None) -> dict[str, torch.Tensor]:
    """Dispatch for the interpolation trials: `wise_ft` mixes the pretrained weights with
    the one fine-tuned model in `states_by_name`; `soup` averages all of them."""
    if method == "soup":
        return soup(list(states_by_name.values()))
    if method == "wise_ft":
        tuned = [name for name in states_by_name if name != PRETRAINED]
        if PRETRAINED not in states_by_name or len(tuned) != 1:
            raise RibrayError(f"wise_ft needs the pretrained and one fine-tuned model, got {list(states_by_name)}")
        return wise_ft(states_by_name[PRETRAINED], states_by_name[tuned[0]], alpha)
    raise RibrayError(f"unknown interpolation {method!r} (known: wise_ft, soup)")
