"""The two interpolations that need more than one cell's weights, against weights computed by
hand on small tensors: the greedy soup (held-out evaluations) and Model Stock (every seed)."""

from __future__ import annotations

import math

import pytest
import torch

from ribray.errors import RibrayError
from ribray.interpolations import InterpolationInputs
from ribray.interpolations.greedy_soup import greedy_soup
from ribray.interpolations.model_stock import model_stock


def _state(*values, buffer=0):
    return {"w": torch.tensor(values, dtype=torch.float32), "count": torch.tensor(buffer)}


def test_greedy_soup_adds_by_held_out_accuracy_while_the_soup_does_not_get_worse():
    # held-out accuracy: closeness to w = (1, 1); candidates' own scores rank c > a > b > d
    target = torch.tensor([1.0, 1.0])

    def accuracy(state):
        return 100.0 - 10.0 * float((state["w"] - target).abs().sum())

    candidates = {"a": _state(0.0, 1.0), "b": _state(3.0, 1.0), "c": _state(1.0, 1.5), "d": _state(-3.0, 9.0)}
    inputs = InterpolationInputs(names=list(candidates), states=list(candidates.values()), pretrained=_state(0, 0),
                                 evaluate=accuracy)
    souped = greedy_soup(inputs)
    # by hand: start with c (95); + a: mean (0.5, 1.25) -> 92.5 < 95, refused; + b: mean (2, 1.25)
    # -> 87.5, refused; + d: refused. So the soup is c alone
    assert inputs.chosen == ["c"] and torch.equal(souped["w"], torch.tensor([1.0, 1.5]))
    assert inputs.notes["held-out top1 c"] == 95.0 and inputs.notes["held-out top1 greedy soup"] == 95.0

    candidates = {"a": _state(0.5, 1.0), "b": _state(1.5, 1.0), "c": _state(1.0, 2.0)}
    inputs = InterpolationInputs(list(candidates), list(candidates.values()), _state(0, 0), evaluate=accuracy)
    souped = greedy_soup(inputs)
    # by hand: a and b score 95, c 90; start with a (the first of the tie); + b: mean (1, 1) -> 100
    # kept; + c: mean (1, 4/3) -> 96.67 < 100, refused
    assert inputs.chosen == ["a", "b"] and torch.allclose(souped["w"], torch.tensor([1.0, 1.0]))


def test_greedy_soup_keeps_a_candidate_that_ties():
    """The paper's Algorithm 1 keeps an ingredient when the held-out accuracy does not drop (>=)."""
    inputs = InterpolationInputs(["a", "b"], [_state(1.0), _state(3.0)], _state(0.0), evaluate=lambda state: 50.0)
    souped = greedy_soup(inputs)
    assert inputs.chosen == ["a", "b"] and torch.equal(souped["w"], torch.tensor([2.0]))


def test_model_stock_with_two_fine_tunes_is_the_papers_formula():
    pretrained = _state(0.0, 0.0, buffer=7)
    first, second = _state(1.0, 0.0, buffer=3), _state(1.0, 1.0, buffer=5)
    merged, ratios = model_stock(pretrained, [first, second])
    cos = 1 / math.sqrt(2)  # between the updates (1, 0) and (1, 1)
    t = 2 * cos / (1 + cos)
    assert ratios["w"] == pytest.approx(t)
    torch.testing.assert_close(merged["w"], torch.tensor([t * 1.0, t * 0.5]))  # t * mean + (1 - t) * 0
    assert int(merged["count"]) == 3  # an integer buffer: the first fine-tune's


def test_model_stock_with_three_averages_the_pairwise_angles():
    pretrained = _state(1.0, 1.0)
    tuned = [_state(2.0, 1.0), _state(1.0, 2.0), _state(2.0, 2.0)]  # updates (1,0), (0,1), (1,1)
    merged, ratios = model_stock(pretrained, tuned)
    cos = (0.0 + 1 / math.sqrt(2) + 1 / math.sqrt(2)) / 3
    t = 3 * cos / (1 + 2 * cos)
    average = torch.tensor([5 / 3, 5 / 3])
    torch.testing.assert_close(merged["w"], t * average + (1 - t) * torch.tensor([1.0, 1.0]))
    assert ratios["w"] == pytest.approx(t)


def test_model_stock_leaves_untrained_and_opposed_tensors_pretrained():
    pretrained = {"frozen": torch.tensor([2.0, 2.0]), "opposed": torch.tensor([0.0, 0.0])}
    tuned = [{"frozen": torch.tensor([2.0, 2.0]), "opposed": torch.tensor([1.0, 0.0])},
             {"frozen": torch.tensor([2.0, 2.0]), "opposed": torch.tensor([-1.0, 0.0])}]
    merged, ratios = model_stock(pretrained, tuned)
    assert ratios == {"frozen": 0.0, "opposed": 0.0}  # a zero update; a cosine of -1, clipped to 0
    assert torch.equal(merged["frozen"], pretrained["frozen"]) and torch.equal(merged["opposed"], pretrained["opposed"])
    with pytest.raises(RibrayError, match="at least two fine-tunes"):
        model_stock(pretrained, tuned[:1])
