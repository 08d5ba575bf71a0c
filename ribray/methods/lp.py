"""LP: linear probing. Trains the head, plus (for ViTs) the final norm, the cls token and the
position embedding, as ImageNet-RIB's reference code does; everything else stays frozen."""

from __future__ import annotations

from torch import nn

from ribray.methods import register
from ribray.methods.base import Method

# Besides the classifier: what the reference code leaves trainable in a timm ViT.
EXTRA_TRAINABLE = ("norm.", "fc_norm.", "cls_token", "pos_embed")


def head_names(model: nn.Module) -> set[str]:
    """Parameter names of the model's classifier (timm's get_classifier())."""
    head = model.get_classifier()
    ids = {id(p) for p in head.parameters()}
    return {name for name, p in model.named_parameters() if id(p) in ids}


@register("lp")
class LinearProbe(Method):
    summary = "train the head (+ final norm, cls token, position embedding)"

    def select_trainable(self, model: nn.Module) -> None:
        head = head_names(model)
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name in head or name.startswith(EXTRA_TRAINABLE))
