"""Decode + resize + center-crop with the model's eval transform, for training and evaluation.

The paper trains and evaluates with the same eval transform (no augmentation).

Unreadable images (truncated or corrupt files, not images at all): a batch never fails
because of one file. The file is left out of its batch and logged as a warning naming it;
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
from PIL import Image
from torch.utils.data import DataLoader, Dataset, default_collate

from ribray.data.base import DatasetEntry, Sample

log = logging.getLogger("ribray.data")
TRANSFORM_KEYS = ("input_size", "interpolation", "mean", "std", "crop_pct", "crop_mode")


def eval_transform(data_config: dict):
    """timm's eval transform for this model: resize to input/crop_pct, center crop, normalize."""
    from timm.data import create_transform

    return create_transform(**{k: data_config[k] for k in TRANSFORM_KEYS if k in data_config},
                            is_training=False)


@dataclass(frozen=True)
class Unreadable:
    """What a dataset item is when its file cannot be decoded."""

    path: str
    reason: str


def load_image(path: str, crop_border: int = 0) -> Image.Image:
    """An RGB PIL image with `crop_border` pixels cut from each side (ObjectNet's frame)."""
    with Image.open(path) as image:
        image = image.convert("RGB")
    if crop_border:
        b = crop_border
        image = image.crop((b, b, image.width - b, image.height - b))
    return image


class ImageFiles(Dataset):
    """(image tensor, label, part id) for each sample, or Unreadable; parts index `part_names`.
    Paths are one numpy byte array, not a list of str objects, so worker processes do not
    copy the sample list (reference counts would touch every page of a 3.75M-item list)."""

    def __init__(self, samples: list[Sample], transform, crop_border: int = 0):
        self.transform, self.crop_border = transform, crop_border
        self.part_names = sorted({s.part for s in samples})
        part_id = {p: i for i, p in enumerate(self.part_names)}
        self.paths = np.array([s.path.encode() for s in samples], dtype=bytes)
        self.labels = np.array([s.label for s in samples], dtype=np.int64)
        self.parts = np.array([part_id[s.part] for s in samples], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        path = self.paths[i].decode()
        try:
            image = load_image(path, self.crop_border)
        except (OSError, ValueError, SyntaxError) as error:  # truncated / corrupt / not an image
            return Unreadable(path, f"{type(error).__name__}: {error}")
        return self.transform(image), int(self.labels[i]), int(self.parts[i])


def collate_readable(items: list) -> tuple | None:
    """Stack the readable items; the unreadable ones go in a fourth element."""
    bad = [item for item in items if isinstance(item, Unreadable)]
    good = [item for item in items if not isinstance(item, Unreadable)]
    if not good:
        return None, bad
    return (*default_collate(good), bad)


class Batches:
    """Batches of (images, labels, part ids), moved to `device` when one is given; the names
    of the parts; the files left out as unreadable (`skipped`)."""

    def __init__(self, loader: DataLoader, parts: list[str], device: torch.device | None = None):
        self.loader, self.parts, self.device = loader, parts, device
        self.skipped: list[Unreadable] = []

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for batch in self.loader:
            *tensors, bad = batch
            for item in bad:
                log.warning("skipping unreadable image %s (%s)", item.path, item.reason)
            self.skipped += bad
            if tensors[0] is None:
                continue
            if self.device is not None:
                tensors = [t.to(self.device, non_blocking=True) for t in tensors]
            yield tuple(tensors)

    def __len__(self) -> int:
        return len(self.loader)


EvalBatches = Batches  # the evaluator's name for it


def make_loader(dataset: Dataset, batch_size: int, workers: int, shuffle: bool, seed: int,
                pin_memory: bool) -> DataLoader:
    """A DataLoader with worker processes, pinned memory on CUDA and a seeded shuffle."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      generator=generator, pin_memory=pin_memory, drop_last=False,
                      collate_fn=collate_readable, persistent_workers=False,
                      prefetch_factor=4 if workers else None)


def train_loader(entry: DatasetEntry, folder: Path, data_config: dict, batch_size: int,
                 workers: int, seed: int, indices: list[int] | None = None,
                 pin_memory: bool = False) -> Batches:
    """Shuffled batches of the downstream set (or the given sample indices), fixed per seed.
    Tensors stay on the CPU (pinned when `pin_memory`): the training loop moves them."""
    samples = entry.samples(folder)
    if indices is not None:
        samples = [samples[i] for i in indices]
    dataset = ImageFiles(samples, eval_transform(data_config), entry.crop_border)
    return Batches(make_loader(dataset, batch_size, workers, True, seed, pin_memory), dataset.part_names)


def eval_samples(entry: DatasetEntry, folder: Path, limit: int | None, seed: int) -> list[Sample]:
    """The set's samples in order, or a fixed random subset of `limit` of them (kept in order)."""
    samples = entry.samples(folder)
    if limit is not None and limit < len(samples):
        chosen = sorted(random.Random(seed).sample(range(len(samples)), limit))
        samples = [samples[i] for i in chosen]
    return samples


def iter_eval_batches(entry: DatasetEntry, folder: Path, data_config: dict, batch_size: int,
                      device: torch.device | str, workers: int = 0, decode: str = "auto",
                      limit: int | None = None, seed: int = 0):
    """The eval set as batches of (float images on `device`, labels, part ids), with `.parts`
    (the part names that part ids index) and `.skipped` (unreadable files left out).

    decode="gpu" (or "auto" on CUDA) reads files in threads and decodes JPEGs on `device`
    (ribray.data.device_decode; works on CPU too); sets it cannot handle (PNG, non-center
    crops) fall back to worker processes decoding with PIL, which decode="cpu" always uses.
    """
    device = torch.device(device)
    samples = eval_samples(entry, folder, limit, seed)
    if decode not in ("auto", "cpu", "gpu"):
        raise ValueError(f"decode must be auto, cpu or gpu, not {decode!r}")
    if decode == "gpu" or (decode == "auto" and device.type == "cuda"):
        from ribray.data.device_decode import device_batches

        batches = device_batches(samples, data_config, batch_size, device, entry.crop_border,
                                 threads=max(4, workers))
        if batches is not None:
            return batches
    dataset = ImageFiles(samples, eval_transform(data_config), entry.crop_border)
    loader = make_loader(dataset, batch_size, workers, False, seed, device.type == "cuda")
    return Batches(loader, dataset.part_names, device)
