"""Evaluation batches decoded on the target device: the fast path for JPEG eval sets.

Threads read file bytes ahead of use; `torchvision.io.decode_jpeg` decodes on the device
(a whole batch in one call on CUDA; in the threads on CPU); images of the same size are
resized in one batched call; then center crop and normalize. This reproduces timm's
center-crop eval transform (resize the shorter side to floor(input / crop_pct) with the same
interpolation and antialiasing, center crop, normalize) to within resampling rounding.

A background thread prepares the next batches (on a side CUDA stream) while the model runs
on the current one. Unreadable files are left out with a warning, as on the PIL path.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import torch

from ribray.data.base import Sample
from ribray.data.images import load_image, unreadable_reason
from ribray.data.tensors.loading import Unreadable

log = logging.getLogger("ribray.data")
JPEG_SUFFIXES = (".jpg", ".jpeg")
AHEAD = 3  # batches prepared ahead of the model


class DeviceTransform:
    """timm's center-crop eval transform applied to a list of uint8 (3, H, W) tensors."""

    def __init__(self, data_config: dict, device: torch.device):
        from torchvision.transforms import InterpolationMode

        self.size = int(data_config["input_size"][-1])
        self.scale = math.floor(self.size / data_config.get("crop_pct", 0.875))
        self.interpolation = InterpolationMode(data_config.get("interpolation", "bilinear"))
        mean = torch.tensor(data_config["mean"], dtype=torch.float32, device=device).view(1, 3, 1, 1)
        std = torch.tensor(data_config["std"], dtype=torch.float32, device=device).view(1, 3, 1, 1)
        self.multiply, self.add = 1.0 / (255.0 * std), -mean / std  # (x/255 - mean)/std in one FMA
        self.device = device

    @staticmethod
    def supports(data_config: dict) -> bool:
        """Square input and center crop: what every benchmark model uses."""
        height, width = data_config["input_size"][-2:]
        return height == width and data_config.get("crop_mode", "center") == "center" \
            and data_config.get("interpolation", "bilinear") in ("bilinear", "bicubic", "nearest")

    def __call__(self, images: list[torch.Tensor]) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as F

        out = torch.empty(len(images), 3, self.size, self.size, dtype=torch.float32, device=self.device)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, image in enumerate(images):
            by_shape.setdefault(tuple(image.shape), []).append(i)
        for indices in by_shape.values():
            batch = torch.stack([images[i] for i in indices])
            # uint8 in, uint8 out (rounded), as PIL resizes before ToTensor
            batch = F.resize(batch, [self.scale], interpolation=self.interpolation, antialias=True)
            batch = F.center_crop(batch, [self.size, self.size])
            out[torch.tensor(indices, device=self.device)] = torch.addcmul(self.add, batch.float(), self.multiply)
        return out


def device_batches(samples: list[Sample], data_config: dict, batch_size: int, device: torch.device,
                   crop_border: int = 0, threads: int = 8) -> DeviceBatches | None:
    """Batches decoded on `device`, or None when this path cannot reproduce the transform
    (PNG files, non-square input, other crop modes): the caller then uses the PIL path."""
    if not DeviceTransform.supports(data_config):
        return None
    if not all(s.path.lower().endswith(JPEG_SUFFIXES) for s in samples):
        return None
    return DeviceBatches(samples, DeviceTransform(data_config, device), batch_size, device,
                         crop_border, threads)


class DeviceBatches:
    """(float images on device, labels, part ids) per batch, in sample order; `.parts`,
    `.skipped` as the PIL path's Batches."""

    def __init__(self, samples: list[Sample], transform: DeviceTransform, batch_size: int,
                 device: torch.device, crop_border: int, threads: int):
        self.samples, self.transform, self.batch_size = samples, transform, batch_size
        self.device, self.crop_border, self.threads = device, crop_border, threads
        self.parts = sorted({s.part for s in samples})
        self.skipped: list[Unreadable] = []

    def __len__(self) -> int:
        return math.ceil(len(self.samples) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        ready: queue.Queue = queue.Queue(maxsize=AHEAD)
        stop = threading.Event()
        producer = threading.Thread(target=self._produce, args=(ready, stop), daemon=True,
                                    name="ribray-device-decode")
        producer.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                images, labels, parts, event = item
                if event is not None:  # made on the side stream: wait for it, keep its memory
                    stream = torch.cuda.current_stream(self.device)
                    stream.wait_event(event)
                    for tensor in (images, labels, parts):
                        tensor.record_stream(stream)
                yield images, labels, parts
        finally:
            stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                try:
                    ready.get(timeout=0.05)
                except queue.Empty:
                    pass

    def _produce(self, ready: queue.Queue, stop: threading.Event) -> None:
        cuda = self.device.type == "cuda"
        stream = torch.cuda.Stream(self.device) if cuda else None
        part_id = {p: i for i, p in enumerate(self.parts)}
        read = read_bytes if cuda else self._decode_on_cpu
        try:
            with ThreadPoolExecutor(self.threads, thread_name_prefix="ribray-read") as pool:
                starts = range(0, len(self.samples), self.batch_size)
                pending = [pool.map(read, self._paths(s)) for s in starts[:2]]  # one batch read ahead
                for n, start in enumerate(starts):
                    loaded = list(pending.pop(0))
                    if n + 2 < len(starts):
                        pending.append(pool.map(read, self._paths(starts[n + 2])))
                    batch = self.samples[start:start + self.batch_size]
                    with torch.cuda.stream(stream) if cuda else contextlib.nullcontext():
                        item = self._prepare(batch, loaded, part_id)
                        event = torch.cuda.Event() if cuda else None
                        if event is not None:
                            event.record(stream)
                    if item is not None and not _put(ready, (*item, event), stop):
                        return
        except BaseException as error:  # handed to the consumer, which raises it
            _put(ready, error, stop)
            return
        _put(ready, None, stop)

    def _paths(self, start: int) -> list[str]:
        return [s.path for s in self.samples[start:start + self.batch_size]]

    def _decode_on_cpu(self, path: str):
        data = read_bytes(path)
        return data if isinstance(data, Unreadable) else decode_one(data, path, torch.device("cpu"))

    def _prepare(self, batch: list[Sample], loaded: list, part_id: dict[str, int]):
        """Decode (on CUDA), crop the border, transform; leave out what cannot be decoded."""
        images = decode_many(loaded, [s.path for s in batch], self.device) \
            if self.device.type == "cuda" else loaded
        keep = [i for i, image in enumerate(images) if not isinstance(image, Unreadable)]
        for image in images:
            if isinstance(image, Unreadable):
                log.warning("skipping unreadable image %s (%s)", image.path, image.reason)
                self.skipped.append(image)
        if not keep:
            return None
        b = self.crop_border
        tensors = [images[i][:, b:-b, b:-b] if b else images[i] for i in keep]
        labels = torch.tensor([batch[i].label for i in keep])
        parts = torch.tensor([part_id[batch[i].part] for i in keep])
        return (self.transform([t.to(self.device, non_blocking=True) for t in tensors]),
                labels.to(self.device, non_blocking=True), parts.to(self.device, non_blocking=True))


def read_bytes(path: str):
    """The file's bytes as a uint8 tensor, or Unreadable."""
    try:
        with open(path, "rb") as file:
            return torch.frombuffer(bytearray(file.read()), dtype=torch.uint8)
    except OSError as error:
        return Unreadable(path, f"{type(error).__name__}: {error}")


def decode_one(data: torch.Tensor, path: str, device: torch.device):
    """One JPEG as uint8 (3, H, W) on `device`: torchvision's decoder, then PIL for what it
    rejects (e.g. CMYK on some decoders), else Unreadable."""
    from torchvision.io import ImageReadMode, decode_jpeg

    try:
        return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)
    except RuntimeError:
        pass
    try:
        import numpy as np

        pixels = torch.from_numpy(np.asarray(load_image(path))).permute(2, 0, 1).contiguous()
        return pixels.to(device)
    except Exception as error:  # noqa: BLE001 - one file's problem, whatever it is
        return Unreadable(path, unreadable_reason(error))


def decode_many(loaded: list, paths: list[str], device: torch.device) -> list:
    """Decode a batch of JPEG byte tensors on `device` in one call; on failure, one by one."""
    from torchvision.io import ImageReadMode, decode_jpeg

    data = [x for x in loaded if not isinstance(x, Unreadable)]
    try:
        decoded = iter(decode_jpeg(data, mode=ImageReadMode.RGB, device=device)) if data else iter(())
        return [x if isinstance(x, Unreadable) else next(decoded) for x in loaded]
    except RuntimeError:
        return [x if isinstance(x, Unreadable) else decode_one(x, path, device)
                for x, path in zip(loaded, paths, strict=True)]


def _put(ready: queue.Queue, item, stop: threading.Event) -> bool:
    """Put unless the consumer has stopped; False when it has."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
