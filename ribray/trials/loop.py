"""The one training loop. Methods change what trains and what the loss adds, through hooks."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from ribray.errors import PermanentError, first_line
from ribray.methods.base import Method, Step
from ribray.options import TrainOptions

Projector = Callable[[torch.Tensor], torch.Tensor]
log = logging.getLogger("ribray.trials")


@dataclass
class EpochEnd:
    """What the loop reports after each epoch (to checkpoint and log)."""

    epoch: int  # epochs completed, 1-based
    loss: float
    images: int
    seconds: float


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: bf16 on CUDA by default, none (fp32) on CPU."""
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]


def precision_name(dtype: torch.dtype | None) -> str:
    """How a result records its autocast dtype: bf16, fp16 or fp32 (no autocast)."""
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "fp32")


def autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_optimizer(model: nn.Module, options: TrainOptions) -> torch.optim.Optimizer:
    """SGD with momentum over the parameters the method left trainable."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the method left no parameter trainable")
    return torch.optim.SGD(params, lr=options.lr, momentum=options.momentum,
                           weight_decay=options.weight_decay)


def make_schedule(optimizer: torch.optim.Optimizer, options: TrainOptions,
                  steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The paper's schedule, stepped every batch: step k's learning rate is lr * (k + 1) /
    warmup_steps during the warm-up, then cosine decay to 0 over the remaining steps. The
    warm-up is never shortened to the run: a run with fewer steps (e.g. 1 shot per class)
    stays in it, as the reference code's does."""
    total = max(1, options.epochs * steps_per_epoch)
    warmup = options.warmup_steps

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class Trainer:
    """Runs epochs of one method on one model; state_dict() is everything a resume needs."""

    def __init__(self, model: nn.Module, method: Method, options: TrainOptions,
                 device: torch.device, project: Projector, steps_per_epoch: int):
        self.model, self.method, self.options = model, method, options
        self.device, self.project = device, project
        self.dtype = resolve_precision(options.precision, device)
        self.optimizer = make_optimizer(model, options)
        self.schedule = make_schedule(self.optimizer, options, steps_per_epoch)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.dtype == torch.float16)
        compile_now = options.compile is True or (options.compile == "auto" and device.type == "cuda")
        self.forward = torch.compile(model) if compile_now else model
        self.compiled_ok = not compile_now  # set once the compiled forward has run
        self.epoch = 0

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(), "scaler": self.scaler.state_dict(),
                "epoch": self.epoch, "rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch = int(state["epoch"])
        torch.set_rng_state(state["rng"])

    def train_epoch(self, batches: Iterable) -> EpochEnd:
        """One pass over `batches` of (images, labels, ...); one host sync, at the end."""
        start = time.perf_counter()
        self.model.train()
        loss_sum = torch.zeros((), device=self.device)
        images = 0
        for batch in batches:
            x = batch[0].to(self.device, non_blocking=True)
            y = batch[1].to(self.device, non_blocking=True)
            loss_sum += self._step(x, y).detach() * x.shape[0]
            images += x.shape[0]
        self.epoch += 1
        mean = (loss_sum / max(1, images)).item()
        if not math.isfinite(mean):  # a diverged model would be evaluated at chance and stored
            raise PermanentError(f"the training loss is {mean} in epoch {self.epoch}: the model diverged; "
                                 "lower train.lr (or the method's lr) and run again")
        return EpochEnd(self.epoch, mean, images, time.perf_counter() - start)

    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        """The model's output; the first compiled call compiles, and where that fails (a model
        or method torch.compile cannot handle) training goes on eagerly, with a warning."""
        if self.compiled_ok:
            return self.forward(images)
        try:
            output = self.forward(images)
        except Exception as error:  # noqa: BLE001 - any compiler failure: fall back to eager
            log.warning("torch.compile failed (%s: %s); this trial trains eagerly",
                        type(error).__name__, first_line(error))
            self.forward = self.model
            output = self.model(images)
        self.compiled_ok = True
        return output

    def _step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.dtype):
            logits = self.project(self._logits(images))
            loss = nn.functional.cross_entropy(logits.float(), labels)
            step = Step(model=self.model, images=images, labels=labels, logits=logits,
                        project=self.project)
            extra = self.method.extra_loss(step)
            if extra is not None:
                loss = loss + extra.float()
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.schedule.step()
        return loss


