"""Evaluate one or several models on the eval sets; each batch is decoded once for all."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import nn

from ribray.trials.context import SweepContext


@dataclass
class EvalResult:
    """Top-1 of one model on one eval set (percent), with per-part numbers (ImageNet-C)."""

    eval_set: str
    top1: float
    correct: int
    n_images: int
    seconds: float
    parts: list[dict] = field(default_factory=list)

    def row(self) -> dict:
        return {"eval_set": self.eval_set, "top1": self.top1, "correct": self.correct,
                "n_images": self.n_images, "eval_seconds": self.seconds, "parts": self.parts}


def evaluate(models: list[nn.Module], eval_sets: list[str], context: SweepContext,
             data_config: dict, device: torch.device, limit: int | None = None,
             seed: int = 0) -> list[list[EvalResult]]:
    """For each model, its results on every eval set (models share each decoded batch).
    `limit`: a fixed random subset of each set (default: the spec's eval.limit_per_set)."""
    was_training = [model.training for model in models]
    for model in models:
        model.eval()
    per_set = [evaluate_set(models, name, context, data_config, device, limit, seed)
               for name in eval_sets]
    for model, training in zip(models, was_training, strict=True):
        model.train(training)
    return [[results[i] for results in per_set] for i in range(len(models))]


def evaluate_set(models: list[nn.Module], name: str, context: SweepContext,
                 data_config: dict, device: torch.device, limit: int | None = None,
                 seed: int = 0) -> list[EvalResult]:
    from ribray.data import get_dataset
    from ribray.data.loading import iter_eval_batches
    from ribray.data.scoring import LabelProjector
    from ribray.trials.loop import autocast, resolve_precision

    entry = get_dataset(name)
    project = LabelProjector(entry.class_indices()).to(device)
    settings = context.eval
    dtype = resolve_precision("auto", device)
    started = time.perf_counter()
    batches = iter_eval_batches(entry, context.dataset_folder(name), data_config,
                                batch_size=settings.batch_size, device=device,
                                workers=settings.workers, decode=settings.decode,
                                limit=limit or settings.limit_per_set, seed=seed)
    parts = batches.parts
    correct = torch.zeros(len(models), len(parts), dtype=torch.long, device=device)
    total = torch.zeros(len(parts), dtype=torch.long, device=device)
    with torch.inference_mode(), autocast(device, dtype):
        for images, labels, part_ids in batches:
            labels, part_ids = labels.to(device), part_ids.to(device)
            total += torch.bincount(part_ids, minlength=len(parts))
            for i, model in enumerate(models):
                hits = (project(model(images)).argmax(dim=1) == labels).long()
                correct[i] += torch.bincount(part_ids, weights=hits, minlength=len(parts)).long()
    seconds = time.perf_counter() - started
    return [_result(entry, name, parts, correct[i].tolist(), total.tolist(), seconds)
            for i in range(len(models))]


def _result(entry, name: str, parts: list[str], correct: list[int], total: list[int],
            seconds: float) -> EvalResult:
    counts = {part: (c, n) for part, c, n in zip(parts, correct, total, strict=True) if n}
    top1, part_top1 = entry.accuracy(counts)
    rows = [{"part": p, "top1": part_top1[p], "correct": counts[p][0], "n_images": counts[p][1]}
            for p in sorted(part_top1)]
    return EvalResult(eval_set=name, top1=top1, correct=sum(correct), n_images=sum(total),
                      seconds=seconds, parts=rows)
