"""CLIP without ImageNet fine-tuning (the paper's dataset-size study): an open_clip image
tower plus a zero-shot head built from its text tower.

Names are `open_clip:ARCH/TAG` (any architecture and pretrained tag open_clip knows, e.g.
`open_clip:ViT-B-16/laion2b_s34b_b88k`; `open_clip:ARCH` alone builds a random-init model).
The head holds, per ImageNet-1K class, the normalized text embedding of the reference
code's prompt "This is a photo of a {}" filled with the class's name, times CLIP's logit
scale. The names are the curated ones open_clip ships for its zero-shot classifiers
(`zero_shot_class_names`: WordNet's first lemmas make "crane" the bird and the machine, and
"maillot" two garments, identical prompts that tie). Preprocessing is open_clip's for that tag (mean, std, size, bicubic resize of
the shorter side and center crop), expressed as a timm data config.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ribray.errors import RibrayError, UnknownNameError
from ribray.models import register, register_source
from ribray.models.base import ModelEntry, ModelSource
from ribray.models.cache import cached_file_problem, hub_file_problem

if TYPE_CHECKING:
    from torch import nn

SOURCE = "open_clip"
PREFIX = f"{SOURCE}:"
TEMPLATE = "This is a photo of a {}"
OPEN_CLIP_WEIGHTS = "open_clip_pytorch_model.bin"  # open_clip's default hub file, and its twin
OPEN_CLIP_SAFE_WEIGHTS = "open_clip_model.safetensors"
# open_clip resize modes -> timm crop modes (crop_pct 1: resize to the crop size, then crop)
PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")
CROP_MODES = {"shortest": "center", "squash": "squash", "longest": "border"}


def parse_name(name: str) -> tuple[str, str | None]:
    """`open_clip:ARCH/TAG` -> (ARCH, TAG); the tag is None when absent."""
    arch, _, tag = name.removeprefix(PREFIX).partition("/")
    return arch, tag or None


def check_open_clip_name(name: str) -> None:
    """Raise UnknownNameError unless open_clip knows the architecture and the tag."""
    import open_clip

    arch, tag = parse_name(name)
    if arch not in open_clip.list_models():
        raise UnknownNameError("open_clip architecture", arch, open_clip.list_models(),
                               hint="`python -c 'import open_clip; print(open_clip.list_models())'` lists them")
    tags = open_clip.list_pretrained_tags_by_model(arch)
    if tag is not None and tag not in tags:
        raise UnknownNameError(f"pretrained tag of open_clip {arch}", tag, tags)


def build_zero_shot(name: str, pretrained: bool, class_names: Sequence[str] | None = None,
                    text_head: bool = True) -> nn.Module:
    """The zero-shot classifier of `open_clip:ARCH/TAG` over `class_names` (default: the 1000
    ImageNet classes). With `text_head=False` the head is left at zero (a checkpoint will
    replace it), which skips encoding the class prompts."""
    import open_clip

    arch, tag = parse_name(name)
    if pretrained and tag is None:
        raise RibrayError(f"{name}: give a pretrained tag (open_clip:{arch}/TAG) or set pretrained: false")
    tag_config = open_clip.get_pretrained_cfg(arch, tag) if tag else {}
    # The tag's preprocessing even without its weights (e.g. when a checkpoint replaces them).
    preprocess = {k: tag_config[k] for k in PREPROCESS_KEYS if k in tag_config}
    clip = open_clip.create_model(arch, pretrained=tag if pretrained else None,
                                  force_quick_gelu=bool(tag_config.get("quick_gelu")),
                                  force_preprocess_cfg=preprocess or None)
    class_names = list(class_names or zero_shot_class_names())
    if not text_head:
        return _classifier(clip, _zero_embeddings(arch, len(class_names)))
    return zero_shot_classifier(clip, open_clip.get_tokenizer(arch), class_names)


def zero_shot_class_names() -> list[str]:
    """A distinct readable name per ImageNet-1K class: open_clip's curated names, except where two
    classes share one (missile: 657 and 744; sunglasses: 836 and 837): the class whose WordNet
    lemmas do not start with that name takes its first lemma (744 projectile, 836 sunglass)."""
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    from ribray.data.classes import imagenet_class_names

    names = list(IMAGENET_CLASSNAMES)
    lemmas = imagenet_class_names()
    shared = {name for name in names if names.count(name) > 1}
    return [lemmas[i] if name in shared and lemmas[i] != name else name for i, name in enumerate(names)]


def zero_shot_classifier(clip, tokenizer, class_names: Sequence[str], template: str = TEMPLATE) -> nn.Module:
    """Image tower + head of normalized prompt embeddings times the logit scale. The prompts
    are encoded on the GPU when there is one (1000 prompts take minutes on a CPU)."""
    import open_clip
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    clip = clip.eval().to(device)
    weights = open_clip.build_zero_shot_classifier(clip, tokenizer, list(class_names), [template],
                                                  num_classes_per_batch=100, device=device)
    return _classifier(clip.cpu(), weights.T.float().cpu())


def _classifier(clip, class_embeddings) -> nn.Module:
    from ribray.models._zero_shot import ZeroShotClassifier

    model = ZeroShotClassifier(clip.visual, class_embeddings, float(clip.logit_scale.detach().exp()))
    model.pretrained_cfg = timm_data_config(clip)  # what timm.data.resolve_model_data_config reads
    return model


def zero_shot_state_bytes(name: str, classes: int = 1000) -> float:
    """Bytes of the zero-shot classifier's state dict in fp32 (image tower + head), counted on
    the meta device: nothing allocated, nothing downloaded."""
    import open_clip

    arch, _ = parse_name(name)
    clip = open_clip.create_model(arch, pretrained=None, device="meta")
    tower = sum(t.numel() for t in clip.visual.state_dict().values())
    return float(4 * (tower + classes * open_clip.get_model_config(arch)["embed_dim"]))


def _zero_embeddings(arch: str, classes: int):
    import open_clip
    import torch

    return torch.zeros(classes, open_clip.get_model_config(arch)["embed_dim"])


def timm_data_config(clip) -> dict:
    """open_clip's preprocessing of this model as a timm pretrained config."""
    import open_clip

    preprocess = open_clip.get_model_preprocess_cfg(clip)
    size = preprocess.get("size", 224)
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    return {"input_size": (3, height, width), "mean": tuple(preprocess.get("mean", open_clip.OPENAI_DATASET_MEAN)),
            "std": tuple(preprocess.get("std", open_clip.OPENAI_DATASET_STD)),
            "interpolation": preprocess.get("interpolation", "bicubic"), "crop_pct": 1.0,
            "crop_mode": CROP_MODES.get(preprocess.get("resize_mode", "shortest"), "center")}


def open_clip_weights_problem(name: str) -> str | None:
    """None when open_clip would find this tag's weights offline, else what is missing."""
    import open_clip

    arch, tag = parse_name(name)
    if tag is None:
        return f"{name} names no pretrained tag"
    config = open_clip.get_pretrained_cfg(arch, tag)
    if config.get("file"):
        return None if os.path.isfile(config["file"]) else f"file {config['file']} not found"
    if config.get("hf_hub"):  # open_clip prefers the hub when the tag names one
        repo, file_name = os.path.split(config["hf_hub"])
        file_names = [file_name] if file_name else [OPEN_CLIP_SAFE_WEIGHTS, OPEN_CLIP_WEIGHTS]
        return hub_file_problem(repo, file_names)
    return cached_file_problem(os.path.expanduser("~/.cache/clip"), config["url"])


def open_clip_weights_url(name: str) -> str | None:
    """Where open_clip downloads this tag's weights from: the Hugging Face hub's repo page, a URL,
    or None (a local file, or no tag)."""
    import open_clip
    from huggingface_hub import constants

    arch, tag = parse_name(name)
    config = open_clip.get_pretrained_cfg(arch, tag) if tag else {}
    if config.get("file") or not config:
        return None
    if config.get("hf_hub"):
        return f"{constants.ENDPOINT}/{os.path.split(config['hf_hub'])[0]}"
    return config.get("url") or None


@register_source(SOURCE)
class OpenClipSource(ModelSource):
    """`open_clip:ARCH/TAG`: any architecture and pretrained tag open_clip knows, as a zero-shot
    classifier (`open_clip:ARCH` alone: random init)."""

    builder = staticmethod(build_zero_shot)

    def check(self, name: str) -> None:
        check_open_clip_name(name)

    def build(self, name: str, pretrained: bool, weights_replaced: bool = False) -> nn.Module:
        return build_zero_shot(name, pretrained, text_head=not weights_replaced)

    def weights_problem(self, name: str) -> str | None:
        return open_clip_weights_problem(name)

    def weights_url(self, name: str) -> str | None:
        return open_clip_weights_url(name)

    def state_bytes(self, name: str) -> float | None:
        try:
            return zero_shot_state_bytes(name)
        except Exception:  # noqa: BLE001 - a size estimate is optional; `validate` reports real problems
            return None


def _entry(alias: str) -> ModelEntry:
    import functools

    from ribray.models.paper import paper_model

    model = paper_model(alias)
    tag = parse_name(model.source)[1]
    return ModelEntry(name=alias, family="open_clip", source=model.source, paper_column=model.column,
                      build=functools.partial(build_zero_shot, model.source),
                      summary=f"CLIP ViT-B/16 ({tag}) zero-shot: image tower + text-prompt head",
                      weights=f"open_clip ViT-B-16 / {tag}")


register(_entry("clip_b16_openai_zeroshot"))
register(_entry("clip_b16_laion2b_zeroshot"))
