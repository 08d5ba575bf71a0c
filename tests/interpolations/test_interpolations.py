"""WiSE-FT and model soups: endpoints exactly, averages of weights, and clear refusals."""

from __future__ import annotations

import pytest
import torch

from ribray.errors import RibrayError
from ribray.interpolations.soup import soup
from ribray.interpolations.wise_ft import wise_ft
from ribray.models import build_model


def tiny(name: str = "tiny_vit", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(name, pretrained=False).module.eval()


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def logits(weights: dict[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    model = tiny(seed=99)
    model.load_state_dict(weights)
    with torch.no_grad():
        return model(images)


@pytest.fixture(scope="module")
def pretrained_and_finetuned():
    return state(tiny(seed=0)), state(tiny(seed=1))


def test_wise_ft_endpoints_reproduce_the_two_models_exactly(pretrained_and_finetuned):
    pretrained, finetuned = pretrained_and_finetuned
    images = torch.randn(3, 3, 32, 32)
    assert torch.equal(logits(wise_ft(pretrained, finetuned, 0.0), images), logits(pretrained, images))
    assert torch.equal(logits(wise_ft(pretrained, finetuned, 1.0), images), logits(finetuned, images))


def test_wise_ft_mixes_every_weight(pretrained_and_finetuned):
    pretrained, finetuned = pretrained_and_finetuned
    for alpha in (0.5, 0.2):
        mixed = wise_ft(pretrained, finetuned, alpha)
        assert set(mixed) == set(pretrained)
        for key, value in mixed.items():
            torch.testing.assert_close(value, (1 - alpha) * pretrained[key] + alpha * finetuned[key])


def test_integer_buffers_are_copied_not_averaged():
    first, second = state(tiny("tiny_resnet", 0)), state(tiny("tiny_resnet", 1))
    counters = [k for k, v in first.items() if not v.is_floating_point()]
    assert counters  # BatchNorm's num_batches_tracked
    first[counters[0]].fill_(4)
    second[counters[0]].fill_(7)
    assert int(wise_ft(first, second, 0.5)[counters[0]]) == 7  # from the fine-tuned model
    assert int(soup([first, second])[counters[0]]) == 4  # from the first ingredient


def test_soup_is_the_uniform_average(pretrained_and_finetuned):
    third = state(tiny(seed=2))
    ingredients = [*pretrained_and_finetuned, third]
    averaged = soup(ingredients)
    for key, value in averaged.items():
        by_hand = (ingredients[0][key] + ingredients[1][key] + ingredients[2][key]) / 3
        torch.testing.assert_close(value, by_hand)


def test_the_registry_combines_each_variants_ingredients(pretrained_and_finetuned):
    from ribray.interpolations import INTERPOLATIONS, get_interpolation
    from ribray.interpolations.base import Variant

    pretrained, finetuned = pretrained_and_finetuned
    wise = get_interpolation("wise_ft")
    assert wise(wise.Options(alphas=[0.7, 0.2])).variants() == [
        Variant(("pretrained", "ft"), 0.2), Variant(("pretrained", "ft"), 0.7)]
    mixed = wise.combine([pretrained, finetuned], 0.5)
    assert torch.equal(mixed["head.weight"], wise_ft(pretrained, finetuned, 0.5)["head.weight"])
    soup_class = get_interpolation("soup")
    assert soup_class(soup_class.Options()).methods_read() == ["ft", "ewc", "lwf"]
    souped = soup_class.combine([pretrained, finetuned], None)
    assert torch.equal(souped["head.weight"], soup([pretrained, finetuned])["head.weight"])
    with pytest.raises(RibrayError, match="wise_ft needs the pretrained and one fine-tuned model, got 3"):
        wise.combine([pretrained, finetuned, finetuned], 0.5)
    with pytest.raises(RibrayError, match=r"unknown interpolation 'ties' \(run `ribray methods` to list them\)"):
        INTERPOLATIONS.get("ties")


@pytest.mark.parametrize("alpha", [-0.1, 1.5, None])
def test_wise_ft_refuses_alphas_outside_the_unit_interval(pretrained_and_finetuned, alpha):
    with pytest.raises(RibrayError, match=r"alpha must be in \[0, 1\]"):
        wise_ft(*pretrained_and_finetuned, alpha)


def test_weights_of_different_models_are_not_averaged(pretrained_and_finetuned):
    pretrained, finetuned = pretrained_and_finetuned
    fewer = {k: v for k, v in finetuned.items() if k != "head.bias"}
    with pytest.raises(RibrayError, match=r"1 missing keys \(e.g. \['head.bias'\]\), 0 unexpected keys .* in 'finetuned'"):
        wise_ft(pretrained, fewer, 0.5)
    with pytest.raises(RibrayError, match="not of one model"):
        soup([pretrained, state(tiny("tiny_resnet"))])
    reshaped = dict(finetuned, **{"head.weight": torch.zeros(10, 64)})
    with pytest.raises(RibrayError, match=r"differ in shape, e.g. head.weight: \(10, 64\) in 'ingredient 1', \(1000, 64\) in 'ingredient 0'"):
        soup([pretrained, reshaped])
    with pytest.raises(RibrayError, match="at least two ingredients"):
        soup([pretrained])
