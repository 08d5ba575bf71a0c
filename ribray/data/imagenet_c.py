"""ImageNet-C: the ImageNet val images under 15 corruptions x 5 severities (3.75M JPEGs).

Accuracy = mean over corruptions of the mean over severities (Hendrycks & Dietterich 2019,
as ImageNet-RIB reports it); every corruption/severity accuracy is kept as a part.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ribray.data import register
from ribray.data.base import CheckResult, Sample
from ribray.data.fake import class_image, read_marker, write_marker
from ribray.data.folders import WnidFolders, image_files
from ribray.errors import DataError

CORRUPTIONS = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
               "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
               "elastic_transform", "pixelate", "jpeg_compression")
SEVERITIES = (1, 2, 3, 4, 5)


@register
class ImageNetC(WnidFolders):
    name = "imagenet_c"
    title = "ImageNet-C"
    folder = "imagenet-c"
    expected_images = 3_750_000
    source = ("zenodo.org/record/2235448 (Hendrycks & Dietterich 2019; the blur, digital, noise and "
              "weather tars): imagenet-c/<corruption>/<severity 1-5>/<wnid>/*.JPEG for the 15 corruptions")

    def parts(self, root: Path) -> list[tuple[str, Path]]:
        """(\"corruption/severity\", folder) for every part present; missing ones are an error
        unless the data is generated (then the fake's corruptions are what exists)."""
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{self.name}: folder {root} is missing; expected {self.layout()}")
        found = [(f"{c}/{s}", root / c / str(s)) for c in CORRUPTIONS for s in SEVERITIES
                 if (root / c / str(s)).is_dir()]
        if not found:
            raise DataError(f"{self.name}: no <corruption>/<severity> folders in {root}")
        return found

    def samples(self, root: Path) -> list[Sample]:
        position = {w: i for i, w in enumerate(self.wnids())}
        return [Sample(path, position[folder.name], part)
                for part, part_root in self.parts(root)
                for folder in self.class_folders(part_root) for path in image_files(folder)]

    def accuracy(self, counts: dict[str, tuple[int, int]]) -> tuple[float, dict[str, float]]:
        """Mean over corruptions of the mean over severities (not pooled over images)."""
        parts = {p: 100.0 * c / n for p, (c, n) in counts.items() if n}
        if not parts:
            raise DataError("imagenet_c: no images were evaluated")
        by_corruption: dict[str, list[float]] = {}
        for part, top1 in parts.items():
            by_corruption.setdefault(part.split("/")[0], []).append(top1)
        means = [sum(v) / len(v) for v in by_corruption.values()]
        return sum(means) / len(means), parts

    def layout(self) -> str:
        return f"<{self.folder}>/<corruption>/<severity>/<wnid>/*.JPEG (15 corruptions x 5 severities)"

    def write_fake(self, root: Path, per_class: int, classes: int, seed: int = 0, size: int = 40) -> int:
        """Corrupt generated images the real way (the `imagecorruptions` package)."""
        from imagecorruptions import corrupt

        rng = np.random.default_rng(seed)
        bases = [[np.asarray(class_image(label, classes, rng, max(size, 32))) for _ in range(per_class)]
                 for label in range(classes)]
        count = 0
        for corruption in CORRUPTIONS:
            for severity in SEVERITIES:
                for label, wnid in enumerate(self.wnids()[:classes]):
                    folder = Path(root) / corruption / str(severity) / wnid
                    folder.mkdir(parents=True, exist_ok=True)
                    for i, base in enumerate(bases[label]):
                        image = corrupt(base, corruption_name=corruption, severity=severity)
                        from PIL import Image

                        Image.fromarray(np.uint8(image)).save(folder / f"{wnid}_{i:04d}.JPEG", quality=90)
                        count += 1
        write_marker(Path(root), classes, per_class * len(CORRUPTIONS) * len(SEVERITIES), count)
        return count

    def check(self, root: Path) -> CheckResult:
        result = CheckResult(self.name, str(root), found=Path(root).is_dir(), expected_images=self.expected_images)
        try:
            parts = self.parts(root)
        except DataError as error:
            result.problems.append(str(error))
            return result
        fake = read_marker(Path(root))
        if not fake and len(parts) != len(CORRUPTIONS) * len(SEVERITIES):
            result.problems.append(f"{len(parts)} corruption/severity folders, expected 75")
        result.images = sum(len(image_files(f)) for _, p in parts for f in self.class_folders(p))
        result.expected_images = fake["images"] if fake else self.expected_images
        if result.images < 0.99 * result.expected_images:
            result.problems.append(f"{result.images} images, expected {result.expected_images}")
        return result
