"""`ribray data check`: is each dataset where the spec says, complete, and readable?"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ribray.data import get_dataset
from ribray.data.base import CheckResult


def check_datasets(root: str | Path, names: list[str], folders: dict[str, str] | None = None,
                   verify_images: bool = False) -> list[CheckResult]:
    """One CheckResult per dataset name; `folders` overrides a dataset's folder under root."""
    results = []
    for name in names:
        entry = get_dataset(name)
        path = Path(folders[name]) if folders and name in folders else entry.path(Path(root))
        result = entry.check(path)
        if verify_images and result.found and not result.problems:
            result.problems += unreadable_images(entry, path)
        results.append(result)
    return results


def unreadable_images(entry, path: Path, show: int = 10) -> list[str]:
    """A problem line per file PIL cannot decode (slow: opens every image)."""
    bad = []
    for sample in entry.samples(path):
        try:
            with Image.open(sample.path) as image:
                image.load()
        except (OSError, ValueError) as error:
            bad.append(f"unreadable image {sample.path}: {error}")
    return bad[:show] + ([f"... and {len(bad) - show} more unreadable images"] if len(bad) > show else [])
