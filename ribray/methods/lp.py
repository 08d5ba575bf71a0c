"""LP: linear probing, as ImageNet-RIB's reference code does it.

For a timm ViT the patch embedding and the transformer blocks are frozen and everything
around them trains: the head, the final norm (and `fc_norm`), the cls token and the position
embedding (and, for CLIP ViTs, the pre-norm `norm_pre`). A model whose entry declares its parts
(`ribray.parts.ModelParts`) is treated alike: its embedding and blocks frozen, the rest trained.
For any other model (a ResNet, the open_clip zero-shot classifier) only the classifier
(`get_classifier()`) trains.

Like the reference code, the model runs in train mode, so a ResNet's BatchNorm statistics
still follow the downstream set while its weights stay frozen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ribray.methods import register
from ribray.methods._parts import classifier_names, outside_feature_extractor, set_trainable
from ribray.methods.base import Method

if TYPE_CHECKING:
    from torch import nn


def linear_probe_names(model: nn.Module) -> set[str]:
    """The parameters LP trains (see the module docstring)."""
    return classifier_names(model) | outside_feature_extractor(model)


@register("lp")
class LinearProbe(Method):
    order = 20
    summary = "train the head (+ final norm, cls token, position embedding for ViTs)"

    def select_trainable(self, model: nn.Module) -> None:
        set_trainable(model, linear_probe_names(model))
