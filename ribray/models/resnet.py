"""The paper's ResNet-50: torchvision's default (IMAGENET1K_V2) weights, which timm serves as
`resnet50.tv2_in1k` (same weights, timm's module names). Preprocessing is torchvision's for
these weights: bilinear resize to 232 px, center crop 224 (timm's test size and crop)."""

from ribray.models import register
from ribray.models.paper import paper_model
from ribray.models.timm_family import timm_entry

_model = paper_model("resnet50_tv2")
register(timm_entry(_model.alias, _model.source, paper_column=_model.column,
                    summary="ResNet-50 with torchvision's IMAGENET1K_V2 weights"))
