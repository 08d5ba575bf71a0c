"""Generated images for tests and the demo sweep, in the real layouts and learnable.

An image's look depends only on its ImageNet-1K class (a hue, a stripe direction and a stripe
period), so a class looks alike in every generated set: a model fine-tuned on one fake set
changes its accuracy on the others, as on real data. A marker file beside each generated set
records its size, so `ribray data check` expects the fake's counts, not the real set's.
"""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
from PIL import Image

MARKER = ".ribray-fake.json"
GOLDEN = 0.618033988749895  # hue step: consecutive class indices get well-separated hues


def class_image(imagenet_index: int, rng: np.random.Generator, size: int = 40) -> Image.Image:
    """A noisy size x size RGB image whose colour and stripes identify `imagenet_index`."""
    hue = (imagenet_index * GOLDEN) % 1.0
    colour = np.array(colorsys.hsv_to_rgb(hue, 0.8, 0.9), dtype=np.float32) * 255
    pixels = np.empty((size, size, 3), dtype=np.float32)
    pixels[:] = colour
    period = 4 if (imagenet_index // 2) % 2 == 0 else 7
    stripes = (np.arange(size) // period) % 2 == 0
    if imagenet_index % 2:
        pixels[stripes, :, :] *= 0.55
    else:
        pixels[:, stripes, :] *= 0.55
    pixels += rng.normal(0, 16, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def save_image(image: Image.Image, path: Path) -> None:
    """JPEG (quality 90) or PNG by the file's suffix."""
    if path.suffix.lower() == ".png":
        image.save(path)
    else:
        image.save(path, quality=90)


def write_marker(folder: Path, classes: int, per_class: int, images: int, **extra) -> None:
    """Record what was generated in `folder` (what `ribray data check` then expects)."""
    info = {"classes": classes, "per_class": per_class, "images": images, **extra}
    (Path(folder) / MARKER).write_text(json.dumps(info))


def read_marker(folder: Path) -> dict | None:
    """The generated set's sizes, or None for real data."""
    path = Path(folder) / MARKER
    return json.loads(path.read_text()) if path.is_file() else None


def generated_sets(folders: dict[str, Path]) -> frozenset[str]:
    """The datasets whose folder `ribray data fake` wrote (it holds the marker): results on them
    say nothing about real models or data, and rows and reports say so."""
    return frozenset(name for name, folder in folders.items() if (Path(folder) / MARKER).is_file())
