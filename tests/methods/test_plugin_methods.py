"""The example plugin's method and model (examples/ribray-example-plugin): Kirkpatrick EWC's
diagonal Fisher computed by hand, and a non-timm architecture whose declared parts tell LP, LoRA
and VPT what to train."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from ribray.errors import RibrayError
from ribray.methods import MethodInputs, get_method
from ribray.methods.base import Step
from ribray.models import build_model
from ribray.plugins import activate, resolve

from conftest import EXAMPLE_PLUGIN


@pytest.fixture
def example(no_plugins):
    activate([resolve(str(EXAMPLE_PLUGIN / "ribray_example"))])
    import ribray_example.fisher_ewc

    return ribray_example


def test_the_diagonal_fisher_is_the_mean_squared_per_image_gradient(example):
    from ribray_example.fisher_ewc import diagonal_fisher

    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -1.0], [1.0, 0.0], [0.0, 2.0]]))
        model.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    images, labels = torch.tensor([[1.0, 2.0], [-1.0, 0.5]]), torch.tensor([2, 0])
    fisher = diagonal_fisher(model, [(images, labels)], lambda logits: logits, {"weight", "bias"})
    # by hand: d(-log softmax(Wx + b)_y)/dW = (p - onehot(y)) x^T, d/db = p - onehot(y)
    squares_w, squares_b = torch.zeros(3, 2), torch.zeros(3)
    for x, y in zip(images, labels, strict=True):
        p = torch.softmax(model.weight.detach() @ x + model.bias.detach(), dim=0)
        error = p - F.one_hot(y, 3).float()
        squares_w += torch.outer(error, x) ** 2
        squares_b += error ** 2
    torch.testing.assert_close(fisher["weight"], squares_w / 2)
    torch.testing.assert_close(fisher["bias"], squares_b / 2)


def test_fisher_ewc_penalises_moves_by_their_fisher(example):
    method_cls = get_method("fisher_ewc")
    method = method_cls(method_cls.Options(weight=4.0, fisher_images=2))
    model = nn.Linear(2, 3)
    images, labels = torch.tensor([[1.0, 2.0], [-1.0, 0.5]]), torch.tensor([2, 0])
    read = []
    inputs = MethodInputs(device=torch.device("cpu"), data_config={},
                          batches=lambda name, n, seed: read.append((name, n, seed)) or [(images, labels)],
                          projector=lambda name: (lambda logits: logits))
    method.setup(model, inputs)
    assert read == [("imagenet_train", 2, 0)] and method.datasets_read() == ["imagenet_train"]
    with torch.no_grad():
        model.weight.add_(0.5)  # every weight moves by 0.5, the bias stays
    step = Step(model=model, images=images, labels=labels, logits=model(images), project=lambda x: x)
    expected = 0.5 * 4.0 * (method.fisher["weight"] * 0.5 ** 2).sum()
    torch.testing.assert_close(method.extra_loss(step), expected)


def _trainable(method_name: str, model: nn.Module, **options):
    method_cls = get_method(method_name)
    method = method_cls(method_cls.Options(**options))
    method.check_model(model)
    prepared = method.prepare(model)
    method.select_trainable(prepared)
    return {name for name, p in prepared.named_parameters() if p.requires_grad}, method, prepared


def test_a_declared_architecture_trains_the_parts_each_method_asks_for(example):
    loaded = build_model("example_convnet", pretrained=False)
    assert loaded.data_config["input_size"] == (3, 32, 32) and loaded.data_config["mean"] == (0.5, 0.5, 0.5)
    lp, _, _ = _trainable("lp", loaded.module)
    assert lp == {"head.weight", "head.bias", "norm.weight", "norm.bias"}
    lora, method, prepared = _trainable("lora", build_model("example_convnet", pretrained=False).module)
    adapters = {n for n in lora if "lora_" in n}
    assert adapters and all(n.startswith("base_model.model.blocks.") and ".mlp.lora_" in n for n in adapters)
    assert lora - adapters == {"base_model.model.norm.weight", "base_model.model.norm.bias"}  # not the head
    exported = method.export(prepared)
    assert set(exported) == set(build_model("example_convnet", pretrained=False).module.state_dict())
    vpt, _, _ = _trainable("vpt", build_model("example_convnet", pretrained=False).module, prompt_size=4)
    assert vpt == {"prompt.top", "prompt.bottom", "prompt.left", "prompt.right"}


def test_lora_refuses_a_declared_architecture_without_targets(example):
    from ribray.api import ModelParts

    model = build_model("example_convnet", pretrained=False).module
    model.ribray_parts = ModelParts(head=("head",), embedding=("stem",), blocks=("blocks",))
    with pytest.raises(RibrayError, match="declares no lora_targets"):
        get_method("lora")(get_method("lora").Options()).check_model(model)
    model.ribray_parts = ModelParts(head=("head",), blocks=("blocks",), lora_targets=r"nothing\.here")
    with pytest.raises(RibrayError, match="matches no Linear module"):
        get_method("lora")(get_method("lora").Options()).check_model(model)
