"""The torch module of the CLIP zero-shot classifier (kept out of clip_zero_shot.py so that
listing models needs no torch)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ZeroShotClassifier(nn.Module):
    """A CLIP image tower with a linear head made of class-prompt text embeddings:
    `logits = logit_scale * normalize(image_embedding) @ normalize(text_embeddings).T`.
    The logit scale is folded into the head's weights, so the head is an ordinary Linear
    (`get_classifier()`) that fine-tuning methods can train like any other."""

    def __init__(self, visual: nn.Module, class_embeddings: torch.Tensor, logit_scale: float):
        super().__init__()
        self.visual = visual
        classes, dim = class_embeddings.shape
        self.head = nn.Linear(dim, classes, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(logit_scale * F.normalize(class_embeddings.float(), dim=-1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(F.normalize(self.visual(images), dim=-1))

    def get_classifier(self) -> nn.Module:
        return self.head
