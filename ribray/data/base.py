"""What a dataset-registry entry knows: its on-disk layout, its classes, how it is scored."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ribray.errors import DataError

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


@dataclass(frozen=True, slots=True)  # slots: ImageNet-C lists 3.75M of these
class Sample:
    """One image: its file, its label in the dataset's own class space, and its part
    (e.g. "gaussian_noise/3" for ImageNet-C; "" for sets scored as a whole)."""

    path: str
    label: int
    part: str = ""


@dataclass
class CheckResult:
    """What `ribray data check` found for one dataset."""

    name: str
    path: str
    found: bool
    images: int = 0
    expected_images: int = 0
    problems: list[str] = field(default_factory=list)
    generated: bool = False  # `ribray data fake` wrote it: fine for tests and the demo, not a benchmark

    @property
    def usable(self) -> bool:
        return self.found and not self.problems


class DatasetEntry:
    """One benchmark dataset. Subclasses live one per file in ribray/data and register
    an instance with @register. Labels are indices into `class_indices()`."""

    name: ClassVar[str]
    title: ClassVar[str] = ""
    short: ClassVar[str] = ""  # the paper's short name (R, Sketch, IN-1K): MLflow metric names
    folder: ClassVar[str] = ""  # default folder under the data root
    expected_images: ClassVar[int] = 0  # the real set's size, for `ribray data check`
    crop_border: ClassVar[int] = 0  # pixels cut from each side before the transform (ObjectNet: 2)
    source: ClassVar[str] = ""  # where the real data comes from and how to lay it out
    images_per_class: ClassVar[int | None] = None  # when the real set is balanced (val: 50)
    rib: ClassVar[bool] = False  # one of the out-of-distribution sets RI averages over
    # Its place in the report's rows and columns: ascending (the paper's eight: 10, 20, ... 80, so a
    # set of a plugin can sit between them); sets without one come after, by name.
    order: ClassVar[int | None] = None

    def class_indices(self) -> list[tuple[int, ...]]:
        """For each of this set's classes, the ImageNet-1K class indices it corresponds to."""
        raise NotImplementedError

    def scored_as(self, fidelity: str) -> DatasetEntry:
        """The entry whose labels and scoring a trial of this fidelity mode uses (`ribray.fidelity`):
        this one, unless the reference code scores the set another way (ObjectNet)."""
        return self

    def samples(self, root: Path) -> list[Sample]:
        """Every image of the set under `root` (the dataset's own folder), sorted by path."""
        raise NotImplementedError

    def write_fake(self, root: Path, per_class: int, classes: int, seed: int = 0) -> int:
        """Write a small valid dataset in the real layout under `root`; return image count."""
        raise NotImplementedError

    def check(self, root: Path) -> CheckResult:
        """Is the set at `root` complete (folders, classes, image counts)? Fast: counts files."""
        raise NotImplementedError

    def layout(self) -> str:
        """The expected on-disk layout, for error messages and `ribray data download-help`."""
        return f"<{self.folder}>/..."

    def scoring(self) -> str:
        """How predictions are scored, in words (`ribray data list`)."""
        groups = self.class_indices()
        if groups == [(i,) for i in range(1000)]:
            return "1000-way"
        if all(len(g) == 1 for g in groups):
            return f"{len(groups)}-way, masked to its {len(groups)} ImageNet logits"
        return f"{len(groups)}-way, max over each class's ImageNet logits"

    def accuracy(self, counts: dict[str, tuple[int, int]]) -> tuple[float, dict[str, float]]:
        """Top-1 in percent from (correct, total) per part, and the per-part accuracies.
        Default: pooled over every image."""
        correct = sum(c for c, _ in counts.values())
        total = sum(n for _, n in counts.values())
        if total == 0:
            raise DataError(f"{self.name}: no images were evaluated")
        parts = {p: 100.0 * c / n for p, (c, n) in counts.items() if p}
        return 100.0 * correct / total, parts

    @property
    def num_classes(self) -> int:
        return len(self.class_indices())

    def path(self, data_root: Path) -> Path:
        return Path(data_root) / self.folder
