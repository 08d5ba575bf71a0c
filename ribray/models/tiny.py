"""Tiny random-init models for tests and the demo sweep (no weights to download)."""

from __future__ import annotations

from ribray.models import register
from ribray.models.base import ModelEntry


def _tiny_vit(pretrained: bool):
    import timm

    # 32 px input, 2 blocks, width 64: a forward+backward of a batch takes milliseconds on CPU.
    model = timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, num_classes=1000, img_size=32,
        patch_size=8, embed_dim=64, depth=2, num_heads=2)
    return _small_input(model, 32)


def _small_input(model, size: int, train_size: int | None = None):
    """Make timm's data config (which reads pretrained_cfg) match the small input size; with
    `train_size`, the model was trained smaller than it is evaluated (as torchvision's
    ResNet-50 V2 weights: 176 px train, 224 px test), and ribray uses the test size."""
    test = {"test_input_size": (3, size, size), "test_crop_pct": 1.0} if train_size else \
        {"test_input_size": None, "test_crop_pct": None}
    model.pretrained_cfg = {**model.pretrained_cfg, "input_size": (3, train_size or size, train_size or size),
                            "crop_pct": 1.0, **test}
    return model


def _tiny_resnet(pretrained: bool):
    import timm

    return _small_input(timm.create_model("resnet10t", pretrained=False, num_classes=1000), 32, train_size=24)


register(ModelEntry(
    name="tiny_vit", family="test", build=_tiny_vit,
    summary="random-init 2-block ViT at 32 px (tests and the demo sweep)",
    weights="random init"))
register(ModelEntry(
    name="tiny_resnet", family="test", build=_tiny_resnet,
    summary="random-init ResNet-10-T, 24 px train / 32 px test size (tests)", weights="random init"))
