"""Datasets stored as one folder per class named by its ImageNet wnid (ImageFolder layout)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ribray.data.base import IMAGE_SUFFIXES, CheckResult, DatasetEntry, Sample
from ribray.data.classes import imagenet_wnids, wnid_index
from ribray.data.fake import class_image, read_marker, write_marker
from ribray.errors import DataError


def image_files(folder: Path) -> list[str]:
    """Image files directly in `folder`, sorted (os.scandir: fast on 1M-file trees)."""
    with os.scandir(folder) as entries:
        return sorted(e.path for e in entries if e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES))


class WnidFolders(DatasetEntry):
    """<folder>/<wnid>/<image>: labels are the positions of the wnids in `wnids()`."""

    expected_classes: int = 1000
    suffix = ".JPEG"

    def wnids(self) -> tuple[str, ...]:
        return imagenet_wnids()

    def class_indices(self) -> list[tuple[int, ...]]:
        index = wnid_index()
        return [(index[w],) for w in self.wnids()]

    def class_folders(self, root: Path) -> list[Path]:
        """The class folders present, in label order; unknown folder names are an error."""
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{self.name}: folder {root} is missing; expected {self.layout()}")
        known = set(self.wnids())
        present = sorted(p.name for p in root.iterdir() if p.is_dir())
        unknown = [n for n in present if n not in known]
        if unknown:
            raise DataError(f"{self.name}: {root} has folders that are not {self.name} wnids: "
                            f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
        return [root / w for w in self.wnids() if w in set(present)]

    def samples(self, root: Path) -> list[Sample]:
        position = {w: i for i, w in enumerate(self.wnids())}
        return [Sample(path, position[folder.name])
                for folder in self.class_folders(root) for path in image_files(folder)]

    def layout(self) -> str:
        return f"<{self.folder}>/<wnid>/*{self.suffix} with {self.expected_classes} wnid folders"

    def write_fake(self, root: Path, per_class: int, classes: int, seed: int = 0, size: int = 40) -> int:
        rng = np.random.default_rng(seed)
        for label, wnid in enumerate(self.wnids()[:classes]):
            folder = Path(root) / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                image = self.decorate_fake(class_image(label, classes, rng, size))
                image.save(folder / f"{wnid}_{i:04d}{self.suffix}", quality=90)
        write_marker(Path(root), classes, per_class, classes * per_class)
        return classes * per_class

    def decorate_fake(self, image):
        """What the real set's images have that generated ones should too (default: nothing)."""
        return image

    def check(self, root: Path) -> CheckResult:
        """Folder present, class folders known and complete, image count as expected."""
        result = CheckResult(self.name, str(root), found=Path(root).is_dir(),
                             expected_images=self.expected_images)
        if not result.found:
            result.problems.append(f"missing; expected {self.layout()}")
            return result
        try:
            folders = self.class_folders(root)
        except DataError as error:
            result.problems.append(str(error))
            return result
        result.images = sum(len(image_files(f)) for f in folders)
        fake = read_marker(Path(root))
        classes = fake["classes"] if fake else self.expected_classes
        result.expected_images = fake["images"] if fake else self.expected_images
        if len(folders) != classes:
            result.problems.append(f"{len(folders)} class folders, expected {classes}")
        if fake and result.images != result.expected_images:
            result.problems.append(f"{result.images} images, expected {result.expected_images}")
        elif not fake and result.images < 0.99 * self.expected_images:
            result.problems.append(f"{result.images} images, expected about {self.expected_images}")
        return result
