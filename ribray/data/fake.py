"""Generated images for tests and the demo sweep: learnable (a colour and a stripe per class)."""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
from PIL import Image

MARKER = ".ribray-fake.json"  # written beside generated data; `data check` then expects its sizes


def class_image(label: int, classes: int, rng: np.random.Generator, size: int = 40) -> Image.Image:
    """A noisy image whose hue and stripe direction identify `label` among `classes`."""
    red, green, blue = colorsys.hsv_to_rgb(label / max(1, classes), 0.8, 0.9)
    pixels = np.empty((size, size, 3), dtype=np.float32)
    pixels[:] = np.array([red, green, blue]) * 255
    stripes = (np.arange(size) // 4) % 2 == 0
    if label % 2:
        pixels[stripes, :, :] *= 0.6
    else:
        pixels[:, stripes, :] *= 0.6
    pixels += rng.normal(0, 18, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def write_marker(folder: Path, classes: int, per_class: int, images: int) -> None:
    (folder / MARKER).write_text(json.dumps({"classes": classes, "per_class": per_class, "images": images}))


def read_marker(folder: Path) -> dict | None:
    path = Path(folder) / MARKER
    return json.loads(path.read_text()) if path.is_file() else None
