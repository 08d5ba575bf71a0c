"""A dataset folder's identity: its file count and a hash of its sorted listing (each file's
path and size). Stored with every result row (and in fine-tuned weights), so that results
computed on other data are never reused as if they were this data's. Listing is what `ribray
data check` does anyway (by the same policy, ribray.data.walk); another copy of the same data
(another disk, another machine) has the same fingerprint, re-encoded or re-generated images
(other sizes) another."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ribray.data.walk import file_size, walk_files

MISSING = "missing"


def fingerprint(folder: str | Path) -> str:
    """'<files>:<12 hex digits>' of every file under `folder` (its relative path and size;
    hidden files excluded, like the loaders do), or 'missing' when there is no such folder.
    A folder the walk refuses (a symlink loop, a link out of the folder) is a DataError."""
    root = Path(folder)
    if not root.is_dir():
        return MISSING
    names = sorted(f"{path}\t{file_size(entry)}" for path, entry in walk_files(root))
    digest = hashlib.sha256("\n".join(names).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{len(names)}:{digest[:12]}"


def fingerprints(folders: dict[str, Path]) -> dict[str, str]:
    """{dataset: fingerprint} for each dataset's folder, listed in parallel (listing waits on
    the file system, not on the CPU)."""
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(folders)))) as pool:
        found = dict(zip(folders, pool.map(fingerprint, folders.values()), strict=True))
    return found
