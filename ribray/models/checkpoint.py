"""Local weight files given as `checkpoint:` in a spec's model entry."""

from __future__ import annotations

import os
import pickle
import re
from typing import TYPE_CHECKING

from ribray.errors import PermanentError, first_line

if TYPE_CHECKING:
    import torch
    from torch import nn

# Containers that training scripts wrap a state dict in (the reference code saves
# {"epoch", "state_dict", "optimizer"}; DeiT-style scripts use "model").
WRAPPER_KEYS = ("state_dict", "model")


def check_checkpoint_file(path: str) -> None:
    """Raise unless `path` is a readable local file."""
    if "://" in path:
        raise PermanentError(f"checkpoint {path}: must be a local file (copy it to each machine, "
                          "or to a shared file system)")
    if not os.path.isfile(path):
        raise PermanentError(f"checkpoint file not found: {path}")


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A state dict from a .safetensors file, or from a torch file (weights_only=True)."""
    import torch

    check_checkpoint_file(path)
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except Exception as error:  # noqa: BLE001 - safetensors' own error types: not a safetensors file
            raise PermanentError(f"checkpoint {path} cannot be read as safetensors: {first_line(error)}") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as error:  # code in the pickle, truncated, other formats
        raise PermanentError(f"checkpoint {path} cannot be read as safetensors or a torch state dict "
                             f"(weights_only: no code in it is run): {_load_problem(error)}. {READABLE}") from None
    for key in WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(hasattr(v, "shape") for v in state.values()):
        raise PermanentError(f"checkpoint {path} is not a state dict (a mapping of names to tensors)")
    return _strip_prefix(state, "module.")  # saved from a DistributedDataParallel wrapper


READABLE = ("ribray reads .safetensors files and torch files that hold a state dict of tensors "
            "(torch.load with weights_only=True); to convert another file, load it yourself where you trust "
            "its source and save the model's state_dict() with torch.save or safetensors.torch.save_file")


def _load_problem(error: BaseException) -> str:
    """What torch.load(weights_only=True) refused, without torch's advice to load the file
    with weights_only=False (which runs the code in it: never to be passed on)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    if found := re.search(r"Unsupported global: GLOBAL (\S+)", text):
        return f"it holds a {found.group(1)} object, not only tensors"
    if "weights_only" in text and (found := re.search(r"WeightsUnpickler error: ([^\n]+)", text)):
        return found.group(1).split(". Please")[0]
    return "torch could not unpickle it" if "weights_only" in text else first_line(error)


def load_checkpoint(module: nn.Module, path: str, model_name: str = "") -> None:
    """Load a weights file into `module`; say which keys do not fit when it is not this model's."""
    from ribray.models.state import state_mismatch

    state = read_state_dict(path)
    problem = state_mismatch(module.state_dict(), state)
    if problem:
        raise PermanentError(f"checkpoint {path} is not a state dict of model "
                          f"{model_name or type(module).__name__}: {problem}")
    module.load_state_dict(state)


def _strip_prefix(state: dict, prefix: str) -> dict:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state
