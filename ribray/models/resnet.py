"""The paper's ResNet-50: torchvision's default (IMAGENET1K_V2) weights, which timm serves as
`resnet50.tv2_in1k` (same weights, timm's module names). Preprocessing is torchvision's for
these weights: bilinear resize to 232 px, center crop 224 (timm's test size and crop)."""

from ribray.models import register
from ribray.models.timm_family import timm_entry

register(timm_entry("resnet50_tv2", "resnet50.tv2_in1k", paper_column="ResNet-50",
                    summary="ResNet-50 with torchvision's IMAGENET1K_V2 weights"))
