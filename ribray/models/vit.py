"""The paper's ViT-B/16 models (ImageNet-RIB's pretrained-dataset axis), as timm names.
Every one is already fine-tuned on ImageNet-1K, so each has a 1000-way head.

The mRI table's "IN-1K" column is most likely the IN-1K + SAM model: the paper's other
tables list IN-1K + SAM and no plain IN-1K ViT-B/16. Both IN-1K models are registered;
pick either in a spec.
"""

from ribray.models import register
from ribray.models.paper import paper_model
from ribray.models.timm_family import timm_entry

for alias, summary in (
    ("vit_b16_in1k_augreg", "ViT-B/16 trained on ImageNet-1K with AugReg"),
    ("vit_b16_in1k_sam", "ViT-B/16 trained on ImageNet-1K with the SAM optimizer"),
    ("vit_b16_in21k", "ViT-B/16 pre-trained on ImageNet-21K (original), fine-tuned on IN-1K"),
    ("vit_b16_in21k_p", "ViT-B/16 pre-trained on ImageNet-21K-P (MIIL), fine-tuned on IN-1K"),
    ("vit_b16_in21k_augreg", "ViT-B/16 pre-trained on ImageNet-21K with AugReg, fine-tuned on IN-1K"),
    ("vit_b16_clip_openai", "OpenAI CLIP ViT-B/16 image tower, fine-tuned on IN-1K"),
    ("vit_b16_clip_laion2b", "LAION-2B CLIP ViT-B/16 image tower, fine-tuned on IN-1K"),
):
    model = paper_model(alias)
    register(timm_entry(alias, model.source, summary, paper_column=model.column))
