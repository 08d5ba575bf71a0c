"""Evaluate one or several models on the eval sets; each batch is decoded once for all."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from ribray.errors import PermanentError
from ribray.options import Evaluation
from ribray.trials.context import SweepContext, worker_count

if TYPE_CHECKING:
    from ribray.results.row import PartAccuracy, ResultRow


@dataclass
class EvalResult:
    """Top-1 of one model on one eval set (percent), with per-part numbers (ImageNet-C), and
    how its input was made: the decoder and the autocast precision."""

    eval_set: str
    top1: float
    correct: int
    n_images: int
    seconds: float
    parts: list[PartAccuracy] = field(default_factory=list)
    decode: str | None = None
    precision: str | None = None

    def row(self) -> ResultRow:
        return {"eval_set": self.eval_set, "top1": self.top1, "correct": self.correct,
                "n_images": self.n_images, "eval_seconds": self.seconds, "parts": self.parts,
                "decode": self.decode, "eval_precision": self.precision}


def evaluate(models: list[nn.Module], eval_sets: list[str], sweep: SweepContext, data_config: dict,
             device: torch.device, evaluation: Evaluation, seed: int = 0,
             balanced: bool = False) -> list[list[EvalResult]]:
    """For each model, its results on every eval set (models share each decoded batch), with
    the trial's decoder, precision and subset (`evaluation.limit_per_set`: a fixed random
    subset of each set, per seed; `balanced`: the same number of images from every class)."""
    was_training = [model.training for model in models]
    for model in models:
        model.eval()
    per_set = [evaluate_set(models, name, sweep, data_config, device, evaluation, seed, balanced)
               for name in eval_sets]
    for model, training in zip(models, was_training, strict=True):
        model.train(training)
    return [[results[i] for results in per_set] for i in range(len(models))]


def evaluate_set(models: list[nn.Module], name: str, sweep: SweepContext, data_config: dict,
                 device: torch.device, evaluation: Evaluation, seed: int = 0,
                 balanced: bool = False) -> list[EvalResult]:
    from ribray.data import get_dataset
    from ribray.data.tensors.loading import iter_eval_batches
    from ribray.data.tensors.scoring import LabelProjector
    from ribray.trials.loop import autocast, precision_name, resolve_precision

    entry = get_dataset(name).scored_as(evaluation.fidelity)
    project = LabelProjector(entry.class_indices()).to(device)
    dtype = resolve_precision(evaluation.precision, device)
    started = time.perf_counter()
    batches = iter_eval_batches(entry, sweep.dataset_folder(name), data_config,
                                batch_size=sweep.eval.batch_size, device=device,
                                workers=worker_count(sweep.eval.workers), decode=evaluation.decode,
                                limit=evaluation.limit_per_set, seed=seed, balanced=balanced)
    parts = batches.parts
    correct = torch.zeros(len(models), len(parts), dtype=torch.long, device=device)
    total = torch.zeros(len(parts), dtype=torch.long, device=device)
    with torch.inference_mode(), autocast(device, dtype):
        for images, labels, part_ids in batches:
            # index_add_, not bincount: CUDA's bincount reads the largest id back to the host,
            # a synchronization per batch that would stall the input pipeline
            total.index_add_(0, part_ids, torch.ones_like(part_ids))
            for i, model in enumerate(models):
                hits = (project(model(images)).argmax(dim=1) == labels).long()
                correct[i].index_add_(0, part_ids, hits)
    seconds = time.perf_counter() - started
    _refuse_mostly_unreadable(name, batches.skipped, sum(total.tolist()))
    how = {"decode": batches.decoder, "precision": precision_name(dtype)}
    return [_result(entry, name, parts, correct[i].tolist(), total.tolist(), seconds, how)
            for i in range(len(models))]


def _refuse_mostly_unreadable(name: str, skipped: list, scored: int) -> None:
    """One unreadable file is skipped and counted; a set of which more than half could not be
    read is not measured at all: a PermanentError with the count (a retry reads the same files)."""
    if skipped and len(skipped) > scored:
        raise PermanentError(f"{name}: {len(skipped):,} of {len(skipped) + scored:,} images could not be read "
                             f"(e.g. {skipped[0].path}: {skipped[0].reason}); `ribray data check --verify-images` "
                             "lists them")


def _result(entry, name: str, parts: list[str], correct: list[int], total: list[int],
            seconds: float, how: dict) -> EvalResult:
    counts = {part: (c, n) for part, c, n in zip(parts, correct, total, strict=True) if n}
    top1, part_top1 = entry.accuracy(counts)
    rows = [{"part": p, "top1": part_top1[p], "correct": counts[p][0], "n_images": counts[p][1]}
            for p in sorted(part_top1)]
    return EvalResult(eval_set=name, top1=top1, correct=sum(correct), n_images=sum(total),
                      seconds=seconds, parts=rows, **how)
