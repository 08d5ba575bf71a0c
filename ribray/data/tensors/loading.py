"""Images as timm's eval transform makes them, fast: for training and evaluation.

The paper trains and evaluates with the model's eval transform (no augmentation), and timm's
model cards report accuracies with it. So every batch is exactly
`timm.data.create_transform(**data_config, is_training=False)` of the PIL image, up to
normalization: worker processes decode and resize/crop with PIL through timm's own
transform (`use_prefetcher=True`: it stops at uint8 tensors), the uint8 batches cross
processes (4x less than float) into pinned memory, and timm's `PrefetchLoader` copies the
next batch to the device on a side stream and normalizes it there while the model runs on
the current one. ObjectNet's 2-pixel frame is cut first (timm's `crop_border_pixels`).

`decode: nvjpeg` is the opt-in alternative for JPEG sets (ribray.data.tensors.device_decode): the GPU
decodes, which is faster where CPU cores are few but does not give PIL's pixels.

Unreadable images (truncated or corrupt files, not images at all, decompression bombs, 32-bit
pixels: ribray.data.images decodes one file): a batch never fails because of one file. The
file is left out of its batch and logged as a warning naming it;
`Batches.skipped` lists what was left out, so evaluation counts only the images it scored
(`n_images` in the results shows the shortfall). `ribray data check --verify-images` finds
such files before a sweep.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from ribray.data.base import DatasetEntry, Sample
from ribray.data.images import load_image, unreadable_reason
from ribray.data.subsets import balanced_indices

log = logging.getLogger("ribray.data")
TRANSFORM_KEYS = ("input_size", "interpolation", "mean", "std", "crop_pct", "crop_mode")
DECODERS = ("pil", "nvjpeg")


def pixel_transform(data_config: dict, crop_border: int = 0):
    """timm's eval transform up to normalization: a PIL image -> uint8 (3, H, W), resized and
    cropped exactly as `create_transform(is_training=False)` does; `crop_border` pixels are
    cut from each side first."""
    from timm.data import create_transform

    return create_transform(**{k: data_config[k] for k in TRANSFORM_KEYS if k in data_config},
                            is_training=False, use_prefetcher=True, crop_border_pixels=crop_border or None)


@dataclass(frozen=True)
class Unreadable:
    """What a dataset item is when its file cannot be decoded."""

    path: str
    reason: str


class ImageFiles(Dataset):
    """(uint8 image tensor, label, part id) for each sample, or Unreadable; parts index
    `part_names`. Paths are one numpy byte array, not a list of str objects, so worker
    processes do not copy the sample list (reference counts would touch every page of a
    3.75M-item list)."""

    def __init__(self, samples: list[Sample], transform):
        self.transform = transform
        self.part_names = sorted({s.part for s in samples})
        part_id = {p: i for i, p in enumerate(self.part_names)}
        self.paths = np.array([s.path.encode() for s in samples], dtype=bytes)
        self.labels = np.array([s.label for s in samples], dtype=np.int64)
        self.parts = np.array([part_id[s.part] for s in samples], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        path = self.paths[i].decode()
        try:  # whatever one file does (truncated, not an image, a bomb, odd pixels) stays its own problem
            return self.transform(load_image(path)), int(self.labels[i]), int(self.parts[i])
        except Exception as error:  # noqa: BLE001
            return Unreadable(path, unreadable_reason(error))


def collate_readable(items: list) -> tuple:
    """Stack the readable items; the unreadable ones go in a last element."""
    bad = [item for item in items if isinstance(item, Unreadable)]
    good = [item for item in items if not isinstance(item, Unreadable)]
    if not good:
        return None, None, None, bad
    return (*default_collate(good), bad)


class Batches:
    """Batches of (images normalized on `device`, labels, part ids), all on `device`; the
    names of the parts; the files left out as unreadable (`skipped`)."""

    def __init__(self, loader: DataLoader, parts: list[str], device: torch.device, data_config: dict):
        self.loader, self.parts, self.device = loader, parts, torch.device(device)
        self.mean, self.std = tuple(data_config["mean"]), tuple(data_config["std"])
        self.skipped: list[Unreadable] = []

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        from timm.data.loader import PrefetchLoader

        prefetched = PrefetchLoader(_Readable(self), mean=self.mean, std=self.std, device=self.device)
        for images, targets in prefetched:
            yield images, targets[:, 0], targets[:, 1]

    def __len__(self) -> int:
        return len(self.loader)


class _Readable:
    """The loader's batches as (uint8 images, [labels, part ids]) for timm's PrefetchLoader,
    with each unreadable file logged and recorded."""

    def __init__(self, batches: Batches):
        self.batches = batches

    def __iter__(self):
        for images, labels, parts, bad in self.batches.loader:
            for item in bad:
                log.warning("skipping unreadable image %s (%s)", item.path, item.reason)
            self.batches.skipped += bad
            if images is not None:
                yield images, torch.stack([labels, parts], dim=1)

    def __len__(self) -> int:
        return len(self.batches.loader)


def make_loader(dataset: Dataset, batch_size: int, workers: int, shuffle: bool, seed: int,
                pin_memory: bool) -> DataLoader:
    """A DataLoader with worker processes, pinned memory on CUDA and a seeded shuffle."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      generator=generator, pin_memory=pin_memory, drop_last=False,
                      collate_fn=collate_readable, persistent_workers=False,
                      prefetch_factor=4 if workers else None)


def image_batches(entry: DatasetEntry, samples: list[Sample], data_config: dict, batch_size: int,
                  device: torch.device | str, workers: int, shuffle: bool = False, seed: int = 0) -> Batches:
    """`samples` through timm's transform in `workers` processes, normalized on `device`."""
    device = torch.device(device)
    dataset = ImageFiles(samples, pixel_transform(data_config, entry.crop_border))
    loader = make_loader(dataset, batch_size, workers, shuffle, seed, device.type == "cuda")
    return Batches(loader, dataset.part_names, device, data_config)


def train_loader(entry: DatasetEntry, folder: Path, data_config: dict, batch_size: int,
                 workers: int, seed: int, device: torch.device | str = "cpu",
                 indices: list[int] | None = None) -> Batches:
    """Shuffled batches of the downstream set (or the given sample indices), fixed per seed."""
    samples = entry.samples(folder)
    if indices is not None:
        samples = [samples[i] for i in indices]
    return image_batches(entry, samples, data_config, batch_size, device, workers, shuffle=True, seed=seed)


def eval_samples(entry: DatasetEntry, folder: Path, limit: int | None, seed: int,
                 balanced: bool = False) -> list[Sample]:
    """The set's samples in order, or a fixed random subset of at most `limit` of them (kept
    in order): uniform, or `balanced`, the same number from every class."""
    samples = entry.samples(folder)
    if limit is None or limit >= len(samples):
        return samples
    if balanced:
        chosen = balanced_indices([s.label for s in samples], limit, seed)
    else:
        chosen = sorted(random.Random(seed).sample(range(len(samples)), limit))
    return [samples[i] for i in chosen]


def iter_eval_batches(entry: DatasetEntry, folder: Path, data_config: dict, batch_size: int,
                      device: torch.device | str, workers: int = 0, decode: str = "pil",
                      limit: int | None = None, seed: int = 0, balanced: bool = False):
    """The eval set as batches of (normalized images on `device`, labels, part ids), with
    `.parts` (the part names that part ids index), `.skipped` (unreadable files left out) and
    `.decoder` (what decoded them).

    decode="pil" (also "auto"): timm's eval transform exactly. decode="nvjpeg": JPEGs decoded
    on `device` (ribray.data.tensors.device_decode; works on CPU too); sets it cannot handle (PNG,
    non-center crops) use the PIL path.
    """
    from ribray.options import LEGACY_DECODE

    decode = LEGACY_DECODE.get(decode, "pil" if decode == "auto" else decode)
    if decode not in DECODERS:
        raise ValueError(f"decode must be auto, pil or nvjpeg, not {decode!r}")
    samples = eval_samples(entry, folder, limit, seed, balanced)
    if decode == "nvjpeg":
        from ribray.data.tensors.device_decode import device_batches

        batches = device_batches(samples, data_config, batch_size, torch.device(device), entry.crop_border,
                                 threads=max(4, workers))
        if batches is not None:
            batches.decoder = "nvjpeg"
            return batches
    batches = image_batches(entry, samples, data_config, batch_size, device, workers)
    batches.decoder = "pil"
    return batches
