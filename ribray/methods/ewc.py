"""EWC as ImageNet-RIB's code defines it: an L2 penalty pulling the weights towards the
pretrained ones (no Fisher information), weight 1."""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from ribray.methods import register
from ribray.methods.base import Method, MethodConfig, Step


class EwcConfig(MethodConfig):
    weight: float = Field(1.0, ge=0, description="multiplier of the squared L2 distance")


@register("ewc")
class ElasticWeightConsolidation(Method):
    summary = "L2 distance to the pretrained weights (weight 1, no Fisher)"
    Config = EwcConfig

    def setup(self, model: nn.Module) -> None:
        self.anchor = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}

    def extra_loss(self, step: Step) -> torch.Tensor:
        distance = sum(((p - self.anchor[name]) ** 2).sum()
                       for name, p in step.model.named_parameters() if name in self.anchor)
        return self.config.weight * distance
