"""The class maps shipped with ribray (see classes/README.md for their provenance)."""

from __future__ import annotations

import functools
from importlib import resources


def _lines(name: str) -> list[str]:
    text = resources.files("ribray.data").joinpath("classes", name).read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.lru_cache(maxsize=1)
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ImageNet-1K wnids in canonical class-index order."""
    return tuple(line.split("\t")[0] for line in _lines("imagenet_classes.tsv"))


@functools.lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """A readable name per ImageNet-1K class (the first WordNet lemma)."""
    return tuple(line.split("\t")[1].split(",")[0].strip() for line in _lines("imagenet_classes.tsv"))


@functools.lru_cache(maxsize=1)
def wnid_index() -> dict[str, int]:
    return {wnid: i for i, wnid in enumerate(imagenet_wnids())}


@functools.cache
def subset_wnids(name: str) -> tuple[str, ...]:
    """The wnids of a 200-class set ("imagenet_a", "imagenet_r"), sorted as on disk."""
    return tuple(_lines(f"{name}_wnids.txt"))
