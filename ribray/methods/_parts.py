"""Which parameters are which part of a model: the classifier head and the feature extractor (a
timm ViT's patch embedding and blocks, or what a model entry declares: `ribray.parts`). Shared by
the methods that train only some parts (LP, LoRA, VPT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ribray.errors import RibrayError
from ribray.parts import PARTS_ATTRIBUTE, ModelParts, in_part

if TYPE_CHECKING:
    from torch import nn

# A timm ViT's patch embedding and transformer blocks. Everything else (cls/register tokens,
# position embedding, pre- and final norms, pooling, head) sits around them.
VIT_FEATURE_EXTRACTOR = ("patch_embed", "blocks")


def declared_parts(model: nn.Module) -> ModelParts | None:
    """The parts the model's entry declared, if any."""
    parts = getattr(model, PARTS_ATTRIBUTE, None)
    return parts if isinstance(parts, ModelParts) else None


def classifier_names(model: nn.Module) -> set[str]:
    """Parameter names of the model's classifier: the declared head, else timm's `get_classifier()`."""
    parts = declared_parts(model)
    if parts is not None:
        found = {name for name, _ in model.named_parameters() if in_part(name, parts.head)}
        if not found:
            raise RibrayError(f"{type(model).__name__}: its declared head {parts.head} holds no parameter")
        return found
    if not hasattr(model, "get_classifier"):
        raise RibrayError(f"{type(model).__name__} has no get_classifier() and its model entry declares no parts "
                          "(ModelParts): cannot tell its head apart")
    head_ids = {id(p) for p in model.get_classifier().parameters()}
    return {name for name, p in model.named_parameters() if id(p) in head_ids}


def feature_extractor(model: nn.Module) -> tuple[str, ...] | None:
    """The modules of the embedding and the blocks (a timm ViT's, or the declared ones); None when
    the model has no such split (a timm ResNet: only its classifier is told apart)."""
    parts = declared_parts(model)
    if parts is not None:
        return (*parts.embedding, *parts.blocks)
    return VIT_FEATURE_EXTRACTOR if is_timm_vit(model) else None


def outside_feature_extractor(model: nn.Module) -> set[str]:
    """Parameters outside the embedding and the blocks (the classifier alone without such a split)."""
    modules = feature_extractor(model)
    if modules is None:
        return classifier_names(model)
    return {name for name, _ in model.named_parameters() if not in_part(name, modules)}


def is_timm_vit(model: nn.Module) -> bool:
    """True for timm's VisionTransformer layout: a `patch_embed` followed by `blocks`."""
    return hasattr(model, "patch_embed") and hasattr(model, "blocks")


def set_trainable(model: nn.Module, trainable: set[str]) -> None:
    """requires_grad on exactly the named parameters."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name in trainable)
