"""The evaluation input pipeline alone: images/s of ribray's `iter_eval_batches` (read, decode,
resize, crop, normalize, batch; no model) on each generated JPEG set, both ways it decodes:

- `pil` (the default, exact): PIL through timm's transform in DataLoader worker processes,
  uint8 batches, normalized on the device;
- `nvjpeg` (opt-in, approximate): files read in threads and decoded by torchvision on the
  device (nvJPEG on CUDA; on a CPU device, torchvision's CPU decoder in those threads).

Reported, not checked: it is how fast images can arrive, the ceiling of a CPU sweep's
evaluation, and, on a GPU, how much headroom decoding leaves over the forward pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from benchmarks.device import Stopwatch
from benchmarks.jpeg_files import JpegKind
from benchmarks.results import Section
from benchmarks.sizes import Sizes

DECODERS = ("pil", "nvjpeg")  # iter_eval_batches(decode=...)


def workers(sizes: Sizes) -> int:
    return max(1, min(sizes.loader_workers, os.cpu_count() or 1))


def images_per_s(dataset: str, folder: Path, data_config: dict, sizes: Sizes,
                 device: torch.device, decode: str) -> float:
    """One warm-up pass over a few batches, then the whole set, timed."""
    from ribray.data import get_dataset
    from ribray.data.tensors.loading import iter_eval_batches

    entry = get_dataset(dataset)

    def count(limit: int | None) -> int:
        batches = iter_eval_batches(entry, folder, data_config, sizes.eval_batch, device,
                                    workers=workers(sizes), decode=decode, limit=limit)
        return sum(len(images) for images, _labels, _parts in batches)

    count(2 * sizes.eval_batch)
    with Stopwatch(device) as watch:
        images = count(None)
    return images / watch.seconds


def measure(data_config: dict, jpeg_sets: dict[JpegKind, Path], sizes: Sizes,
            device: torch.device) -> Section:
    numbers: dict = {"workers": workers(sizes), "cpu_cores": os.cpu_count(), "batch": sizes.eval_batch,
                     "sets": {}}
    for kind, folder in jpeg_sets.items():
        numbers["sets"][kind.name] = {
            f"{decode}_decode_images_per_s": images_per_s(kind.dataset, folder, data_config, sizes,
                                                          device, decode)
            for decode in DECODERS}
    return Section("loader", numbers)
