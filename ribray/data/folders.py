"""Datasets stored as one folder per class named by its ImageNet wnid (ImageFolder layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ribray.data.base import IMAGE_SUFFIXES, CheckResult, DatasetEntry, Sample
from ribray.data.classes import imagenet_wnids, wnid_index
from ribray.data.fake import MARKER, class_image, read_marker, save_image, write_marker
from ribray.data.walk import entries
from ribray.errors import DataError

SHOW = 5  # problem lists name this many paths, then say how many more


def image_files(folder: Path) -> list[str]:
    """Image files directly in `folder`, sorted (os.scandir: no stat per file on 1M-file trees)."""
    return [e.path for e in entries(folder)[1] if e.name.lower().endswith(IMAGE_SUFFIXES)]


def count_images(folder: Path) -> int:
    return len(image_files(folder))


def subfolders(folder: Path) -> set[str]:
    """Names of the folders directly in `folder` (links to folders followed only inside it)."""
    return {e.name for e in entries(folder, within=folder)[0]}


def missing_folder(name: str, folder: Path, layout: str) -> DataError:
    """A DataError saying which folder is missing, the nearest one that exists, and the layout."""
    folder = Path(folder)
    existing = next((p for p in folder.parents if p.is_dir()), None)
    hint = f" ({existing} exists)" if existing is not None and existing != Path("/") else ""
    return DataError(f"{name}: folder {folder} does not exist{hint}; expected {layout}")


def shortened(lines: list[str], what: str) -> list[str]:
    return lines[:SHOW] + ([f"... and {len(lines) - SHOW} more {what}"] if len(lines) > SHOW else [])


class WnidFolders(DatasetEntry):
    """<folder>/<wnid>/<image>: labels are the positions of the wnids in `wnids()`."""

    expected_classes: int = 1000
    suffix = ".JPEG"

    def wnids(self) -> tuple[str, ...]:
        """The class folder names, in label order."""
        return imagenet_wnids()

    def class_indices(self) -> list[tuple[int, ...]]:
        index = wnid_index()
        return [(index[w],) for w in self.wnids()]

    def present_classes(self, root: Path) -> set[str]:
        """Names of the class folders under `root`; a folder that is not one of ours is an error."""
        root = Path(root)
        if not root.is_dir():
            raise missing_folder(self.name, root, self.layout())
        present = subfolders(root)
        unknown = sorted(present - set(self.wnids()))
        if unknown:
            imagenet = set(imagenet_wnids())
            why = [f"{n} ({'an ImageNet wnid outside this set' if n in imagenet else 'unknown name'})"
                   for n in unknown]
            raise DataError(f"{self.name}: {root} has {len(unknown)} folder(s) that are not "
                            f"{self.name} classes: {', '.join(shortened(why, 'folders'))}; "
                            f"expected {self.layout()}")
        return present

    def class_folders(self, root: Path) -> list[Path]:
        """The class folders present, in label order."""
        present = self.present_classes(root)
        return [Path(root) / w for w in self.wnids() if w in present]

    def samples(self, root: Path) -> list[Sample]:
        position = {w: i for i, w in enumerate(self.wnids())}
        return [Sample(path, position[folder.name])
                for folder in self.class_folders(root) for path in image_files(folder)]

    def layout(self) -> str:
        return f"<{self.folder}>/<wnid>/*{self.suffix} with {self.expected_classes} wnid folders"

    def write_fake(self, root: Path, per_class: int, classes: int, seed: int = 0, size: int = 40) -> int:
        """`per_class` generated images for each of the first `classes` classes; returns the count."""
        root = prepare_fake_folder(self.name, root)
        rng = np.random.default_rng(seed)
        groups = self.class_indices()
        for label, wnid in enumerate(self.wnids()[:classes]):
            folder = root / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                image = self.decorate_fake(class_image(groups[label][0], rng, size))
                save_image(image, folder / f"{wnid}_{i:04d}{self.suffix}")
        count = min(classes, len(groups)) * per_class
        write_marker(root, min(classes, len(groups)), per_class, count)
        return count

    def decorate_fake(self, image):
        """What the real set's images have that generated ones should too (default: nothing)."""
        return image

    def check(self, root: Path) -> CheckResult:
        """Folder present, class folders known and complete, image counts as expected."""
        result = CheckResult(self.name, str(root), found=Path(root).is_dir(),
                             expected_images=self.expected_images)
        fake = read_marker(Path(root)) if result.found else None
        if fake:
            result.expected_images = fake["images"]
        try:
            result.images, result.problems = self.check_classes(Path(root), fake)
        except DataError as error:
            result.problems.append(str(error))
            return result
        if result.expected_images and result.images != result.expected_images:  # 0: a size not declared
            result.problems.append(f"{result.images:,} images in {root}, expected "
                                   f"{result.expected_images:,}{'' if fake else ' (the released set)'}")
        return result

    def check_classes(self, root: Path, fake: dict | None) -> tuple[int, list[str]]:
        """(images, problems) of one class-folder tree: missing or extra classes, empty folders,
        classes with the wrong number of images (when the set is balanced)."""
        present = self.present_classes(root)
        wanted = self.wnids()[:fake["classes"]] if fake else self.wnids()
        missing = [str(root / w) for w in wanted if w not in present]
        extra = [str(root / w) for w in sorted(present - set(wanted))]
        problems = []
        if missing or extra:
            problems.append(f"{len(present)} class folders in {root}, expected {len(wanted)}")
        problems += shortened([f"missing class folder {p}" for p in missing], "missing folders")
        problems += shortened([f"extra class folder {p}" for p in extra], "extra folders")
        counts = {w: count_images(root / w) for w in self.wnids() if w in present}
        per_class = fake["per_class"] if fake else self.images_per_class
        wrong = [f"empty class folder {root / w}" if n == 0 else
                 f"{root / w} has {n} images, expected {per_class}"
                 for w, n in counts.items() if n == 0 or (per_class and n != per_class)]
        problems += shortened(wrong, "class folders with the wrong image count")
        return sum(counts.values()), problems


def prepare_fake_folder(name: str, root: Path) -> Path:
    """Create `root` for generated data; refuse to write into a folder holding other data."""
    root = Path(root)
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER).is_file():
        raise DataError(f"{name}: {root} is not empty and was not generated by `ribray data fake`; "
                        "refusing to add generated images to it")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file where the folder (or one above it) should be, no permission
        raise DataError(f"{name}: cannot create the folder {root}: {error.strerror or error}") from None
    return root
