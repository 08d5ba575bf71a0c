"""What result rows record as a model's starting weights (`model_weights`): the report warns on
random init from this, never from a model's name."""

from __future__ import annotations

from ribray.models import weights_origin


def test_a_model_without_weights_to_download_or_not_pretrained_is_random_init():
    assert weights_origin("tiny_vit") == "random init"  # the demo's model: its entry has no weights
    assert weights_origin("vit_base_patch16_224.augreg_in1k", pretrained=False) == "random init"


def test_hub_weights_are_pretrained_and_a_local_file_is_a_checkpoint():
    assert weights_origin("vit_base_patch16_224.augreg_in1k") == "pretrained"
    assert weights_origin("tiny_vit", checkpoint="/weights/mine.safetensors") == "checkpoint"
