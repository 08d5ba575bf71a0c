"""Final weights of finished fine-tunes, keyed by the trial's weights key (not Tune's folders)."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from ribray.errors import PermanentError, first_line
from ribray.results.layout import weights_in
from ribray.storage import Location

TRAIN_FINGERPRINT = "ribray.train_fingerprint"  # safetensors metadata: the data it was trained on
PLUGINS = "ribray.plugins"  # safetensors metadata: JSON {plugin: code identity} the weights depend on


def save_weights(weights_dir: Location, key: str, state: dict[str, torch.Tensor],
                 train_fingerprint: str | None = None, plugins: dict[str, str] | None = None) -> Location:
    """Store a state dict atomically as safetensors (written once a fine-tune is done), with
    the fingerprint of the data it was fine-tuned on and the plugins' code it depends on (so a
    trial reading these weights records that code too)."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    target = weights_in(weights_dir, key)
    metadata = {TRAIN_FINGERPRINT: train_fingerprint} if train_fingerprint else {}
    if plugins:
        metadata[PLUGINS] = json.dumps(plugins, sort_keys=True)
    metadata = metadata or None
    target.write_bytes(save_bytes(tensors, metadata=metadata))
    return target


def weights_metadata(location: Location) -> dict[str, str]:
    """The safetensors header's metadata, read without the tensors (8 bytes + the header)."""
    with location.fs.open_input_file(location.path) as handle:
        size = int.from_bytes(handle.read(8), "little")
        return json.loads(handle.read(size)).get("__metadata__") or {}


def weights_plugins(weights_dir: Location, key: str) -> dict[str, str]:
    """The plugins' code (plugin -> identity) finished weights depend on; {} when they record none
    (ribray's own methods only, or weights of an older ribray) or are not there yet."""
    location = weights_in(weights_dir, key)
    if not location.exists():
        return {}
    return json.loads(weights_metadata(location).get(PLUGINS) or "{}")


def weights_problem(location: Location) -> str | None:
    """Why the weights file at `location` cannot be read (missing, a header that is not
    safetensors', fewer bytes than its header promises: truncated), or None. Reads the header
    and the size only."""
    try:
        size = location.fs.get_file_info(location.path).size
        if size is None:
            return "missing"
        with location.fs.open_input_file(location.path) as handle:
            length = int.from_bytes(handle.read(8), "little")
            if not 0 < length <= min(size - 8, 100 * 2**20):
                return f"not a safetensors file ({size:,} bytes, no header)"
            header = json.loads(handle.read(length))
    except (OSError, ValueError) as error:
        return f"not a safetensors file ({type(error).__name__}: {error})"
    ends = [entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"]
    expected = 8 + length + max(ends, default=0)
    if size != expected:
        return f"truncated or damaged: {size:,} bytes, its header describes {expected:,}"
    return None


def load_weights(weights_dir: Location, key: str) -> dict[str, torch.Tensor]:
    """The state dict stored under `key`; a PermanentError naming the file when it is gone or
    broken (`ribray sweep` checks finished trials' weights at its start and reruns the trial
    that makes them)."""
    location = weights_in(weights_dir, key)
    if not location.exists():
        raise PermanentError(f"weights {location.uri} are missing (deleted since the sweep started?); "
                             "run the sweep again: it reruns the trial that makes them first")
    try:
        return load_bytes(location.read_bytes())
    except Exception as error:  # noqa: BLE001 - safetensors' own error types: a damaged file
        raise PermanentError(f"weights {location.uri} cannot be read ({type(error).__name__}: {first_line(error)}); "
                             "run the sweep again: it sets the file aside and reruns the trial that makes it") from None


def has_weights(weights_dir: Location, key: str, train_fingerprint: str | None = None,
                plugins: dict[str, str] | None = None) -> bool:
    """Are there readable weights for `key`, trained on the data of `train_fingerprint` (when
    known on both sides: weights of older ribray versions record none) with the plugins' code
    `plugins`?"""
    location = weights_in(weights_dir, key)
    if weights_problem(location) is not None:
        return False
    metadata = weights_metadata(location)
    recorded = metadata.get(TRAIN_FINGERPRINT) if train_fingerprint else None
    same_code = json.loads(metadata.get(PLUGINS) or "{}") == (plugins or {})
    return (recorded is None or recorded == train_fingerprint) and same_code
