"""A fine-tuning method of one's own, outside ribray: L1-SP, the L1 distance of the trained weights
to the pretrained ones (a sparser cousin of the paper's EWC, which is L2-SP). One file: its
options with their defaults, and the hooks it changes (`ribray.api.Method` documents their order)."""

from pydantic import Field

from ribray.api import Method, MethodOptions, register_method


class L1Options(MethodOptions):
    weight: float = Field(0.01, ge=0, description="multiplier of the L1 distance")


@register_method("l1_sp")
class L1ToPretrained(Method):
    summary = "L1 distance to the pretrained weights (weight 0.01)"
    Options = L1Options

    def setup(self, model, inputs):
        # the anchor: the starting weights of every parameter that trains
        self.anchor = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}

    def extra_loss(self, step):
        import torch

        distances = [(p - self.anchor[name]).abs().sum()
                     for name, p in step.model.named_parameters() if name in self.anchor]
        return self.options.weight * torch.stack(distances).sum()
