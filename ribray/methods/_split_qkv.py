"""timm's fused qkv projection split into separate q, k, v layers (and put back), so that
LoRA can adapt q and v without touching k. Kept out of lora.py so that listing methods
needs no torch."""

from __future__ import annotations

import torch
from torch import nn


class SplitQkv(nn.Module):
    """Three Linear layers holding the rows of a fused qkv Linear; same output, concatenated."""

    def __init__(self, fused: nn.Linear):
        super().__init__()
        weights = fused.weight.detach().chunk(3, dim=0)
        biases = fused.bias.detach().chunk(3) if fused.bias is not None else (None, None, None)
        self.q, self.k, self.v = (_linear(w, b) for w, b in zip(weights, biases, strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.q(x), self.k(x), self.v(x)], dim=-1)

    def fused(self) -> nn.Linear:
        """The equivalent single Linear (timm's layout and state-dict keys)."""
        parts = (self.q, self.k, self.v)
        weight = torch.cat([p.weight.detach() for p in parts])
        bias = torch.cat([p.bias.detach() for p in parts]) if self.q.bias is not None else None
        return _linear(weight, bias)


def _linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None,
                      device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer


def fused_qkv_blocks(model: nn.Module) -> list[nn.Module]:
    """The attention modules of a timm ViT whose qkv is one Linear ([] if there are none)."""
    blocks = getattr(model, "blocks", [])
    return [b.attn for b in blocks if isinstance(getattr(getattr(b, "attn", None), "qkv", None), nn.Linear)]


def split_qkv(model: nn.Module) -> None:
    """Replace every block's fused attn.qkv by a SplitQkv, in place."""
    for attention in fused_qkv_blocks(model):
        attention.qkv = SplitQkv(attention.qkv)


def fuse_qkv(model: nn.Module) -> None:
    """Undo split_qkv, in place: the model has timm's modules and state-dict keys again."""
    for block in getattr(model, "blocks", []):
        attention = getattr(block, "attn", None)  # other architectures' blocks (declared lora_targets) have none
        if isinstance(getattr(attention, "qkv", None), SplitQkv):
            attention.qkv = attention.qkv.fused()
