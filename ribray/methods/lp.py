"""LP: linear probing, as ImageNet-RIB's reference code does it.

For a timm ViT the patch embedding and the transformer blocks are frozen and everything
around them trains: the head, the final norm (and `fc_norm`), the cls token and the position
embedding (and, for CLIP ViTs, the pre-norm `norm_pre`). For any other model (a ResNet, the
open_clip zero-shot classifier) only the classifier (`get_classifier()`) trains.

Like the reference code, the model runs in train mode, so a ResNet's BatchNorm statistics
still follow the downstream set while its weights stay frozen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ribray.methods import register
from ribray.methods._parts import (
    VIT_FEATURE_EXTRACTOR,
    classifier_names,
    is_timm_vit,
    set_trainable,
)
from ribray.methods.base import Method

if TYPE_CHECKING:
    from torch import nn


def linear_probe_names(model: nn.Module) -> set[str]:
    """The parameters LP trains (see the module docstring)."""
    trainable = classifier_names(model)
    if is_timm_vit(model):
        trainable |= {name for name, _ in model.named_parameters()
                      if not name.startswith(VIT_FEATURE_EXTRACTOR)}
    return trainable


@register("lp")
class LinearProbe(Method):
    summary = "train the head (+ final norm, cls token, position embedding for ViTs)"

    def select_trainable(self, model: nn.Module) -> None:
        set_trainable(model, linear_probe_names(model))
