"""Pre-logit feature extraction for timm and torchvision classifiers."""

from __future__ import annotations

import pytest
import torch

from ribray.analysis import extract_features
from ribray.errors import RibrayError


def _batches(images, labels, size=4):
    return [(images[i:i + size], labels[i:i + size], f"batch{i}") for i in range(0, len(images), size)]


def test_timm_features_are_what_the_classifier_head_reads():
    import timm

    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8,
                              embed_dim=64, depth=2, num_heads=2, num_classes=10)
    images, labels = torch.randn(10, 3, 32, 32), torch.arange(10)
    features, extracted_labels = extract_features(model, _batches(images, labels), "cpu")
    assert features.shape == (10, 64) and features.dtype == torch.float32
    assert torch.equal(extracted_labels, labels)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model.head(features), model(images), rtol=1e-4, atol=1e-5)
    assert not features.requires_grad


def test_torchvision_resnet_features_are_the_fc_input():
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=7)
    images, labels = torch.randn(6, 3, 32, 32), torch.tensor([3, 1, 4, 1, 5, 9])
    features, extracted_labels = extract_features(model.train(), _batches(images, labels), "cpu")
    assert features.shape == (6, 512)
    assert torch.equal(extracted_labels, labels)
    assert model.training  # restored after extraction in eval mode
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model.fc(features), model(images), rtol=1e-4, atol=1e-5)


def test_unsupported_model_and_empty_input_fail_clearly():
    with pytest.raises(RibrayError, match="pre-logit features"):
        extract_features(torch.nn.Linear(3, 3), [], "cpu")
    import torchvision

    with pytest.raises(RibrayError, match="no batches"):
        extract_features(torchvision.models.resnet18(num_classes=2), [], "cpu")
