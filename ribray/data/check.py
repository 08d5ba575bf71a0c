"""`ribray data check`: is each dataset where the spec says, complete, and readable?

By default the check only lists folders and counts files (seconds on the real 4M images);
`verify_images=True` also decodes every image (at reduced resolution for JPEGs, which still
reads the whole file, so truncation is caught: PIL's `verify()` alone misses truncated JPEGs).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ribray.data import dataset_folder, get_dataset
from ribray.data.base import CheckResult
from ribray.data.fake import generated_sets
from ribray.data.folders import shortened
from ribray.data.images import open_image, unreadable_reason
from ribray.data.walk import walk_files
from ribray.errors import DataError


def check_datasets(root: str | Path, names: list[str], folders: dict[str, str] | None = None,
                   verify_images: bool = False, threads: int = 8) -> list[CheckResult]:
    """One CheckResult per dataset name; `folders` overrides a dataset's folder under root.
    Unknown names raise the registry's error (with the known names)."""
    entries = [get_dataset(name) for name in names]
    results = []
    for entry in entries:
        path = dataset_folder(root, entry.name, folders)
        if not Path(root).is_dir() and not (folders and entry.name in folders):
            results.append(CheckResult(entry.name, str(path), found=False, expected_images=entry.expected_images,
                                       problems=[f"data root {root} does not exist; expected {entry.layout()} "
                                                 "under it (see `ribray data download-help`)"]))
            continue
        result = entry.check(path)
        result.generated = bool(generated_sets({entry.name: path}))
        if result.found:
            result.problems += [p for p in listing_problems(path) if p not in result.problems]
        if verify_images and result.found:
            result.problems += unreadable_images(entry, path, threads)
        results.append(result)
    return results


def unreadable_images(entry, path: Path, threads: int = 8) -> list[str]:
    """A problem line per file that cannot be decoded (slow on real data: reads every image)."""
    try:
        samples = entry.samples(path)
    except DataError:  # a layout problem, which entry.check has reported
        return []
    with ThreadPoolExecutor(threads) as pool:  # PIL releases the GIL while decoding
        errors = list(pool.map(decode_error, (s.path for s in samples)))
    bad = [f"unreadable image {s.path}: {e}" for s, e in zip(samples, errors, strict=True) if e]
    return shortened(bad, "unreadable images") + ([f"{len(bad)} unreadable images in all"] if len(bad) > 1 else [])


def decode_error(path: str) -> str | None:
    """Why `path` cannot be decoded as the loaders decode it (ribray.data.images), or None."""
    try:
        with open_image(path) as image:
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))  # JPEG only
            image.load()
        return None
    except Exception as error:  # noqa: BLE001 - whatever stops one file, as the loaders skip it
        return unreadable_reason(error)


def listing_problems(path: Path) -> list[str]:
    """What the sweep's fingerprint walk of the set's folder would refuse (a symlink loop, a
    link out of the folder, ...: ribray.data.walk), so that validate meets it first."""
    try:
        deque(walk_files(path), maxlen=0)
    except DataError as error:
        return [str(error)]
    return []
