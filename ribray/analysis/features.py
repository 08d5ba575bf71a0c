"""Pre-logit features of a classifier over a dataset (the feature space OTDD is measured in)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch import Tensor, nn

from ribray.errors import RibrayError


def extract_features(model: nn.Module, batches: Iterable,
                     device: torch.device | str) -> tuple[Tensor, Tensor]:
    """Features (N, D) float32 and labels (N,) int64, on the CPU, of every example in
    `batches` (an iterable of (images, labels, ...) tuples), in order.

    Features are the pre-logits: timm's `forward_head(forward_features(x), pre_logits=True)`
    (pooled, after the final norm and any pre-logits layer, before the classifier); for a
    model without those methods (torchvision ResNet) the input of its `fc` layer. Runs
    without gradients, in eval mode (restored afterwards), under bf16 autocast on CUDA."""
    pre_logits = _pre_logits_function(model)
    features, labels = [], []
    with eval_mode(model), torch.no_grad(), autocast_for(device):
        for batch in batches:
            images = batch[0].to(device, non_blocking=True)
            features.append(pre_logits(images).float().flatten(1).cpu())
            labels.append(torch.as_tensor(batch[1]).long().cpu())
    if not features:
        raise RibrayError("no batches: nothing to extract features from")
    return torch.cat(features), torch.cat(labels)


def _pre_logits_function(model: nn.Module):
    if hasattr(model, "forward_features") and hasattr(model, "forward_head"):
        return lambda images: model.forward_head(model.forward_features(images), pre_logits=True)
    classifier = getattr(model, "fc", None)
    if isinstance(classifier, nn.Module):
        return lambda images: _input_of(classifier, model, images)
    raise RibrayError(f"{type(model).__name__} has neither timm's forward_features/forward_head "
                      "nor an `fc` classifier: cannot find its pre-logit features")


def _input_of(layer: nn.Module, model: nn.Module, images: Tensor) -> Tensor:
    captured: list[Tensor] = []
    handle = layer.register_forward_pre_hook(lambda _module, inputs: captured.append(inputs[0]))
    try:
        model(images)
    finally:
        handle.remove()
    return captured[-1]


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put `model` in eval mode for the block and restore its previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def autocast_for(device: torch.device | str):
    """bf16 autocast on CUDA (the benchmark's precision); nothing elsewhere."""
    if torch.device(device).type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
