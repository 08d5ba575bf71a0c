"""Final weights of finished fine-tunes, keyed by the trial's weights key (not Tune's folders)."""

from __future__ import annotations

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from ribray.errors import RibrayError
from ribray.storage import Location


def weights_location(weights_dir: Location, key: str) -> Location:
    return weights_dir.child(f"{key}.safetensors")


def save_weights(weights_dir: Location, key: str, state: dict[str, torch.Tensor]) -> Location:
    """Store a state dict atomically as safetensors (written once a fine-tune is done)."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    target = weights_location(weights_dir, key)
    target.write_bytes(save_bytes(tensors))
    return target


def load_weights(weights_dir: Location, key: str) -> dict[str, torch.Tensor]:
    location = weights_location(weights_dir, key)
    if not location.exists():
        raise RibrayError(f"weights {location.uri} are missing: the trial that makes them has not finished")
    return load_bytes(location.read_bytes())


def has_weights(weights_dir: Location, key: str) -> bool:
    return weights_location(weights_dir, key).exists()
