"""EWC as Kirkpatrick et al. (2017, "Overcoming catastrophic forgetting in neural networks")
define it: a quadratic penalty on moving each weight away from its pretrained value, weighted by
that weight's diagonal Fisher information on the pretraining task,

    L = L_downstream + (weight / 2) * sum_i F_i * (theta_i - theta*_i)^2,
    F_i = 1/N * sum_n (d/d theta_i log p(y_n | x_n; theta*))^2,

with theta* the starting (pretrained) weights. F is the empirical Fisher (the true labels y_n, as
most implementations compute it), estimated at theta* on `fisher_images` images of ImageNet-1K
train (the pretraining task; a fixed class-balanced subset, which `ribray validate` refuses to be
an eval or downstream set), from each image's own gradient (the Fisher is a mean of squared
per-example gradients; the square of a batch's mean gradient is not it).

ImageNet-RIB's `ewc` has no Fisher (F_i = 1: L2-SP); this is the method the name usually means.
The paper gives no weight for it on ImageNet-RIB: sweep it (`weight: {grid: [1, 100, 10000]}`).
"""

from __future__ import annotations

from pydantic import Field

from ribray.api import Method, MethodOptions, register_method


class FisherEwcOptions(MethodOptions):
    weight: float = Field(1.0, ge=0, description="lambda, the penalty's multiplier")
    fisher_set: str = Field("imagenet_train", description="the pretraining task's data (never an eval set)")
    fisher_images: int = Field(1000, ge=1, description="images the Fisher is estimated on")


@register_method("fisher_ewc")
class FisherEwc(Method):
    summary = "Kirkpatrick EWC: L2 to the pretrained weights weighted by a diagonal Fisher"
    Options = FisherEwcOptions

    def datasets_read(self) -> list[str]:
        return [self.options.fisher_set]

    def setup(self, model, inputs) -> None:
        self.anchor = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
        batches = inputs.batches(self.options.fisher_set, self.options.fisher_images, 0)
        self.fisher = diagonal_fisher(model, batches, inputs.projector(self.options.fisher_set), set(self.anchor))

    def extra_loss(self, step):
        import torch

        terms = [(self.fisher[name] * (p - self.anchor[name]) ** 2).sum()
                 for name, p in step.model.named_parameters() if name in self.anchor]
        return 0.5 * self.options.weight * torch.stack(terms).sum()


def diagonal_fisher(model, batches, project, names: set[str]) -> dict:
    """name -> the mean over images of the squared gradient of log p(y | x) (the model in eval
    mode, one image at a time), for the parameters `names`."""
    import torch
    from torch.nn import functional as F

    params = {name: p for name, p in model.named_parameters() if name in names}
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    was_training, count = model.training, 0
    model.eval()
    for images, labels in batches:
        for image, label in zip(images, labels, strict=True):
            loss = F.cross_entropy(project(model(image[None])).float(), label[None])  # -log p(y | x)
            grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
            for name, grad in zip(params, grads, strict=True):
                if grad is not None:
                    fisher[name] += grad.detach() ** 2
            count += 1
    model.train(was_training)
    return {name: value / max(1, count) for name, value in fisher.items()}
