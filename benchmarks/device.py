"""Device helpers shared by the GPU measurements: timing, autocast, the model, versions."""

from __future__ import annotations

import gc
import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version

import torch
from torch import nn

from benchmarks.sizes import Sizes


def pick_device(name: str) -> torch.device:
    """`auto`: the GPU when there is one."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.machine()}, {os.cpu_count()} cores)"


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on the GPU (as ribray trains and evaluates there), fp32 on the CPU."""
    return torch.bfloat16 if device.type == "cuda" else None


def autocast(device: torch.device):
    dtype = autocast_dtype(device)
    return torch.autocast(device.type, dtype=dtype, enabled=dtype is not None)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Wall time between two device synchronizations (queued GPU work included)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0

    def __enter__(self):
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._start


def build_model(sizes: Sizes, seed: int = 0) -> tuple[nn.Module, dict]:
    """The benchmark's model (random init, nothing downloaded) and its timm eval data config."""
    import timm

    torch.manual_seed(seed)
    model = timm.create_model(sizes.model, pretrained=False, **sizes.model_kwargs)
    data_config = dict(timm.data.resolve_model_data_config(model))
    data_config["input_size"] = (3, sizes.image_size, sizes.image_size)  # timm keeps 224 here
    return model, data_config


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def versions() -> dict[str, str | None]:
    """Package versions and the CUDA stack the numbers were measured with."""
    import ribray

    def of(package: str) -> str | None:
        try:
            return version(package)
        except PackageNotFoundError:
            return None

    cuda = torch.cuda.is_available()
    return {"ribray": ribray.__version__, "torch": torch.__version__,
            "torchvision": of("torchvision"), "timm": of("timm"), "ray": of("ray"),
            "python": platform.python_version(), "cuda": torch.version.cuda,
            "cudnn": str(torch.backends.cudnn.version()) if cuda else None,
            "gpu": torch.cuda.get_device_name() if cuda else None}
