"""The torch modules of VPT (kept out of vpt.py so that listing methods needs no torch)."""

from __future__ import annotations

import torch
from torch import nn


class PaddingPrompt(nn.Module):
    """A learnable frame `width` pixels wide, added to the image's border pixels; the
    interior is left exactly as it is. Initialised N(0, 1), as the reference code does."""

    def __init__(self, image_size: tuple[int, int], width: int):
        super().__init__()
        height, full_width = image_size
        inner_height = height - 2 * width
        self.width, self.inner = width, (inner_height, full_width - 2 * width)
        self.top = nn.Parameter(torch.randn(1, 3, width, full_width))
        self.bottom = nn.Parameter(torch.randn(1, 3, width, full_width))
        self.left = nn.Parameter(torch.randn(1, 3, inner_height, width))
        self.right = nn.Parameter(torch.randn(1, 3, inner_height, width))

    def frame(self) -> torch.Tensor:
        """The (1, 3, H, W) additive prompt: learnable on the border, zero inside."""
        interior = self.left.new_zeros(1, 3, *self.inner)
        middle = torch.cat([self.left, interior, self.right], dim=3)
        return torch.cat([self.top, middle, self.bottom], dim=2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images + self.frame().to(images.dtype)


class PromptedModel(nn.Module):
    """The frozen model behind a padding prompt. The backbone stays in eval mode while the
    prompt trains (BatchNorm statistics and dropout unchanged), as in the reference code."""

    def __init__(self, model: nn.Module, prompt: PaddingPrompt):
        super().__init__()
        self.prompt, self.model = prompt, model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(self.prompt(images))

    def train(self, mode: bool = True) -> PromptedModel:
        super().train(mode)
        self.model.eval()
        return self
