"""One image file: 16-bit grayscale is scaled to 8 bits (not clipped to white), and every file
that cannot be decoded faithfully (a decompression bomb, 32-bit pixels, garbage) is skipped
with a warning naming it, by the loaders and by `ribray data check --verify-images` alike."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ribray.cli.data import data
from ribray.data import get_dataset
from ribray.data.images import load_image
from ribray.data.tensors.loading import iter_eval_batches

SIXTEEN = np.array([[0, 256, 1000, 32768, 65535, 65280, 383, 384]], dtype=np.uint16)
# By hand: the high byte of each value (v // 256), as PIL decodes 16-bit color PNGs
EIGHT = np.array([[0, 1, 3, 128, 255, 255, 1, 1]], dtype=np.uint8)
CONFIG = {"input_size": (3, 8, 8), "interpolation": "bilinear", "mean": (0.5,) * 3, "std": (0.5,) * 3,
          "crop_pct": 1.0}


def write_png(path: Path, width: int, height: int, bits: int, color: int, raw: bytes) -> None:
    """A PNG written by hand (PIL writes neither 16-bit color nor a lying header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, bits, color, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims `width` x `height` 1-bit pixels (a bomb by its header: a few bytes)."""
    write_png(path, width, height, bits=1, color=0, raw=b"\0" * 64)


def test_a_16_bit_grayscale_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "gray16.png"
    Image.fromarray(SIXTEEN).save(path)
    assert Image.open(path).mode == "I;16"  # what convert("RGB") turns white above 255
    pixels = np.asarray(load_image(str(path)))
    assert pixels.shape == (1, 8, 3) and (pixels == EIGHT[..., None]).all(), pixels[..., 0]


def test_16_bit_gray_gives_the_pixels_pil_gives_the_same_picture_in_color(tmp_path):
    gray, color = tmp_path / "gray.png", tmp_path / "color.png"
    ramp = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)
    Image.fromarray(ramp).save(gray)
    rgb = np.repeat(ramp[..., None], 3, axis=2).astype(">u2")
    write_png(color, 64, 48, bits=16, color=2, raw=b"".join(b"\0" + row.tobytes() for row in rgb))
    assert Image.open(color).mode == "RGB"  # PIL's own 16-bit color decoding: the high byte
    assert np.array_equal(np.asarray(load_image(str(gray))), np.asarray(load_image(str(color))))


@pytest.fixture
def odd_files(tmp_path) -> tuple[Path, dict[Path, str]]:
    """A small ImageNet-R with, in one class folder, a 16-bit PNG that is fine and four files
    that are not: two decompression bombs (past twice PIL's limit, where PIL raises, and just
    past it, where PIL only warns), 32-bit float pixels, and garbage."""
    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r"
    entry.write_fake(folder, per_class=2, classes=2, size=16)
    first = folder / entry.wnids()[0]
    Image.fromarray(SIXTEEN).save(first / "gray16.png")
    bad = {first / "bomb.png": "decompression bomb", first / "big.png": "decompression bomb",
           first / "float.png": "32-bit float pixels", first / "garbage.jpg": "UnidentifiedImageError"}
    png_header_only(first / "bomb.png", 20_000, 20_000)  # 400M pixels: PIL's DecompressionBombError
    png_header_only(first / "big.png", 10_000, 10_000)  # 100M pixels: PIL only warns
    Image.fromarray(np.zeros((4, 4), np.float32)).save(first / "float.png", format="TIFF")
    (first / "garbage.jpg").write_bytes(b"not an image at all")
    return folder, bad


def test_every_per_image_failure_is_skipped_counted_and_named(odd_files, caplog):
    folder, bad = odd_files
    entry = get_dataset("imagenet_r")
    with caplog.at_level(logging.WARNING, logger="ribray.data"):
        batches = iter_eval_batches(entry, folder, CONFIG, batch_size=3, device="cpu")
        seen = sum(images.shape[0] for images, _, _ in batches)
    assert seen == 4 + 1  # the generated images and the 16-bit PNG
    assert {Path(u.path): u.reason for u in batches.skipped}.keys() == bad.keys()
    for path, why in bad.items():
        assert f"skipping unreadable image {path}" in caplog.text
        assert why in next(u.reason for u in batches.skipped if Path(u.path) == path)


def test_verify_images_finds_the_same_files(odd_files):
    folder, bad = odd_files
    result = CliRunner().invoke(data, ["check", str(folder.parent), "--datasets", "imagenet_r", "--verify-images"])
    assert result.exit_code == 1, result.output
    for path, why in bad.items():
        line = next(line for line in result.output.splitlines() if f"unreadable image {path}:" in line)
        assert why in line, line
    assert "gray16.png" not in result.output and "4 unreadable images in all" in result.output
