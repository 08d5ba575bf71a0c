"""What every measurement shares: sizes, targets with pass/fail, timing, the model."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is. FULL matches DESIGN.md's H100 measurements."""

    model: str  # timm architecture, random init
    model_kwargs: dict[str, Any]
    image_size: int
    train_batch: int
    train_warmup_steps: int
    train_steps: int
    eval_batch: int
    forward_warmup_batches: int
    forward_batches: int
    small_jpegs: int  # 224x224, ImageNet-C-like
    large_jpegs: int  # 500x375, ImageNet-size
    loader_workers: int  # the DataLoader baseline's worker processes
    models_per_batch: int  # k of the multi-model measurement
    overhead_trials: int
    makespan_unit_s: float  # seconds of one evaluation pass in the makespan simulation


FULL = Sizes(model="vit_base_patch16_224", model_kwargs={}, image_size=224, train_batch=64,
             train_warmup_steps=15, train_steps=100, eval_batch=512, forward_warmup_batches=5,
             forward_batches=30, small_jpegs=20_000, large_jpegs=10_000, loader_workers=16,
             models_per_batch=4, overhead_trials=10, makespan_unit_s=1.0)

# Small enough to run every code path on a 2-core CPU in a minute or two.
QUICK = Sizes(model="vit_tiny_patch16_224", model_kwargs={"img_size": 64}, image_size=64,
              train_batch=8, train_warmup_steps=2, train_steps=4, eval_batch=32,
              forward_warmup_batches=1, forward_batches=3, small_jpegs=96, large_jpegs=48,
              loader_workers=min(16, os.cpu_count() or 1), models_per_batch=4,
              overhead_trials=4, makespan_unit_s=0.35)


@dataclass
class Check:
    """One ratio against its target (DESIGN.md / issue 8)."""

    name: str
    value: float | None  # None: not measured (the reason is in `note`)
    target: float
    at_least: bool = True  # True: value >= target passes; False: value <= target passes
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.at_least else self.value <= self.target

    def to_dict(self) -> dict:
        return asdict(self) | {"op": ">=" if self.at_least else "<=", "passed": self.passed}


@dataclass
class Section:
    """What one measurement found: named numbers (images/s, seconds) and its checks."""

    name: str
    numbers: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"numbers": self.numbers, "checks": [c.to_dict() for c in self.checks]}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return numerator / denominator


def pick_device(name: str) -> torch.device:
    """`auto`: the GPU when there is one."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on the GPU (as ribray trains and evaluates there), fp32 on the CPU."""
    return torch.bfloat16 if device.type == "cuda" else None


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Wall time between two device synchronizations (queued GPU work included)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._start


def build_model(sizes: Sizes) -> tuple[nn.Module, dict]:
    """The benchmark's model (random init, no download) and its timm eval data config."""
    import timm

    model = timm.create_model(sizes.model, pretrained=False, **sizes.model_kwargs)
    data_config = dict(timm.data.resolve_model_data_config(model))
    data_config["input_size"] = (3, sizes.image_size, sizes.image_size)  # timm keeps 224 here
    return model, data_config


def free_gpu_memory() -> None:
    import gc

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

    return {"ribray": ribray.__version__, "torch": torch.__version__,
            "torchvision": of("torchvision"), "timm": of("timm"), "ray": of("ray"),
            "python": platform.python_version(), "cuda": torch.version.cuda,
            "cudnn": str(torch.backends.cudnn.version()) if torch.cuda.is_available() else None}
