"""Where a result came from: versions, code revision, machine. Never credentials."""

from __future__ import annotations

import functools
import socket
import subprocess
from pathlib import Path

import ribray


@functools.lru_cache(maxsize=1)
def provenance() -> dict[str, str | None]:
    """Versions and code revision that every result row carries."""
    return {
        "ribray_version": ribray.__version__,
        "torch_version": _version("torch"),
        "timm_version": _version("timm"),
        "ray_version": _version("ray"),
        "git_sha": git_sha(),
        "host": socket.gethostname(),
        "gpu": gpu_name(),
    }


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def git_sha() -> str | None:
    """The ribray checkout's commit, or None when installed from a wheel."""
    here = Path(ribray.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else None
