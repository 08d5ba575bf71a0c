"""Whether two state dicts hold the weights of one architecture: the single check behind
loading a checkpoint into a model and averaging fine-tuned weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def state_mismatch(expected: Mapping[str, Any], found: Mapping[str, Any],
                   expected_name: str = "the model", found_name: str = "the file") -> str | None:
    """Why `found` is not a state dict of the model that `expected` belongs to (missing or
    unexpected keys, tensors of other shapes), or None when the keys and shapes agree."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        return (f"{len(missing)} missing keys (e.g. {missing[:5]}), "
                f"{len(unexpected)} unexpected keys (e.g. {unexpected[:5]}) in {found_name}")
    wrong = [k for k in expected if tuple(expected[k].shape) != tuple(found[k].shape)]
    if wrong:
        k = wrong[0]
        return (f"{len(wrong)} tensors differ in shape, e.g. {k}: {tuple(found[k].shape)} in "
                f"{found_name}, {tuple(expected[k].shape)} in {expected_name}")
    return None
