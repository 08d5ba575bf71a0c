"""Which parameters are which part of a model: the classifier head and a timm ViT's
feature extractor. Shared by the methods that train only some parts (LP, LoRA, VPT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

# A timm ViT's patch embedding and transformer blocks. Everything else (cls/register tokens,
# position embedding, pre- and final norms, pooling, head) sits around them.
VIT_FEATURE_EXTRACTOR = ("patch_embed.", "blocks.")


def classifier_names(model: nn.Module) -> set[str]:
    """Parameter names of the model's classifier (timm's `get_classifier()`)."""
    if not hasattr(model, "get_classifier"):
        from ribray.errors import RibrayError

        raise RibrayError(f"{type(model).__name__} has no get_classifier(): cannot tell its head apart")
    head_ids = {id(p) for p in model.get_classifier().parameters()}
    return {name for name, p in model.named_parameters() if id(p) in head_ids}


def is_timm_vit(model: nn.Module) -> bool:
    """True for timm's VisionTransformer layout: a `patch_embed` followed by `blocks`."""
    return hasattr(model, "patch_embed") and hasattr(model, "blocks")


def set_trainable(model: nn.Module, trainable: set[str]) -> None:
    """requires_grad on exactly the named parameters."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name in trainable)
