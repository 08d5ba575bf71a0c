"""A dataset folder's identity: its file count and a hash of its sorted listing (each file's
path and size). Stored with every result row (and in fine-tuned weights), so that results
computed on other data are never reused as if they were this data's. Listing is what `ribray
data check` does anyway; another copy of the same data (another disk, another machine) has the
same fingerprint, re-encoded or re-generated images (other sizes) another."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MISSING = "missing"


def fingerprint(folder: str | Path) -> str:
    """'<files>:<12 hex digits>' of every file under `folder` (its relative path and size;
    hidden files excluded, like the loaders do), or 'missing' when there is no such folder."""
    root = Path(folder)
    if not root.is_dir():
        return MISSING
    names: list[str] = []
    stack = [""]
    while stack:
        relative = stack.pop()
        with os.scandir(root / relative) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=True):
                    stack.append(path)
                else:
                    names.append(f"{path}\t{entry.stat(follow_symlinks=True).st_size}")
    names.sort()
    digest = hashlib.sha256("\n".join(names).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{len(names)}:{digest[:12]}"


def fingerprints(folders: dict[str, Path]) -> dict[str, str]:
    """{dataset: fingerprint} for each dataset's folder, listed in parallel (listing waits on
    the file system, not on the CPU)."""
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(folders)))) as pool:
        found = dict(zip(folders, pool.map(fingerprint, folders.values()), strict=True))
    return found
