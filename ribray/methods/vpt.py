"""VPT as ImageNet-RIB evaluates it: visual prompting with a padding prompt (Bahng et al.
2022) — a learnable frame `prompt_size` (30) pixels wide added to the border of the
normalized input image. Only the prompt trains; backbone and head are frozen (and kept in
eval mode). The frame is sized for the model's input resolution (its data config).

Not interpolatable: the prompt is an input transformation the pretrained model does not
have, so averaging VPT's weights with other models' (WiSE-FT, soups) is not defined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ribray.errors import RibrayError
from ribray.methods import register
from ribray.methods._parts import set_trainable
from ribray.methods.base import Method, MethodOptions

if TYPE_CHECKING:
    from torch import nn


class VptOptions(MethodOptions):
    prompt_size: int = Field(30, ge=1, description="width in pixels of the learnable border")


@register("vpt")
class VisualPromptTuning(Method):
    order = 40
    summary = "learnable 30-pixel padding prompt on the input; model frozen"
    Options = VptOptions
    interpolatable = False
    not_interpolatable_reason = ("VPT trains an input prompt, not the model's weights; "
                                 "averaging it with the pretrained weights is not defined")

    def check_model(self, model: nn.Module) -> None:
        height, width = _input_size(model)
        size = self.options.prompt_size
        if 2 * size >= min(height, width):
            raise RibrayError(f"vpt: prompt_size {size} leaves no interior in the model's "
                              f"{height}x{width} input; use prompt_size < {min(height, width) // 2}")

    def prepare(self, model: nn.Module) -> nn.Module:
        from ribray.methods._padding_prompt import PaddingPrompt, PromptedModel

        self.check_model(model)
        prompt = PaddingPrompt(_input_size(model), self.options.prompt_size)
        return PromptedModel(model, prompt.to(next(model.parameters()).device))

    def select_trainable(self, model: nn.Module) -> None:
        set_trainable(model, {name for name, _ in model.named_parameters() if name.startswith("prompt.")})


def _input_size(model: nn.Module) -> tuple[int, int]:
    """The size the model is fed in training and evaluation: timm's test size (what
    `build_model` resolves), e.g. 224 px for torchvision's ResNet-50 V2 weights (trained at 176)."""
    from timm.data import resolve_model_data_config

    height, width = resolve_model_data_config(model, use_test_size=True)["input_size"][-2:]
    return height, width
