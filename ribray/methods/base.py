"""The hooks a fine-tuning method plugs into the one training loop."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ribray.options import Strict, TrainOverrides

if TYPE_CHECKING:
    import torch
    from torch import nn


class MethodOptions(Strict):
    """Options of one method; subclasses add theirs with the paper's defaults as defaults."""

    train: TrainOverrides | None = None


@dataclass
class Step:
    """What a method sees of one training step."""

    model: nn.Module
    images: torch.Tensor
    labels: torch.Tensor
    logits: torch.Tensor  # already projected onto the downstream set's classes
    project: Callable[[torch.Tensor], torch.Tensor]  # 1000-way logits -> the set's classes


@dataclass
class MethodInputs:
    """What `setup` may read besides the model: other datasets' images (e.g. a Fisher estimate on
    the pretraining task's data), through the trial's own input pipeline (timm's eval transform
    of the model, normalized on `device`). A method names the sets it reads in `datasets_read`,
    so that `ribray validate` checks them (present, and never one of the sweep's eval sets)."""

    device: torch.device
    data_config: dict
    # (dataset, images, seed) -> batches of (images, labels in that set's classes): a fixed,
    # class-balanced subset of `images` images (all of them when the set is smaller)
    batches: Callable[[str, int, int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    # dataset -> the function mapping 1000-way logits onto that set's classes
    projector: Callable[[str], Callable[[torch.Tensor], torch.Tensor]]


class Method:
    """A fine-tuning method: one subclass per file in ribray/methods (or in a plugin), registered
    by name with `@register("name")` (`ribray.api.register_method`).

    The loop calls, in order: `prepare` (may wrap the model), `select_trainable`
    (sets requires_grad), `setup` (keeps what the extra loss needs, e.g. the pretrained
    weights), then per step `extra_loss`; at the end `export` gives the weights that
    dependent trials (WiSE-FT, soups, LP-FT) read. `check_model` runs at `ribray validate`
    on a random-init copy of every model of the sweep, before any GPU time.
    """

    name: ClassVar[str]
    Options: ClassVar[type[MethodOptions]] = MethodOptions
    summary: ClassVar[str] = ""
    # Its row in a report without a spec (a spec's report follows the spec's order): ascending
    # (the paper's FT, LP, LP-FT, VPT, LoRA, EWC, LwF: 10, 20, ... 70); methods without one after, by name.
    order: ClassVar[int | None] = None
    # export() returns a state dict of the unmodified pretrained architecture, so weight
    # averaging with the pretrained model (WiSE-FT, soups) is defined for this method.
    interpolatable: ClassVar[bool] = True
    # Name of a method whose finished weights this one starts from (LP-FT starts from LP).
    starts_from: ClassVar[str | None] = None

    def __init__(self, options: MethodOptions):
        self.options = options

    def check_model(self, model: nn.Module) -> None:
        """Raise RibrayError when this method cannot train `model` (validate calls it on a
        random-init copy, before any GPU time); default: every model works."""

    def prepare(self, model: nn.Module) -> nn.Module:
        """Return the module to train (wrapped or extended); default: the model itself."""
        return model

    def select_trainable(self, model: nn.Module) -> None:
        """Set requires_grad on exactly the parameters this method trains; default: all."""
        for parameter in model.parameters():
            parameter.requires_grad_(True)

    def datasets_read(self) -> list[str]:
        """Datasets `setup` reads through `MethodInputs.batches` besides the downstream set."""
        return []

    def setup(self, model: nn.Module, inputs: MethodInputs) -> None:
        """Called once before training with the prepared model at its starting weights."""

    def extra_loss(self, step: Step) -> torch.Tensor | None:
        """A term added to the cross-entropy loss, or None."""
        return None

    def export(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """Final weights, keyed like the pretrained model's state dict when interpolatable."""
        return {k: v.detach() for k, v in model.state_dict().items()}

    def load_export(self, model: nn.Module, weights: dict[str, torch.Tensor]) -> nn.Module:
        """Inverse of export: a model (as prepared) that evaluates the saved weights."""
        model.load_state_dict(weights)
        return model
