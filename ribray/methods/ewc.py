"""EWC as ImageNet-RIB's code defines it: the squared L2 distance of the trained weights to
the pretrained ones, summed over parameters, times `weight` (1). No Fisher information, so
it is L2-SP rather than Kirkpatrick et al.'s EWC; the name follows the paper."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ribray.methods import register
from ribray.methods.base import Method, MethodInputs, MethodOptions, Step

if TYPE_CHECKING:
    import torch
    from torch import nn


class EwcOptions(MethodOptions):
    weight: float = Field(1.0, ge=0, description="multiplier of the squared L2 distance")


@register("ewc")
class ElasticWeightConsolidation(Method):
    order = 60
    summary = "L2-SP, the paper's EWC: squared L2 distance to the pretrained weights (weight 1, no Fisher)"
    Options = EwcOptions

    def setup(self, model: nn.Module, inputs: MethodInputs) -> None:
        # The anchor is taken at the starting weights, before any resume loads later ones.
        self.anchor = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}

    def extra_loss(self, step: Step) -> torch.Tensor:
        import torch

        squared = [((p - self.anchor[name]) ** 2).sum()
                   for name, p in step.model.named_parameters() if name in self.anchor]
        return self.options.weight * torch.stack(squared).sum()
