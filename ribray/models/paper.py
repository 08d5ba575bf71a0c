"""The paper's pretrained models: registry alias, what builds it (a timm name or
`open_clip:ARCH/TAG`), and the paper's name for it (its tables' column). Plain data: the
registry entries and the report's labels both read it, without importing torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperModel:
    alias: str
    source: str
    column: str


PAPER_MODELS = (
    PaperModel("vit_b16_in1k_augreg", "vit_base_patch16_224.augreg_in1k", "IN-1K + AugReg"),
    PaperModel("vit_b16_in1k_sam", "vit_base_patch16_224.sam_in1k", "IN-1K (IN-1K + SAM)"),
    PaperModel("vit_b16_in21k", "vit_base_patch16_224.orig_in21k_ft_in1k", "IN-21K"),
    PaperModel("vit_b16_in21k_p", "vit_base_patch16_224_miil.in21k_ft_in1k", "IN-21K-P"),
    PaperModel("vit_b16_in21k_augreg", "vit_base_patch16_224.augreg_in21k_ft_in1k", "IN-21K + AugReg"),
    PaperModel("vit_b16_clip_openai", "vit_base_patch16_clip_224.openai_ft_in1k", "OpenAI CLIP"),
    PaperModel("vit_b16_clip_laion2b", "vit_base_patch16_clip_224.laion2b_ft_in1k", "LAION-2B CLIP"),
    PaperModel("resnet50_tv2", "resnet50.tv2_in1k", "ResNet-50"),
    PaperModel("clip_b16_openai_zeroshot", "open_clip:ViT-B-16/openai", "OpenAI CLIP (zero-shot)"),
    PaperModel("clip_b16_laion2b_zeroshot", "open_clip:ViT-B-16/laion2b_s34b_b88k", "LAION-2B CLIP (zero-shot)"),
)


# Where the reference code preprocesses a paper model otherwise than timm's config for the same
# weights (`fidelity: reference`, ribray.fidelity): its ResNet-50 goes through torchvision's
# Resize(256) + CenterCrop(224), bilinear (timm's resnet50.tv2_in1k: 232 px, crop_pct 0.965);
# timm's transform with crop_pct 224/256 resizes to floor(224 / 0.875) = 256 and crops the same.
REFERENCE_PREPROCESSING = {"resnet50_tv2": {"crop_pct": 0.875, "interpolation": "bilinear", "crop_mode": "center"}}


def reference_preprocessing(model: str) -> dict | None:
    """How the reference code preprocesses `model` (alias or source) where it differs from
    timm's config for the same weights; None where it does not."""
    for entry in PAPER_MODELS:
        if model in (entry.alias, entry.source) and entry.alias in REFERENCE_PREPROCESSING:
            return REFERENCE_PREPROCESSING[entry.alias]
    return None


def reference_data_config(model: str, data_config: dict) -> dict:
    """`data_config` (timm's keys) as the reference code preprocesses `model` (alias or source)."""
    changed = reference_preprocessing(model)
    return {**data_config, **changed} if changed else data_config


def paper_model(alias: str) -> PaperModel:
    return next(m for m in PAPER_MODELS if m.alias == alias)


def paper_name(model: str) -> str:
    """The paper's name for a model named by its alias or its source; other names as they are."""
    for entry in PAPER_MODELS:
        if model in (entry.alias, entry.source):
            return entry.column
    return model
