"""Linear CKA between two models' per-layer representations, in minibatches.

Centered kernel alignment (Kornblith et al. 2019) with linear kernels K = X X^T, L = Y Y^T
on activations flattened per example. Over a whole set,

    CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) * HSIC(L, L)).

Keeping all activations of a set is too much memory for a ViT-B, so, as in Nguyen et al.
2021 ("Do wide and deep networks learn the same things?"), HSIC is estimated per minibatch
with the unbiased estimator of Song et al. 2012 and averaged over the k minibatches:

    CKA_minibatch = mean_i HSIC_1(K_i, L_i) / sqrt(mean_i HSIC_1(K_i, K_i) * mean_i HSIC_1(L_i, L_i))

    HSIC_1(K, L) = [tr(K~ L~) + (1^T K~ 1)(1^T L~ 1) / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n(n-3))

where K~, L~ are K, L with their diagonals set to zero and n (>= 4) is the minibatch size.
Unlike the biased estimator, this average does not depend on the batch size in expectation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from ribray.analysis.features import autocast_for, eval_mode
from ribray.errors import RibrayError, UnknownNameError

_BLOCK_CONTAINERS = ("blocks", "resblocks")  # timm ViTs; open_clip transformers
_RESNET_STAGE = re.compile(r"layer\d+")  # torchvision and timm ResNets
MIN_BATCH = 4  # the unbiased estimator divides by n - 3


class MinibatchCKA:
    """Accumulates unbiased HSIC estimates for `num_layers` layer pairs over minibatches."""

    def __init__(self, num_layers: int):
        if num_layers < 1:
            raise RibrayError(f"num_layers must be at least 1, got {num_layers}")
        self.num_layers = num_layers
        # Per layer: sum of HSIC_1(K, L), HSIC_1(K, K), HSIC_1(L, L) over minibatches.
        self._hsic_sums = torch.zeros(num_layers, 3, dtype=torch.float64)
        self.num_batches = 0

    def update(self, feats_a: Sequence[Tensor], feats_b: Sequence[Tensor]) -> None:
        """Add one minibatch: per layer, activations (B, ...) of model a and of model b for
        the same B >= 4 examples in the same order."""
        grams_a = [gram_matrix(f) for f in self._checked(feats_a, "feats_a")]
        grams_b = [gram_matrix(f) for f in self._checked(feats_b, "feats_b")]
        self.update_grams(grams_a, grams_b)

    def update_grams(self, grams_a: Sequence[Tensor], grams_b: Sequence[Tensor]) -> None:
        """Add one minibatch given its linear-kernel Gram matrices (B, B) per layer."""
        if len(grams_a) != self.num_layers or len(grams_b) != self.num_layers:
            raise RibrayError(f"expected {self.num_layers} layers, got {len(grams_a)} and {len(grams_b)}")
        for layer, (k, l) in enumerate(zip(grams_a, grams_b, strict=True)):
            if k.shape != l.shape or k.shape[0] < MIN_BATCH:
                raise RibrayError(f"layer {layer}: Gram matrices {tuple(k.shape)} and {tuple(l.shape)} "
                                  f"must be the same square size with at least {MIN_BATCH} examples")
            estimates = torch.stack([unbiased_hsic(k, l), unbiased_hsic(k, k), unbiased_hsic(l, l)])
            self._hsic_sums[layer] += estimates.cpu()
        self.num_batches += 1

    def compute(self) -> Tensor:
        """CKA per layer, a float64 tensor (num_layers,); NaN for a layer whose activations
        are constant (zero self-HSIC)."""
        if self.num_batches == 0:
            raise RibrayError("MinibatchCKA.compute() before any update()")
        cross, self_a, self_b = self._hsic_sums.unbind(dim=1)
        return cross / torch.sqrt(self_a * self_b)

    def _checked(self, feats: Sequence[Tensor], name: str) -> Sequence[Tensor]:
        if len(feats) != self.num_layers:
            raise RibrayError(f"{name} has {len(feats)} layers, expected {self.num_layers}")
        return feats


def gram_matrix(activations: Tensor) -> Tensor:
    """The linear kernel X X^T (float64) of activations (B, ...) flattened per example."""
    flat = activations.reshape(activations.shape[0], -1).to(torch.float64)
    return flat @ flat.T


def unbiased_hsic(k: Tensor, l: Tensor) -> Tensor:
    """HSIC_1(K, L) of Song et al. 2012 (see the module docstring) for (n, n) kernels, n >= 4."""
    n = k.shape[0]
    k, l = k.clone().fill_diagonal_(0), l.clone().fill_diagonal_(0)
    trace_kl = (k * l).sum()
    sums = k.sum() * l.sum() / ((n - 1) * (n - 2))
    row_sums = 2.0 / (n - 2) * (k.sum(dim=0) @ l.sum(dim=0))
    return (trace_kl + sums - row_sums) / (n * (n - 3))


def linear_cka(x: Tensor, y: Tensor) -> float:
    """Full-batch linear CKA (biased estimator) of activations (N, ...) and (N, ...):
    ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) with Xc, Yc centered over examples."""
    xc = x.reshape(x.shape[0], -1).to(torch.float64)
    yc = y.reshape(y.shape[0], -1).to(torch.float64)
    xc, yc = xc - xc.mean(dim=0), yc - yc.mean(dim=0)
    cross = torch.linalg.matrix_norm(yc.T @ xc) ** 2
    return float(cross / (torch.linalg.matrix_norm(xc.T @ xc) * torch.linalg.matrix_norm(yc.T @ yc)))


def layer_names(model: nn.Module) -> list[str]:
    """Qualified names of the model's blocks, input to output: every child of a `blocks` /
    `resblocks` container (timm ViT: 'blocks.0', ...; open_clip: '...resblocks.0', ...), or
    else the ResNet stages 'layer1'..'layer4' (under a wrapper: 'model.layer1', ...)."""
    names = _transformer_blocks(model)
    if not names:
        names = _resnet_stages(model)
    if not names:
        raise RibrayError(f"{type(model).__name__} has neither transformer blocks (`blocks`, "
                          "`resblocks`) nor ResNet stages (`layer1`..): cannot list its layers")
    return names


def block_outputs(model: nn.Module, images: Tensor, layers: Sequence[str] | None = None) -> list[Tensor]:
    """Run `model` on `images` (without gradients) and return the outputs of `layers`
    (default: every name of `layer_names(model)`), in that order, captured by forward hooks.
    Tuple outputs keep their first element; sequence-first transformer outputs (L, B, D)
    are transposed to (B, L, D)."""
    names = resolve_layers(model, layers)
    modules = dict(model.named_modules())
    sequence_first = {name: _is_sequence_first(modules, name) for name in names}
    captured: dict[str, Tensor] = {}

    def capture(name: str):
        def hook(_module, _inputs, output):
            output = output[0] if isinstance(output, (tuple, list)) else output
            captured[name] = output.transpose(0, 1) if sequence_first[name] else output
        return hook

    handles = [modules[name].register_forward_hook(capture(name)) for name in names]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    missing = [name for name in names if name not in captured]
    if missing:
        raise RibrayError(f"layers {missing} did not run in the model's forward pass")
    return [captured[name] for name in names]


BLOCKS = "blocks"  # in a layer list: every block output (`layer_names`)


def resolve_layers(model: nn.Module, layers: Sequence[str] | str | None) -> list[str]:
    """The module names to compare: any named module of the model (e.g. 'blocks.5.mlp.fc2'),
    with "blocks" standing for every block output (`layer_names`; also when `layers` is None).
    An unknown name raises UnknownNameError with the closest module name."""
    if layers is None or layers == BLOCKS:
        return layer_names(model)
    if isinstance(layers, str):
        layers = [layers]
    modules = [name for name, _ in model.named_modules() if name]
    resolved: list[str] = []
    for name in layers:
        if name == BLOCKS:
            resolved += layer_names(model)
        elif name in modules:
            resolved.append(name)
        else:
            blocks = ", ".join(layer_names(model)[:3]) if _has_blocks(model) else ""
            raise UnknownNameError(f"layer of {type(model).__name__}", name, modules, hint=(
                f"any module name of the model, e.g. {blocks}, ...; or {BLOCKS!r} for every block output"
                if blocks else f"any module name of the model; or {BLOCKS!r} for every block output"))
    return list(dict.fromkeys(resolved))


def _has_blocks(model: nn.Module) -> bool:
    try:
        return bool(layer_names(model))
    except RibrayError:
        return False


def layer_cka(model_a: nn.Module, model_b: nn.Module, batches: Iterable, device: torch.device | str,
              layers: Sequence[str] | None = None) -> dict[str, float]:
    """Minibatch linear CKA per layer between two models of one architecture (e.g. the
    pretrained and a fine-tuned model) over `batches` of (images, ...). Both run in eval
    mode (restored afterwards), under bf16 autocast on CUDA. Batches smaller than 4
    examples (a short last batch) are skipped: the unbiased estimator needs n >= 4."""
    names = resolve_layers(model_a, layers)
    resolve_layers(model_b, names)
    cka = MinibatchCKA(len(names))
    with eval_mode(model_a), eval_mode(model_b), autocast_for(device):
        for batch in batches:
            images = batch[0].to(device, non_blocking=True)
            if images.shape[0] < MIN_BATCH:
                continue
            cka.update(block_outputs(model_a, images, names), block_outputs(model_b, images, names))
    if cka.num_batches == 0:
        raise RibrayError(f"no batch of at least {MIN_BATCH} images to compute CKA on")
    return dict(zip(names, cka.compute().tolist(), strict=True))


def _transformer_blocks(model: nn.Module) -> list[str]:
    names: list[str] = []
    for name, module in model.named_modules():
        is_container = isinstance(module, (nn.Sequential, nn.ModuleList))
        if not is_container or name.rsplit(".", 1)[-1] not in _BLOCK_CONTAINERS:
            continue
        if any(name.startswith(found + ".") for found in names):
            continue  # a container inside a block is part of that block
        names.extend(f"{name}.{child}" for child, _ in module.named_children())
    return names


def _resnet_stages(model: nn.Module) -> list[str]:
    stages = [name for name, _ in model.named_modules()
              if _RESNET_STAGE.fullmatch(name.rsplit(".", 1)[-1])]
    if not stages:
        return []
    parent = stages[0].rpartition(".")[0]  # the outermost stages, not ones nested inside
    return [name for name in stages if name.rpartition(".")[0] == parent]


def _is_sequence_first(modules: dict[str, nn.Module], name: str) -> bool:
    """Whether the module runs on (L, B, D): inside an open_clip Transformer(batch_first=False)
    (its resblocks, or any module within them)."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        batch_first = getattr(modules.get(".".join(parts[:end])), "batch_first", None)
        if batch_first is not None:
            return batch_first is False
    return False
