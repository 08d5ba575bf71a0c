"""Weight-space interpolation: WiSE-FT (Wortsman et al. 2022) and uniform model soups
(Wortsman et al. 2022). Inputs are state dicts of one architecture, keyed alike (what the
interpolatable methods' `export` gives); floating tensors are averaged, integer buffers
(e.g. BatchNorm's `num_batches_tracked`) are copied."""

from __future__ import annotations

from typing import Literal

import torch

from ribray.errors import RibrayError

PRETRAINED = "pretrained"
State = dict[str, torch.Tensor]


def wise_ft(pretrained: State, finetuned: State, alpha: float) -> State:
    """`(1 - alpha) * pretrained + alpha * finetuned` for every floating tensor: alpha 0 is
    exactly the pretrained model, 1 exactly the fine-tuned one. Non-floating buffers come
    from the fine-tuned model."""
    if alpha is None or not 0.0 <= alpha <= 1.0:
        raise RibrayError(f"wise_ft: alpha must be in [0, 1], got {alpha!r}")
    _check_compatible({PRETRAINED: pretrained, "finetuned": finetuned})
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


def soup(states: list[State]) -> State:
    """The uniform average of several models' weights (non-floating buffers from the first)."""
    if len(states) < 2:
        raise RibrayError(f"a soup needs at least two ingredients, got {len(states)}")
    _check_compatible({f"ingredient {i}": state for i, state in enumerate(states)})
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


def interpolate(states_by_name: dict[str, State], method: Literal["wise_ft", "soup"],
                alpha: float | None = None) -> State:
    """What an interpolation trial computes: `wise_ft` mixes the `pretrained` state with the
    one fine-tuned state in `states_by_name` at `alpha`; `soup` averages all of them."""
    if method == "soup":
        return soup(list(states_by_name.values()))
    if method == "wise_ft":
        tuned = [name for name in states_by_name if name != PRETRAINED]
        if PRETRAINED not in states_by_name or len(tuned) != 1:
            raise RibrayError(f"wise_ft needs {PRETRAINED!r} and one fine-tuned model, "
                              f"got {sorted(states_by_name)}")
        return wise_ft(states_by_name[PRETRAINED], states_by_name[tuned[0]], alpha)
    raise RibrayError(f"unknown interpolation {method!r} (known: wise_ft, soup)")


def _check_compatible(states: dict[str, State]) -> None:
    """Same keys and shapes everywhere, or an error saying which ones differ."""
    (first_name, first), *others = states.items()
    for name, state in others:
        if set(state) != set(first):
            missing = sorted(set(first) - set(state))
            extra = sorted(set(state) - set(first))
            raise RibrayError(
                f"cannot average {first_name!r} with {name!r}: their weights are not of one model "
                f"({len(missing)} keys missing from {name!r}, e.g. {missing[:5]}; "
                f"{len(extra)} unexpected, e.g. {extra[:5]})")
        shapes = [k for k in first if first[k].shape != state[k].shape]
        if shapes:
            k = shapes[0]
            raise RibrayError(f"cannot average {first_name!r} with {name!r}: {len(shapes)} tensors differ "
                              f"in shape, e.g. {k}: {tuple(first[k].shape)} vs {tuple(state[k].shape)}")
