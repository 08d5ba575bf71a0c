"""Decode + resize + center-crop with the model's eval transform, for training and evaluation.

The paper trains and evaluates with the same eval transform (no augmentation). A file that
cannot be decoded is skipped with a warning naming it: it gets label -100, which the loss
ignores and evaluation does not count (`ribray data check --verify-images` finds such files
before a sweep).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from ribray.data.base import DatasetEntry, Sample

log = logging.getLogger("ribray.data")
BAD_LABEL = -100  # torch's cross-entropy ignore_index


def eval_transform(data_config: dict):
    """timm's eval transform for this model: resize to input/crop_pct, center crop, normalize."""
    from timm.data import create_transform

    keys = ("input_size", "interpolation", "mean", "std", "crop_pct", "crop_mode")
    return create_transform(**{k: data_config[k] for k in keys if k in data_config}, is_training=False)


class ImageFiles(Dataset):
    """(image tensor, label, part id) for each sample; parts index `part_names`."""

    def __init__(self, samples: list[Sample], transform, crop_border: int = 0):
        self.samples, self.transform, self.crop_border = samples, transform, crop_border
        self.part_names = sorted({s.part for s in samples})
        self._part_id = {p: i for i, p in enumerate(self.part_names)}

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        sample = self.samples[i]
        part = self._part_id[sample.part]
        try:
            with Image.open(sample.path) as image:
                image = image.convert("RGB")
                if self.crop_border:
                    b = self.crop_border
                    image = image.crop((b, b, image.width - b, image.height - b))
                return self.transform(image), sample.label, part
        except (OSError, ValueError) as error:  # truncated / corrupt / not an image
            log.warning("skipping unreadable image %s: %s", sample.path, error)
            size = self.transform(Image.new("RGB", (8, 8))).shape
            return torch.zeros(size), BAD_LABEL, part


def _loader(dataset: Dataset, batch_size: int, workers: int, shuffle: bool, seed: int,
            pin_memory: bool) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      generator=generator, pin_memory=pin_memory, drop_last=False,
                      persistent_workers=False, prefetch_factor=4 if workers else None)


def train_loader(entry: DatasetEntry, folder: Path, data_config: dict, batch_size: int,
                 workers: int, seed: int, indices: list[int] | None = None,
                 pin_memory: bool = False) -> DataLoader:
    """Shuffled batches of the downstream set (or the given sample indices), fixed per seed."""
    samples = entry.samples(folder)
    if indices is not None:
        samples = [samples[i] for i in indices]
    dataset = ImageFiles(samples, eval_transform(data_config), entry.crop_border)
    return _loader(dataset, batch_size, workers, True, seed, pin_memory)


class EvalBatches:
    """Batches of (images on device, labels, part ids) and the names of the parts."""

    def __init__(self, loader: DataLoader, parts: list[str], device: torch.device):
        self.loader, self.parts, self.device = loader, parts, device

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for images, labels, parts in self.loader:
            yield (images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True),
                   parts.to(self.device, non_blocking=True))

    def __len__(self) -> int:
        return len(self.loader)


def iter_eval_batches(entry: DatasetEntry, folder: Path, data_config: dict, batch_size: int,
                      device: torch.device, workers: int = 0, decode: str = "auto",
                      limit: int | None = None, seed: int = 0) -> EvalBatches:
    """The eval set in order (or a fixed random subset of `limit` images), decoded for `device`.

    decode="gpu" (or "auto" on CUDA) decodes JPEGs on the GPU (ribray.data.gpu_decode);
    otherwise worker processes decode with PIL.
    """
    samples = entry.samples(folder)
    if limit is not None and limit < len(samples):
        chosen = sorted(random.Random(seed).sample(range(len(samples)), limit))
        samples = [samples[i] for i in chosen]
    if decode == "gpu" or (decode == "auto" and torch.device(device).type == "cuda"):
        from ribray.data.gpu_decode import device_batches

        found = device_batches(samples, data_config, batch_size, torch.device(device), entry.crop_border)
        if found is not None:
            return found
    dataset = ImageFiles(samples, eval_transform(data_config), entry.crop_border)
    loader = _loader(dataset, batch_size, workers, False, seed, torch.device(device).type == "cuda")
    return EvalBatches(loader, dataset.part_names, torch.device(device))
