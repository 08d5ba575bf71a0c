"""ImageNet-C: the ImageNet val images under 15 corruptions x 5 severities (3.75M JPEGs).

Accuracy = mean over corruptions of the mean over severities (Hendrycks & Dietterich 2019,
as ImageNet-RIB reports it); every corruption/severity accuracy is kept as a part.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ribray.data import register
from ribray.data.base import CheckResult, Sample
from ribray.data.fake import class_image, read_marker, save_image, write_marker
from ribray.data.folders import (
    WnidFolders,
    image_files,
    missing_folder,
    prepare_fake_folder,
    shortened,
    subfolders,
)
from ribray.data.walk import entries
from ribray.errors import DataError

CORRUPTIONS = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
               "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
               "elastic_transform", "pixelate", "jpeg_compression")
SEVERITIES = (1, 2, 3, 4, 5)


@register
class ImageNetC(WnidFolders):
    name = "imagenet_c"
    rib = True
    order = 80
    title = "ImageNet-C"
    short = "C"
    folder = "imagenet-c"
    expected_images = 3_750_000
    images_per_class = 50
    source = ("zenodo.org/record/2235448 (Hendrycks & Dietterich 2019; the blur, digital, noise and "
              "weather tars): imagenet-c/<corruption>/<severity 1-5>/<wnid>/*.JPEG for the 15 corruptions")

    def parts(self, root: Path) -> list[tuple[str, Path]]:
        """("corruption/severity", folder) for every part present, in the canonical order."""
        found = self.present_parts(root)
        if not found:
            raise DataError(f"{self.name}: no <corruption>/<severity> folders in {root}; "
                            f"expected {self.layout()}")
        return found

    def present_parts(self, root: Path) -> list[tuple[str, Path]]:
        """The parts present (maybe none), listed by the walk's policy (ribray.data.walk)."""
        root = Path(root)
        if not root.is_dir():
            raise missing_folder(self.name, root, self.layout())
        corruptions = subfolders(root)
        found = []
        for corruption in (c for c in CORRUPTIONS if c in corruptions):
            severities = {d.name for d in entries(root / corruption, within=root)[0]}
            found += [(f"{corruption}/{s}", root / corruption / str(s)) for s in SEVERITIES if str(s) in severities]
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

    def scoring(self) -> str:
        return "1000-way; mean over corruptions of the mean over severities"

    def layout(self) -> str:
        return f"<{self.folder}>/<corruption>/<severity 1-5>/<wnid>/*.JPEG (15 corruptions x 5 severities)"

    def write_fake(self, root: Path, per_class: int, classes: int, seed: int = 0, size: int = 40,
                   real_glass_blur: bool = False) -> int:
        """Generated images corrupted the real way (the `imagecorruptions` package) at every
        corruption and severity; `per_class` images per class in each of the 75 parts.

        glass_blur: imagecorruptions' version compiles a numba kernel on first use (~10 s per
        process), so by default a vectorised stand-in (blur, jitter pixels locally, blur) is
        used; `real_glass_blur=True` uses the package's own.
        """
        require_imagecorruptions()
        root = prepare_fake_folder(self.name, root)
        rng = np.random.default_rng(seed)
        np.random.seed(seed)  # imagecorruptions draws from numpy's global generator
        wnids, groups = self.wnids()[:classes], self.class_indices()
        bases = [[np.asarray(class_image(groups[label][0], rng, size)) for _ in range(per_class)]
                 for label in range(len(wnids))]
        for corruption in CORRUPTIONS:
            for severity in SEVERITIES:
                for label, wnid in enumerate(wnids):
                    folder = root / corruption / str(severity) / wnid
                    folder.mkdir(parents=True, exist_ok=True)
                    for i, base in enumerate(bases[label]):
                        image = corrupted(base, corruption, severity, rng, real_glass_blur)
                        save_image(image, folder / f"{wnid}_{i:04d}.JPEG")
        count = len(CORRUPTIONS) * len(SEVERITIES) * len(wnids) * per_class
        write_marker(root, len(wnids), per_class, count)
        return count

    def check(self, root: Path) -> CheckResult:
        """Every corruption/severity folder present, each a complete class tree."""
        root = Path(root)
        result = CheckResult(self.name, str(root), found=root.is_dir(), expected_images=self.expected_images)
        if not result.found:
            result.problems.append(str(missing_folder(self.name, root, self.layout())))
            return result
        fake = read_marker(root)
        if fake:
            result.expected_images = fake["images"]
        try:
            present = self.present_parts(root)
        except DataError as error:
            result.problems.append(str(error))
            return result
        names = {part for part, _ in present}
        missing = [str(root / c / str(s)) for c in CORRUPTIONS for s in SEVERITIES if f"{c}/{s}" not in names]
        if missing:
            result.problems.append(f"{75 - len(missing)} of the 75 corruption/severity folders")
            result.problems += shortened([f"missing {p}" for p in missing], "missing folders")
        for _, part_root in present:
            try:
                images, problems = self.check_classes(part_root, fake)
            except DataError as error:
                images, problems = 0, [str(error)]
            result.images += images
            result.problems += problems
        if result.images != result.expected_images:
            result.problems.append(f"{result.images:,} images in {root}, expected {result.expected_images:,}")
        return result


def can_corrupt() -> bool:
    """The corruptions (and their opencv, numba, scikit-image) are an extra: only fakes need them."""
    import importlib.util

    return importlib.util.find_spec("imagecorruptions") is not None


def require_imagecorruptions() -> None:
    if not can_corrupt():
        raise DataError("generated ImageNet-C images are corrupted by the imagecorruptions package, which "
                        "is not installed: pip install 'ribray[fakes]' (or leave imagenet_c out: "
                        "ribray data fake ROOT --datasets ...)")


def corrupted(base: np.ndarray, corruption: str, severity: int, rng: np.random.Generator,
              real_glass_blur: bool = False):
    """`base` (H, W, 3 uint8) under one ImageNet-C corruption, as a PIL image."""
    from PIL import Image

    if corruption == "glass_blur" and not real_glass_blur:
        return Image.fromarray(glass_blur_standin(base, severity, rng))
    from imagecorruptions import corrupt

    return Image.fromarray(np.uint8(corrupt(base, corruption_name=corruption, severity=severity)))


def glass_blur_standin(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Glass blur without numba: Gaussian blur, move each pixel to a random neighbour within a
    radius growing with severity, blur again (the same three steps as ImageNet-C's)."""
    from scipy.ndimage import gaussian_filter

    sigma, radius = 0.5 + 0.2 * severity, 1 + severity // 2
    blurred = gaussian_filter(image.astype(np.float32), sigma=(sigma, sigma, 0))
    height, width = image.shape[:2]
    rows = np.clip(np.arange(height)[:, None] + rng.integers(-radius, radius + 1, (height, width)), 0, height - 1)
    cols = np.clip(np.arange(width)[None, :] + rng.integers(-radius, radius + 1, (height, width)), 0, width - 1)
    jittered = gaussian_filter(blurred[rows, cols], sigma=(sigma, sigma, 0))
    return np.clip(jittered, 0, 255).astype(np.uint8)
