"""A model that is not timm's: a small convolutional network with a 1000-way ImageNet head, its
preprocessing (`data_config`) and its parts (`ModelParts`: which modules are the head, the input
stem and the blocks, and which Linear layers LoRA adapts), so that LP trains the head and the norm,
LoRA adapts each block's pointwise layer, and VPT sizes its prompt for the 32-pixel input.

Its weights are random (a fixed seed): a real plugin loads its pretrained weights in `build`, or a
spec gives them as `checkpoint:` (a state dict of this architecture, read with weights_only=True).
"""

from __future__ import annotations

from ribray.api import ModelEntry, ModelParts, register_model


def build(pretrained: bool):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, width: int):
            super().__init__()
            self.conv = nn.Conv2d(width, width, 3, padding=1, groups=width)
            self.mlp = nn.Linear(width, width)  # pointwise, over channels

        def forward(self, x):
            y = self.mlp(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            return x + nn.functional.gelu(y)

    class ConvNet(nn.Module):
        def __init__(self, width: int = 32, classes: int = 1000):
            super().__init__()
            self.stem = nn.Conv2d(3, width, 3, stride=2, padding=1)
            self.blocks = nn.Sequential(Block(width), Block(width))
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, classes)

        def forward(self, images):
            features = self.blocks(self.stem(images)).mean(dim=(2, 3))
            return self.head(self.norm(features))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return ConvNet()


register_model(ModelEntry(
    name="example_convnet", family="example", build=build,
    summary="a 2-block ConvNet at 32 px that is not a timm model (random init)", weights="random init",
    data_config={"input_size": (3, 32, 32), "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5),
                 "crop_pct": 1.0, "interpolation": "bilinear"},
    parts=ModelParts(head=("head",), embedding=("stem",), blocks=("blocks",), lora_targets=r"blocks\.\d+\.mlp")))
