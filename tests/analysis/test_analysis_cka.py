"""Minibatch linear CKA and per-block activations of ViTs and ResNets."""

from __future__ import annotations

import copy

import pytest
import torch

from ribray.analysis import (
    MinibatchCKA,
    block_outputs,
    layer_cka,
    layer_names,
    linear_cka,
)
from ribray.errors import RibrayError, UnknownNameError


def _cka(x, y, batch=None):
    cka = MinibatchCKA(1)
    batch = batch or x.shape[0]
    for start in range(0, x.shape[0], batch):
        cka.update([x[start:start + batch]], [y[start:start + batch]])
    return float(cka.compute()[0])


def _related_pair(n=2000, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 32, generator=generator)
    y = 0.3 * x @ torch.randn(32, 16, generator=generator) + 2 * torch.randn(n, 16, generator=generator)
    return x, y


@pytest.fixture(scope="module")
def tiny_vit():
    import timm

    torch.manual_seed(0)
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8,
                             embed_dim=64, depth=2, num_heads=2, num_classes=1000)


def test_minibatch_cka_approximates_full_batch():
    x, y = _related_pair()
    full = _cka(x, y)
    assert 0.1 < full < 0.9  # a non-trivial similarity, so the comparison means something
    assert _cka(x, y, batch=200) == pytest.approx(full, abs=0.02)
    assert linear_cka(x, y) == pytest.approx(full, abs=0.02)


def test_cka_is_invariant_to_orthogonal_maps_scaling_and_translation():
    x, y = _related_pair(n=400, seed=1)
    rotation, _ = torch.linalg.qr(torch.randn(16, 16, generator=torch.Generator().manual_seed(2)))
    reference = _cka(x, y, batch=100)
    assert _cka(x, y @ rotation, batch=100) == pytest.approx(reference, abs=1e-6)
    assert _cka(7.5 * x, y, batch=100) == pytest.approx(reference, abs=1e-6)
    assert _cka(x + 3.0, y - 1.0, batch=100) == pytest.approx(reference, abs=1e-6)
    assert _cka(x, x @ torch.linalg.qr(torch.randn(32, 32))[0], batch=100) == pytest.approx(1.0, abs=1e-6)


def test_unrelated_features_have_low_cka():
    generator = torch.Generator().manual_seed(3)
    x, z = torch.randn(1000, 8, generator=generator), torch.randn(1000, 8, generator=generator)
    assert abs(_cka(x, z, batch=100)) < 0.05


def test_update_rejects_wrong_layer_counts_and_tiny_batches():
    cka = MinibatchCKA(2)
    with pytest.raises(RibrayError, match="expected 2"):
        cka.update([torch.randn(8, 3)], [torch.randn(8, 3)])
    with pytest.raises(RibrayError, match="at least 4"):
        cka.update([torch.randn(3, 3)] * 2, [torch.randn(3, 3)] * 2)
    with pytest.raises(RibrayError, match="before any update"):
        cka.compute()


def test_vit_block_outputs_and_layer_names(tiny_vit):
    assert layer_names(tiny_vit) == ["blocks.0", "blocks.1"]
    outputs = block_outputs(tiny_vit, torch.randn(5, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(5, 17, 64), (5, 17, 64)]  # 16 patches + cls
    assert not any(o.requires_grad for o in outputs)
    assert not tiny_vit.blocks[0]._forward_hooks  # hooks are removed again


def test_resnet_stages_and_unknown_layer_error():
    import timm

    resnet = timm.create_model("resnet10t", pretrained=False, num_classes=10)
    assert layer_names(resnet) == ["layer1", "layer2", "layer3", "layer4"]
    outputs = block_outputs(resnet.eval(), torch.randn(4, 3, 32, 32), ["layer2", "layer4"])
    assert [o.shape[1] for o in outputs] == [128, 512]
    with pytest.raises(UnknownNameError, match=r"unknown layer of ResNet 'layer5'; did you mean 'layer4'\? "
                                               r"\(any module name of the model, e.g. layer1, layer2, layer3"):
        block_outputs(resnet, torch.randn(4, 3, 32, 32), ["layer5"])
    with pytest.raises(RibrayError, match="cannot list its layers"):
        layer_names(torch.nn.Linear(3, 3))


def test_wrapped_model_layer_names_carry_the_prefix(tiny_vit):
    wrapper = torch.nn.Module()
    wrapper.model = tiny_vit
    assert layer_names(wrapper) == ["model.blocks.0", "model.blocks.1"]


def test_model_with_itself_has_cka_one_and_training_lowers_it(tiny_vit):
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(64, 3, 32, 32, generator=generator)
    batches = [(images[i:i + 16], torch.zeros(16)) for i in range(0, 64, 16)]
    same = layer_cka(tiny_vit, tiny_vit, batches, "cpu")
    assert list(same) == ["blocks.0", "blocks.1"]
    assert all(value == pytest.approx(1.0, abs=1e-5) for value in same.values())

    trained = _train_on_random_labels(copy.deepcopy(tiny_vit), images, generator)
    changed = layer_cka(tiny_vit, trained, batches + [(images[:2], None)], "cpu")  # short batch skipped
    assert all(value < 0.999 for value in changed.values()), changed
    assert all(value > 0.0 for value in changed.values()), changed
    assert tiny_vit.training  # eval mode was restored


def _train_on_random_labels(model, images, generator, steps=5):
    labels = torch.randint(0, 1000, (images.shape[0],), generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    model.train()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def _unbiased_hsic(k, l):
    """Song et al.'s HSIC_1, written out once more for the check below."""
    n = k.shape[0]
    k, l = k.clone().fill_diagonal_(0), l.clone().fill_diagonal_(0)
    ones = torch.ones(n, 1, dtype=k.dtype)
    return float((torch.trace(k @ l) + (ones.T @ k @ ones) * (ones.T @ l @ ones) / ((n - 1) * (n - 2))
                  - 2 / (n - 2) * (ones.T @ k @ l @ ones)) / (n * (n - 3)))


def test_cka_at_the_papers_layer_blocks_5_mlp_fc2_by_hand():
    """The paper's CKA finding is at blocks.5.mlp.fc2: a 6-block ViT's fc2 output of block 5,
    computed here by running the blocks by hand, and CKA of it between two models from the
    unbiased HSIC of each minibatch."""
    import timm

    from ribray.analysis.cka import resolve_layers

    torch.manual_seed(0)
    first = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8,
                              embed_dim=64, depth=6, num_heads=2).eval()
    second = copy.deepcopy(first)
    with torch.no_grad():
        second.blocks[5].mlp.fc2.weight.add_(0.5 * torch.randn_like(second.blocks[5].mlp.fc2.weight))
    assert resolve_layers(first, ["blocks.5.mlp.fc2"]) == ["blocks.5.mlp.fc2"]
    images = torch.randn(24, 3, 32, 32, generator=torch.Generator().manual_seed(1))

    def fc2_by_hand(model, x):
        with torch.no_grad():
            x = model.norm_pre(model._pos_embed(model.patch_embed(x)))
            for block in model.blocks[:5]:
                x = block(x)
            block = model.blocks[5]
            x = x + block.ls1(block.attn(block.norm1(x)))
            mlp = block.mlp
            return mlp.fc2(mlp.norm(mlp.drop1(mlp.act(mlp.fc1(block.norm2(x))))))

    [captured] = block_outputs(first, images, ["blocks.5.mlp.fc2"])
    torch.testing.assert_close(captured, fc2_by_hand(first, images))
    cka = MinibatchCKA(1)
    sums = [0.0, 0.0, 0.0]
    for start in range(0, 24, 8):
        batch = images[start:start + 8]
        a, b = fc2_by_hand(first, batch), fc2_by_hand(second, batch)
        cka.update(block_outputs(first, batch, ["blocks.5.mlp.fc2"]), block_outputs(second, batch, ["blocks.5.mlp.fc2"]))
        k = a.reshape(8, -1).double() @ a.reshape(8, -1).double().T
        l = b.reshape(8, -1).double() @ b.reshape(8, -1).double().T
        sums = [sums[0] + _unbiased_hsic(k, l), sums[1] + _unbiased_hsic(k, k), sums[2] + _unbiased_hsic(l, l)]
    expected = sums[0] / (sums[1] * sums[2]) ** 0.5
    assert float(cka.compute()[0]) == pytest.approx(expected, rel=1e-9)
    assert 0.0 < expected < 0.999  # the perturbed layer differs, but not entirely


def test_any_module_can_be_named_and_a_typo_gets_the_closest_name(tiny_vit):
    from ribray.analysis.cka import resolve_layers

    assert resolve_layers(tiny_vit, ["blocks.1.mlp.fc2", "blocks"]) == ["blocks.1.mlp.fc2", "blocks.0", "blocks.1"]
    assert resolve_layers(tiny_vit, "blocks") == ["blocks.0", "blocks.1"]
    with pytest.raises(UnknownNameError, match=r"unknown layer of VisionTransformer 'blocks.1.mlp.fc3'; "
                                               r"did you mean 'blocks.1.mlp.fc2'\?"):
        resolve_layers(tiny_vit, ["blocks.1.mlp.fc3"])
