"""What `ribray validate` and `ribray plan` ask of timm, answered without importing it where a
cache can: importing timm imports torch, torchvision and torch's compiler (~5 CPU s, ~900 MiB)
only to learn its model names. Kept in this user's cache folder ($RIBRAY_CACHE_DIR, default
$XDG_CACHE_HOME/ribray, else ~/.cache/ribray), written on first use:

- `timm-names.json`: every model name (architectures and `arch.tag` names) and where each
  name's pretrained weights come from (hub id and file, URL, local file);
- `timm-sizes.json`: the state-dict bytes of each model a plan has sized (built once on the
  meta device, then read back).

Each file holds the timm version it was written for (read from the installed package's
metadata, not by importing timm): a file of another version, or one that does not read
back, is rebuilt. A folder that is not this user's own (a link, another owner, writable by
others) is not used: the answers are then computed each time, as without a cache.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

CACHE_ENV = "RIBRAY_CACHE_DIR"
FORMAT = 1  # bump when what a file holds changes shape
NAMES_FILE = "timm-names.json"
SIZES_FILE = "timm-sizes.json"


@dataclass(frozen=True)
class WeightsSource:
    """Where timm would fetch a model's pretrained weights (its pretrained config's fields)."""

    hf_hub_id: str | None = None
    hf_hub_filename: str | None = None
    url: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class TimmIndex:
    names: frozenset[str]  # every architecture name and every `arch.tag` name with pretrained weights
    weights: dict[str, WeightsSource | None]  # name -> its weights' source (None: timm has no config)


def cache_folder() -> Path:
    """This user's ribray cache folder (not created here)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ribray"


def installed_timm() -> str | None:
    """The installed timm's version, from its metadata (no import); None when not installed."""
    try:
        return metadata.version("timm")
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def timm_index() -> TimmIndex:
    """timm's names and weight sources: from the cache when it is this timm version's, else
    from timm itself (then written to the cache)."""
    version = installed_timm()
    cached = _read(NAMES_FILE, version)
    if cached is not None:
        try:
            weights = {n: WeightsSource(*w) if w is not None else None for n, w in cached["weights"].items()}
            return TimmIndex(frozenset(cached["names"]), weights)
        except (KeyError, TypeError):
            pass  # a file of the right version but the wrong shape: rebuilt below
    index = _index_from_timm()
    if version is not None:
        _write(NAMES_FILE, version, {"names": sorted(index.names), "weights": {
            n: None if w is None else [w.hf_hub_id, w.hf_hub_filename, w.url, w.file]
            for n, w in sorted(index.weights.items())}})
    return index


def cached_state_bytes(timm_name: str, compute: Callable[[], float | None]) -> float | None:
    """The state-dict bytes of `timm_name` as timm builds it: from the cache, else `compute()`d
    and kept (a None, a model that could not be sized, is not kept: it is tried again)."""
    version = installed_timm()
    sizes = _read(SIZES_FILE, version) or {}
    known = sizes.get("bytes", {})
    if isinstance(known, dict) and isinstance(known.get(timm_name), (int, float)):
        return float(known[timm_name])
    found = compute()
    if found is not None and version is not None:
        # re-read: another command may have added sizes meanwhile (the last writer wins otherwise)
        latest = (_read(SIZES_FILE, version) or {}).get("bytes", {})
        _write(SIZES_FILE, version, {"bytes": {**(latest if isinstance(latest, dict) else {}), timm_name: found}})
    return found


def _index_from_timm() -> TimmIndex:
    import timm
    from timm.models import get_pretrained_cfg

    names = frozenset(timm.list_models()) | frozenset(timm.list_models(pretrained=True))
    weights = {}
    for name in names:
        cfg = get_pretrained_cfg(name)
        weights[name] = None if cfg is None else WeightsSource(cfg.hf_hub_id, cfg.hf_hub_filename, cfg.url, cfg.file)
    return TimmIndex(names, weights)


def _read(file_name: str, version: str | None) -> dict | None:
    """The file's content when it was written for timm `version` by this format, else None."""
    folder = _private_folder(create=False)
    if folder is None or version is None:
        return None
    try:
        content = json.loads((folder / file_name).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(content, dict) or content.get("format") != FORMAT or content.get("timm") != version:
        return None
    return content


def _write(file_name: str, version: str, content: dict) -> None:
    """Write atomically (readers see the old file or the new one); a cache that cannot be
    written (a read-only home, a full disk) is skipped: the answer stands without it."""
    folder = _private_folder(create=True)
    if folder is None:
        return
    temp = folder / f".{file_name}.{os.getpid()}.tmp"
    try:
        temp.write_text(json.dumps({"format": FORMAT, "timm": version, **content}, separators=(",", ":")))
        os.replace(temp, folder / file_name)
    except OSError:
        temp.unlink(missing_ok=True)


def _private_folder(create: bool) -> Path | None:
    """The cache folder when it is this user's own (not a link, not writable by others): what it
    holds decides which model names a spec may use."""
    folder = cache_folder()
    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return folder
