"""LwF (Li & Hoiem 2017): distil the frozen pretrained model's predictions on the downstream
images, at temperature T=2, weight 1. The teacher's logits are projected onto the downstream
set's classes exactly like the student's (masking / ObjectNet max).

Loss term, as in the reference code (its avalanche-derived LearningWithoutForgetting):
`weight * KL(softmax(teacher / T) || softmax(student / T))`, summed over classes and averaged
over the batch (`kl_div(..., reduction="batchmean")`), WITHOUT Hinton et al.'s T^2 factor.
With T=2 the term is therefore 4x smaller than in the T^2-scaled convention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ribray.methods import register
from ribray.methods.base import Method, MethodInputs, MethodOptions, Step

if TYPE_CHECKING:
    import torch
    from torch import nn


class LwfOptions(MethodOptions):
    weight: float = Field(1.0, ge=0, description="multiplier of the distillation term")
    temperature: float = Field(2.0, gt=0, description="softmax temperature of teacher and student")


@register("lwf")
class LearningWithoutForgetting(Method):
    order = 70
    summary = "distil the pretrained model's logits (T=2, weight 1)"
    Options = LwfOptions

    def setup(self, model: nn.Module, inputs: MethodInputs) -> None:
        import copy

        self.teacher = copy.deepcopy(model).eval()
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)

    def extra_loss(self, step: Step) -> torch.Tensor:
        import torch
        from torch.nn import functional as F

        t = self.options.temperature
        with torch.no_grad():
            teacher = step.project(self.teacher(step.images)).float()
        student = F.log_softmax(step.logits.float() / t, dim=1)
        kl = F.kl_div(student, F.log_softmax(teacher / t, dim=1), log_target=True, reduction="batchmean")
        return self.options.weight * kl
