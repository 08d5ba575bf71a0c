"""Datasets declared in a spec (`datasets:`), without code: a folder in the standard wnid-folder
layout (`<folder>/<wnid>/<image>`) of any ImageNet-1K class subset, scored on its classes' logits
(masked, like ImageNet-A/R; all 1000 classes: 1000-way), usable as an eval set and as a downstream
set. `rib: true` makes it one of the out-of-distribution sets RI averages over. Other layouts come
from a plugin's `DatasetEntry` (`ribray.api`)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ribray.data import DATASETS
from ribray.data.classes import imagenet_wnids
from ribray.data.folders import WnidFolders
from ribray.errors import did_you_mean
from ribray.options import Strict

NAME = r"^[a-z][a-z0-9_]*$"


class DatasetDeclaration(Strict):
    """One entry of the spec's `datasets:` (the key is the dataset's name)."""

    name: str = Field("", pattern=r"^$|" + NAME, max_length=64)  # filled from the spec's key
    layout: Literal["wnid_folders"] = Field("wnid_folders", description="<folder>/<wnid>/<image>")
    folder: str | None = Field(None, description="under data.root (default: the dataset's name); "
                                                 "data.folders.<name> may point elsewhere")
    classes: Literal["all"] | list[str] = Field(
        "all", description="all: the 1000 ImageNet-1K classes; or their wnids (a file of one wnid per line, "
                           "relative to the spec, is read into this list)")
    rib: bool = Field(False, description="one of the out-of-distribution sets RI averages over")
    order: int | None = Field(None, description="where its row and column stand in reports among the "
                                                "paper's sets (10 ... 80); default: after them, by name")
    images: int | None = Field(None, ge=1, description="how many images the set has (checked by `ribray data "
                                                       "check`; the GPU-hour estimate uses it)")
    title: str = ""
    short: str = Field("", max_length=24, description="short name in MLflow metric names (default: the name)")
    suffix: str = Field(".jpg", pattern=r"^\.[A-Za-z0-9]+$", description="image files' suffix (for fakes)")

    @field_validator("classes")
    @classmethod
    def _imagenet_wnids(cls, classes):
        if classes == "all":
            return classes
        known = set(imagenet_wnids())
        unknown = [w for w in classes if w not in known]
        if unknown:
            hint = did_you_mean(unknown[0], known)
            raise ValueError(f"{len(unknown)} of them are not ImageNet-1K wnids, e.g. {unknown[0]!r}"
                             + (f" (did you mean {hint!r}?)" if hint else ""))
        repeated = sorted({w for w in classes if classes.count(w) > 1})
        if repeated:
            raise ValueError(f"{repeated[0]} is listed twice")
        if not classes:
            raise ValueError("an empty class list scores nothing; give wnids, or all")
        return sorted(classes)

    def identity(self) -> str:
        """What results computed on this set depend on beyond its images (its classes, its RI role);
        not where reports place it (`order`), so placing it reruns nothing."""
        return hashlib.sha256(self.model_dump_json(exclude={"order"}).encode()).hexdigest()[:12]

    def register(self) -> None:
        DATASETS.register(self.name)(DeclaredFolders(self))


def read_classes_file(path: Path) -> list[str]:
    """One wnid per line; blank lines and # comments skipped."""
    lines = path.read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


class DeclaredFolders(WnidFolders):
    """A `WnidFolders` set whose name, folder and classes come from a declaration."""

    def __init__(self, declaration: DatasetDeclaration):
        self.declaration = declaration
        self.name = declaration.name
        self.title = declaration.title or f"{declaration.name} (declared in the spec)"
        self.short = declaration.short or declaration.name
        self.folder = declaration.folder or declaration.name
        self.rib = declaration.rib
        self.order = declaration.order
        self.expected_images = declaration.images or 0
        self.suffix = declaration.suffix
        self._wnids = imagenet_wnids() if declaration.classes == "all" else tuple(declaration.classes)
        self.expected_classes = len(self._wnids)
        self.source = "declared in the spec's datasets: (standard wnid-folder layout)"

    def wnids(self) -> tuple[str, ...]:
        return self._wnids
