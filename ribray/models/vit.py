"""The paper's ViT-B/16 models (ImageNet-RIB's pretrained-dataset axis), as timm names.
Every one is already fine-tuned on ImageNet-1K, so each has a 1000-way head.

The mRI table's "IN-1K" column is most likely the IN-1K + SAM model: the paper's other
tables list IN-1K + SAM and no plain IN-1K ViT-B/16. Both IN-1K models are registered;
pick either in a spec.
"""

from ribray.models import register
from ribray.models.timm_family import timm_entry

for alias, timm_name, column, summary in (
    ("vit_b16_in1k_augreg", "vit_base_patch16_224.augreg_in1k", "IN-1K + AugReg",
     "ViT-B/16 trained on ImageNet-1K with AugReg"),
    ("vit_b16_in1k_sam", "vit_base_patch16_224.sam_in1k", "IN-1K (IN-1K + SAM)",
     "ViT-B/16 trained on ImageNet-1K with the SAM optimizer"),
    ("vit_b16_in21k", "vit_base_patch16_224.orig_in21k_ft_in1k", "IN-21K",
     "ViT-B/16 pre-trained on ImageNet-21K (original), fine-tuned on IN-1K"),
    ("vit_b16_in21k_p", "vit_base_patch16_224_miil.in21k_ft_in1k", "IN-21K-P",
     "ViT-B/16 pre-trained on ImageNet-21K-P (MIIL), fine-tuned on IN-1K"),
    ("vit_b16_in21k_augreg", "vit_base_patch16_224.augreg_in21k_ft_in1k", "IN-21K + AugReg",
     "ViT-B/16 pre-trained on ImageNet-21K with AugReg, fine-tuned on IN-1K"),
    ("vit_b16_clip_openai", "vit_base_patch16_clip_224.openai_ft_in1k", "OpenAI CLIP",
     "OpenAI CLIP ViT-B/16 image tower, fine-tuned on IN-1K"),
    ("vit_b16_clip_laion2b", "vit_base_patch16_clip_224.laion2b_ft_in1k", "LAION-2B CLIP",
     "LAION-2B CLIP ViT-B/16 image tower, fine-tuned on IN-1K"),
):
    register(timm_entry(alias, timm_name, summary, paper_column=column))
