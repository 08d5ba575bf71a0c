"""JPEG files with realistic sizes for the evaluation measurements, written in a registered
dataset's real on-disk layout so that ribray's own evaluation reads them.

Smooth random images (random colours at a few scales, upsampled bicubically, plus pixel
noise) saved at JPEG quality 75: 224x224 comes out near ImageNet-C's ~12 KB per file,
500x375 near ImageNet's ~110 KB, so reading and decoding cost what real files cost.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class JpegKind:
    """One kind of generated image, and the registered dataset whose layout it goes into."""

    name: str
    dataset: str
    width: int
    height: int
    scales: tuple[int, ...]  # random colour cells across the width, one layer per scale
    noise: float  # per-pixel Gaussian noise (std, 0-255): the finest detail
    quality: int = 75


SMALL = JpegKind("224x224 (ImageNet-C-like)", "imagenet_c", 224, 224, (6, 24, 64), 8.0)
LARGE = JpegKind("500x375 (ImageNet-size)", "imagenet_sketch", 500, 375, (8, 64, 250), 60.0)


def smooth_random_image(kind: JpegKind, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((kind.height, kind.width, 3), np.float32)
    for cells in kind.scales:
        rows = max(2, round(cells * kind.height / kind.width))
        coarse = rng.uniform(0, 255, (rows, cells, 3)).astype(np.uint8)
        layer = Image.fromarray(coarse).resize((kind.width, kind.height), Image.BICUBIC)
        pixels += np.asarray(layer, np.float32) / len(kind.scales)
    pixels += rng.normal(0.0, kind.noise, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _write_chunk(kind: JpegKind, paths: list[str], first_seed: int) -> int:
    written = 0
    for offset, path in enumerate(paths):
        smooth_random_image(kind, first_seed + offset).save(path, "JPEG", quality=kind.quality)
        written += os.path.getsize(path)
    return written


def write_jpegs(kind: JpegKind, paths: list[Path], workers: int, seed: int = 0) -> int:
    """Write one generated image to each path, in parallel; return the bytes written."""
    chunk = max(1, math.ceil(len(paths) / max(1, workers * 4)))
    pieces = [[str(p) for p in paths[i:i + chunk]] for i in range(0, len(paths), chunk)]
    if workers <= 1:
        return sum(_write_chunk(kind, piece, seed + n * chunk) for n, piece in enumerate(pieces))
    # spawn: the parent may hold CUDA and Ray threads, which forked children must not inherit
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_write_chunk, kind, piece, seed + n * chunk)
                   for n, piece in enumerate(pieces)]
        return sum(f.result() for f in futures)


def leaf_folders(dataset: str, folder: Path, classes: int) -> list[Path]:
    """One folder per (part, class) in the dataset's real layout: ImageNet-C's
    <corruption>/<severity>/<wnid>, the other sets' <wnid>."""
    from ribray.data import get_dataset
    from ribray.data.imagenet_c import CORRUPTIONS, SEVERITIES, ImageNetC

    entry = get_dataset(dataset)
    parts = [Path(c, str(s)) for c in CORRUPTIONS for s in SEVERITIES] \
        if isinstance(entry, ImageNetC) else [Path()]
    return [folder / part / wnid for part in parts for wnid in entry.wnids()[:classes]]


def fill_dataset(kind: JpegKind, folder: Path, count: int, workers: int, classes: int = 10) -> dict:
    """Write `count` generated JPEGs into `kind.dataset`'s layout under `folder`, spread over
    its parts and `classes` classes; the dataset's own listing must find every one."""
    from ribray.data import get_dataset

    if folder.exists():
        shutil.rmtree(folder)
    leaves = leaf_folders(kind.dataset, folder, classes)
    for leaf in leaves:
        leaf.mkdir(parents=True)
    paths = [leaves[i % len(leaves)] / f"bench_{i:07d}.JPEG" for i in range(count)]
    written = write_jpegs(kind, paths, workers)
    found = len(get_dataset(kind.dataset).samples(folder))
    if found != count:
        raise RuntimeError(f"{kind.dataset}: wrote {count} JPEGs but the dataset lists {found}; "
                           "its layout changed: update benchmarks/jpeg_files.py")
    return {"dataset": kind.dataset, "images": found, "mean_kb": written / found / 1000,
            "width": kind.width, "height": kind.height}
