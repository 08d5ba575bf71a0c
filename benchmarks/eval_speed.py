"""Evaluation speed from JPEG files on disk: ribray's evaluation (ribray.trials.evaluate) with
its exact default input (timm's transform via PIL in worker processes, uint8 across processes,
normalized on the device) and with the opt-in GPU decoder (nvjpeg), vs the model's forward pass
alone on random tensors, and vs a standard DataLoader (worker processes, PIL, timm's eval
transform, float tensors), in one run. Every reader gets the same worker processes.

The files were just written, so every reader finds them in the page cache: the comparison
is of decoding and feeding the GPU, not of the disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from benchmarks.device import Stopwatch, autocast
from benchmarks.jpeg_files import LARGE, SMALL, JpegKind
from benchmarks.results import Check, Section, ratio
from benchmarks.sizes import Sizes

# Exact evaluation vs forward-only: 224 px JPEGs decode faster than the model runs on 16 cores;
# 500x375 ones are bound by PIL decoding on 16 cores (~5.7k img/s for a ~8.9k img/s model).
TARGET_VS_FORWARD = {SMALL.name: 0.9, LARGE.name: 0.6}
TARGET_VS_DATALOADER = {SMALL.name: 4.0}
DECODERS = ("pil", "nvjpeg")  # exact (the default), and the approximate opt-in


def forward_only(model: nn.Module, sizes: Sizes, device: torch.device) -> float:
    """Images/s of the model alone at the evaluation batch size (the ceiling)."""
    images = torch.randn(sizes.eval_batch, 3, sizes.image_size, sizes.image_size, device=device)
    model.eval()
    with torch.inference_mode(), autocast(device):
        for _ in range(sizes.forward_warmup_batches):
            model(images).argmax(dim=1)
        with Stopwatch(device) as watch:
            for _ in range(sizes.forward_batches):
                model(images).argmax(dim=1)
    return sizes.forward_batches * sizes.eval_batch / watch.seconds


def eval_context(dataset: str, folder: Path, sizes: Sizes, scratch: str):
    """A SweepContext that points ribray's evaluation at the generated files."""
    from ribray.options import EvalOptions
    from ribray.trials.context import SweepContext

    return SweepContext(sweep="benchmark", spec_hash="benchmark", sweep_dir=scratch,
                        data_root=str(folder.parent), data_folders={dataset: str(folder)},
                        eval=EvalOptions(batch_size=sizes.eval_batch, workers=sizes.loader_workers))


def ribray_eval(models: list[nn.Module], dataset: str, folder: Path, data_config: dict,
                sizes: Sizes, device: torch.device, decode: str = "pil") -> tuple[float, int]:
    """Seconds and images of one ribray evaluation pass scoring every model in `models`."""
    from ribray.options import Evaluation
    from ribray.trials.evaluate import evaluate

    with tempfile.TemporaryDirectory(prefix="ribray-bench-") as scratch:
        context = eval_context(dataset, folder, sizes, scratch)
        warm_up = Evaluation(decode=decode, limit_per_set=2 * sizes.eval_batch)
        evaluate(models, [dataset], context, data_config, device, warm_up)
        with Stopwatch(device) as watch:
            results = evaluate(models, [dataset], context, data_config, device, Evaluation(decode=decode))
    return watch.seconds, results[0][0].n_images


class _ImageFiles(Dataset):
    """(transformed image, label) per file, decoded with PIL in a worker process."""

    def __init__(self, samples, transform):
        self.samples, self.transform = samples, transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        from PIL import Image

        sample = self.samples[index]
        with Image.open(sample.path) as image:
            return self.transform(image.convert("RGB")), sample.label


def dataloader_baseline(model: nn.Module, dataset: str, folder: Path, data_config: dict,
                        sizes: Sizes, device: torch.device) -> float:
    """Images/s of the usual recipe: DataLoader workers running PIL and timm's transform."""
    import timm.data

    from ribray.data import get_dataset

    samples = get_dataset(dataset).samples(folder)
    transform = timm.data.create_transform(**data_config, is_training=False)
    loader = DataLoader(_ImageFiles(samples, transform), batch_size=sizes.eval_batch,
                        num_workers=sizes.loader_workers, pin_memory=device.type == "cuda")
    correct = torch.zeros((), dtype=torch.long, device=device)
    model.eval()
    with Stopwatch(device) as watch, torch.inference_mode(), autocast(device):
        for images, labels in loader:
            images = images.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            correct += (model(images).argmax(dim=1) == labels).sum()
    return len(samples) / watch.seconds


def measure(model: nn.Module, data_config: dict, jpeg_sets: dict[JpegKind, Path],
            sizes: Sizes, device: torch.device) -> Section:
    """Forward-only once, then ribray (exact, then nvjpeg) and the DataLoader on each set."""
    forward = forward_only(model, sizes, device)
    numbers: dict = {"model": sizes.model, "batch": sizes.eval_batch, "workers": sizes.loader_workers,
                     "cpu_cores": os.cpu_count(), "forward_only_images_per_s": forward, "sets": {}}
    checks = []
    for kind, folder in jpeg_sets.items():
        rates = {}
        for decode in DECODERS:
            seconds, images = ribray_eval([model], kind.dataset, folder, data_config, sizes, device, decode)
            rates[decode] = images / seconds
        baseline = dataloader_baseline(model, kind.dataset, folder, data_config, sizes, device)
        numbers["sets"][kind.name] = {"images": images, "ribray_images_per_s": rates["pil"],
                                      "ribray_nvjpeg_images_per_s": rates["nvjpeg"],
                                      "dataloader_images_per_s": baseline}
        workers = f"{sizes.loader_workers} workers on {os.cpu_count()} cores"
        checks += [
            Check(f"eval {kind.name}: ribray exact / forward-only", ratio(rates["pil"], forward),
                  TARGET_VS_FORWARD.get(kind.name), note=workers),
            Check(f"eval {kind.name}: ribray exact / DataLoader", ratio(rates["pil"], baseline),
                  TARGET_VS_DATALOADER.get(kind.name), note=f"{workers}, PIL, float tensors"),
            Check(f"eval {kind.name}: ribray nvjpeg / forward-only", ratio(rates["nvjpeg"], forward),
                  None, note="approximate pixels; reported"),
        ]
    return Section("eval", numbers, checks)
