"""Scoring: logit masking, ObjectNet's grouped max, ImageNet-C's mean of means."""

from __future__ import annotations

import pytest
import torch
from reference_code import REFERENCE_MASK, REUSED

from ribray.data import DATASETS, get_dataset
from ribray.data.tensors.scoring import LabelProjector
from ribray.errors import DataError


def test_all_1000_classes_in_order_is_the_identity():
    logits = torch.randn(4, 1000)
    projected = LabelProjector(get_dataset("imagenet_val").class_indices())(logits)
    assert projected is logits


@pytest.mark.parametrize("name", ["imagenet_a", "imagenet_r"])
def test_masking_keeps_exactly_the_sets_200_logits(name):
    indices = [g[0] for g in get_dataset(name).class_indices()]
    logits = torch.randn(5, 1000)
    projected = LabelProjector(get_dataset(name).class_indices())(logits)
    assert projected.shape == (5, 200)
    assert torch.equal(projected, logits[:, indices])
    # a huge logit outside the set cannot win; inside it, it wins at its masked position
    outside = next(i for i in range(1000) if i not in indices)
    logits[:, outside] = 1e4
    logits[0, indices[7]] = 1e3
    assert LabelProjector(get_dataset(name).class_indices())(logits).argmax(1)[0] == 7


def test_objectnet_projection_is_the_max_over_each_group_hand_computed():
    groups = [(3, 7), (5,), (0, 1, 2)]
    logits = torch.tensor([[0.1, 0.9, 0.3, 2.0, 0.0, 1.5, 0.0, -1.0],
                           [5.0, 0.0, 0.0, -2.0, 0.0, 0.5, 0.0, 3.0]])
    expected = torch.tensor([[2.0, 1.5, 0.9],
                             [3.0, 0.5, 5.0]])
    assert torch.equal(LabelProjector(groups)(logits), expected)


def test_objectnet_prediction_uses_its_best_imagenet_class():
    entry = get_dataset("objectnet")
    groups = entry.class_indices()
    label = entry.wnids().index("alarm_clock")
    logits = torch.zeros(1, 1000)
    logits[0, 530] = 9.0  # digital clock: the second ImageNet class of "Alarm clock"
    assert LabelProjector(groups)(logits).argmax(1).item() == label
    # the reference scoring keeps only analog clock (409), so it misses this one
    reference = LabelProjector(get_dataset("objectnet_reference").class_indices())(logits)
    assert reference.shape == (1, 113) and reference.max().item() == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_projection_keeps_dtype(dtype):
    for name in ("imagenet_r", "objectnet"):
        projector = LabelProjector(get_dataset(name).class_indices())
        out = projector(torch.randn(2, 1000).to(dtype))
        assert out.dtype == dtype and out.shape == (2, get_dataset(name).num_classes)


def test_projector_moves_with_the_model():
    projector = LabelProjector(get_dataset("objectnet").class_indices()).to("meta")
    assert projector.index.device.type == "meta"


def test_imagenet_c_accuracy_is_the_mean_over_corruptions_of_the_mean_over_severities():
    counts = {"gaussian_noise/1": (90, 100), "gaussian_noise/2": (50, 100),  # mean 70
              "fog/1": (10, 10), "fog/3": (30, 40), "fog/5": (0, 1000)}      # mean (100+75+0)/3
    top1, parts = get_dataset("imagenet_c").accuracy(counts)
    assert top1 == pytest.approx((70 + 175 / 3) / 2)
    assert parts == {"gaussian_noise/1": 90.0, "gaussian_noise/2": 50.0, "fog/1": 100.0,
                     "fog/3": 75.0, "fog/5": 0.0}
    pooled = 100 * (90 + 50 + 10 + 30) / (100 + 100 + 10 + 40 + 1000)
    assert top1 != pytest.approx(pooled)


def test_other_sets_pool_over_images():
    top1, parts = get_dataset("imagenet_r").accuracy({"": (30, 40)})
    assert top1 == 75.0 and parts == {}


@pytest.mark.parametrize("name", DATASETS.names())
def test_accuracy_of_nothing_is_an_error(name):
    with pytest.raises(DataError, match="no images"):
        get_dataset(name).accuracy({})



def test_objectnet_reference_scores_like_the_reference_code_with_its_bug_fixed():
    from ribray.data.objectnet import objectnet_classes

    entry = get_dataset("objectnet_reference")
    classes = entry.wnids()
    ids = {folder: group[0] for folder, group in zip(classes, entry.class_indices(), strict=True)}
    assert len(set(ids.values())) == 113  # one logit per class, none shared
    assert set(REFERENCE_MASK) < set(ids.values())  # every logit the reference scores by...
    fixed = {folder: ids[folder] for folder in REUSED}  # ...and the 8 it lost to its bug
    assert set(ids.values()) - set(REFERENCE_MASK) == set(fixed.values())
    assert fixed == {f: objectnet_classes()[f]["imagenet"][0] for f in REUSED}  # their own, not reused
    assert ids["wheel"] == 694  # the reference's choice: paddlewheel, not car wheel (479)
    for folder, wrong in REUSED.items():
        assert wrong in ids.values() and ids[folder] != wrong  # the reused index is another class's


def test_the_three_objectnet_scorings_differ_where_they_should():
    """Images of "Wheel" whose best logit is car wheel (479), and of "Weight scale" whose best is
    scale (778): the 113-way max gets both, the reference's one-class choice (bug fixed) gets the
    scale only, and the reference's own mask (105 logits, scale reused as 732) gets neither."""
    entry = get_dataset("objectnet")
    classes = entry.wnids()
    label = {folder: i for i, folder in enumerate(classes)}
    logits = torch.zeros(2, 1000)
    logits[0, 479], logits[1, 778] = 5.0, 5.0
    truth = torch.tensor([label["wheel"], label["weight_scale"]])

    def correct(groups) -> list[bool]:
        return (LabelProjector(groups)(logits).argmax(1) == truth).tolist()

    assert correct(entry.class_indices()) == [True, True]
    assert correct(get_dataset("objectnet_reference").class_indices()) == [False, True]
    buggy = [(REUSED[f],) if f in REUSED else group for f, group in
             zip(classes, get_dataset("objectnet_reference").class_indices(), strict=True)]
    assert correct(buggy) == [False, False]
