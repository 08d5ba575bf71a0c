"""How big each measurement is: FULL for a GPU (DESIGN.md's H100 settings), QUICK for a CPU."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sizes:
    model: str  # timm architecture, random init
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
    model_kwargs: dict[str, Any] = field(default_factory=dict)


FULL = Sizes(model="vit_base_patch16_224", image_size=224, train_batch=64,
             train_warmup_steps=15, train_steps=100, eval_batch=512, forward_warmup_batches=5,
             forward_batches=30, small_jpegs=20_000, large_jpegs=10_000, loader_workers=16,
             models_per_batch=4, overhead_trials=10, makespan_unit_s=1.0)

# Small enough to run every code path on a 2-core CPU in a few minutes.
QUICK = Sizes(model="vit_tiny_patch16_224", image_size=64, train_batch=8, train_warmup_steps=2,
              train_steps=4, eval_batch=32, forward_warmup_batches=1, forward_batches=3,
              small_jpegs=96, large_jpegs=48, loader_workers=min(16, os.cpu_count() or 1),
              models_per_batch=4, overhead_trials=4, makespan_unit_s=0.35,
              model_kwargs={"img_size": 64})
