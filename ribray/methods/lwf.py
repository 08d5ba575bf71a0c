"""LwF (Li & Hoiem 2017): distil the frozen pretrained model's predictions on the downstream
images, at temperature T=2, weight 1. The teacher's logits are projected onto the downstream
set's classes exactly like the student's (masking / ObjectNet max).

Loss term: weight * T^2 * KL(softmax(teacher/T) || softmax(student/T)), batch mean; the T^2
factor (Hinton et al. 2015) keeps the gradient scale independent of T.
"""

from __future__ import annotations

import copy

import torch
from pydantic import Field
from torch import nn
from torch.nn import functional as F

from ribray.methods import register
from ribray.methods.base import Method, MethodConfig, Step


class LwfConfig(MethodConfig):
    weight: float = Field(1.0, ge=0)
    temperature: float = Field(2.0, gt=0)


@register("lwf")
class LearningWithoutForgetting(Method):
    summary = "distil the pretrained model's logits (T=2, weight 1)"
    Config = LwfConfig

    def setup(self, model: nn.Module) -> None:
        self.teacher = copy.deepcopy(model).eval()
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)

    def extra_loss(self, step: Step) -> torch.Tensor:
        t = self.config.temperature
        with torch.no_grad():
            teacher = step.project(self.teacher(step.images)).float()
        student = F.log_softmax(step.logits.float() / t, dim=1)
        kl = F.kl_div(student, F.log_softmax(teacher / t, dim=1), log_target=True, reduction="batchmean")
        return self.config.weight * t * t * kl
