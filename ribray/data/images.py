"""One image file as the models see it: 8-bit RGB decoded by PIL (what timm's loaders and the
paper's numbers use), with what PIL's `convert("RGB")` gets wrong or lets through handled:

- 16-bit grayscale (PIL modes I;16, I;16B, I;16L): `convert("RGB")` clips them, so every
  value above 255 becomes white. They are scaled to 8 bits by their high byte, which is how
  PIL itself decodes 16-bit color PNGs (RGB;16B, LA;16B): a 16-bit picture gives the same
  pixels in gray as in color.
- 32-bit pixels (modes I and F) have no agreed 8-bit meaning: refused, naming the mode.
- An image of more pixels than PIL's limit (Image.MAX_IMAGE_PIXELS, ~89M: a decompression
  bomb by PIL's definition; PIL itself only warns below twice the limit) is refused before
  it is decoded.

Torch-free, so that `ribray data check --verify-images` decodes as the loaders do. A file
that cannot be read raises; the loaders skip it, count it and name it (`unreadable_reason`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
REFUSED_MODES = {"I": "32-bit integer", "F": "32-bit float"}


class ImageRefused(ValueError):
    """A file that decodes, but not into an image ribray can feed a model faithfully."""


def open_image(path: str) -> Image.Image:
    """The file opened (its header read, not yet decoded), refused when it is a
    decompression bomb or has 32-bit pixels."""
    image = Image.open(path)
    try:
        pixels = image.width * image.height
        if Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS:
            raise ImageRefused(f"{image.width}x{image.height} = {pixels:,} pixels, past PIL's limit of "
                               f"{Image.MAX_IMAGE_PIXELS:,} (PIL.Image.MAX_IMAGE_PIXELS; a decompression bomb)")
        if image.mode in REFUSED_MODES:
            raise ImageRefused(f"{REFUSED_MODES[image.mode]} pixels (PIL mode {image.mode}): ribray reads 8-bit "
                               "and 16-bit images; convert it to 8-bit RGB")
    except BaseException:
        image.close()
        raise
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; 16-bit grayscale scaled by its high byte (not clipped, as convert() does)."""
    if image.mode in SIXTEEN_BIT_MODES:
        high_bytes = (np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8)
        return Image.fromarray(high_bytes).convert("RGB")
    return image.convert("RGB")


def load_image(path: str, crop_border: int = 0) -> Image.Image:
    """An 8-bit RGB PIL image with `crop_border` pixels cut from each side (ObjectNet's frame)."""
    with open_image(path) as image:
        image = to_rgb(image)
    if crop_border:
        b = crop_border
        image = image.crop((b, b, image.width - b, image.height - b))
    return image


def unreadable_reason(error: BaseException) -> str:
    """Why a file was left out, as the warning and `ribray data check` name it."""
    return f"{type(error).__name__}: {error}"
