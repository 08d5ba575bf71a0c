"""Map 1000-way ImageNet logits onto a dataset's own classes (masking, grouped max)."""

from __future__ import annotations

import torch
from torch import nn


class LabelProjector(nn.Module):
    """logits (B, 1000) -> (B, C) for a set whose class c covers ImageNet classes groups[c].

    All 1000 classes in order: identity. One ImageNet class per set class: the 200-class
    masking of ImageNet-A/R (``logits[:, indices]``). Several: the max over the group
    (ObjectNet's 113 classes, as imagenet-testbed scores them).
    """

    def __init__(self, groups: list[tuple[int, ...]]):
        super().__init__()
        self.identity = [g for g in groups] == [(i,) for i in range(1000)]
        self.single = all(len(g) == 1 for g in groups)
        width = max(len(g) for g in groups)
        padded = [list(g) + [g[0]] * (width - len(g)) for g in groups]  # repeats don't change a max
        self.register_buffer("index", torch.tensor(padded, dtype=torch.long), persistent=False)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        if self.identity:
            return logits
        if self.single:
            return logits.index_select(1, self.index[:, 0])
        gathered = logits.index_select(1, self.index.flatten()).view(logits.shape[0], *self.index.shape)
        return gathered.amax(dim=2)
