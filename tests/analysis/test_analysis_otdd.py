"""OTDD: Bures label distances checked against scipy, and the behaviour of the distance."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ribray.analysis import class_gaussians, label_distances, otdd, subsample_per_class
from ribray.errors import RibrayError

CENTERS = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])


def _blobs(per_class=40, seed=0, dim=2):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(len(CENTERS)).repeat_interleave(per_class)
    centers = torch.nn.functional.pad(CENTERS, (0, dim - 2))
    return centers[labels] + torch.randn(len(labels), dim, generator=generator), labels


def _scipy_w2_squared(xa, xb, ridge):
    def cov(x):
        return np.cov(x.T, ddof=1) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))

    sa, sb = cov(xa) + ridge * np.eye(xa.shape[1]), cov(xb) + ridge * np.eye(xa.shape[1])
    root = scipy.linalg.sqrtm(sa)
    cross = np.trace(scipy.linalg.sqrtm(root @ sb @ root)).real
    return ((xa.mean(0) - xb.mean(0)) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * cross


@pytest.mark.parametrize("dim, per_class", [(16, 3), (4, 10), (16, 1)])
def test_label_distances_match_the_bures_formula(dim, per_class):
    """Low-rank classes (fewer examples than dimensions), full-rank ones, and singletons."""
    generator = torch.Generator().manual_seed(dim + per_class)
    xa = torch.randn(2 * per_class, dim, generator=generator, dtype=torch.float64)
    xb = 2 * torch.randn(2 * per_class + 1, dim, generator=generator, dtype=torch.float64) + 1
    ya = torch.tensor([0] * per_class + [1] * per_class)
    yb = torch.tensor([3] * (per_class + 1) + [7] * per_class)
    distances = label_distances(class_gaussians(xa, ya), class_gaussians(xb, yb), ridge=1e-3)
    expected = [[_scipy_w2_squared(xa[ya == i].numpy(), xb[yb == j].numpy(), 1e-3) for j in (3, 7)]
                for i in (0, 1)]
    np.testing.assert_allclose(distances.numpy(), expected, rtol=1e-8, atol=1e-9)


def test_one_dimensional_gaussians_have_the_closed_form_distance():
    xa = torch.tensor([[0.0], [2.0]])  # mean 1, std sqrt(2)
    xb = torch.tensor([[5.0], [5.0], [11.0], [11.0]])  # mean 8, std sqrt(12)
    labels_a, labels_b = torch.zeros(2, dtype=torch.long), torch.zeros(4, dtype=torch.long)
    distance = label_distances(class_gaussians(xa, labels_a), class_gaussians(xb, labels_b), ridge=0.0)
    assert float(distance) == pytest.approx(49 + (2**0.5 - 12**0.5) ** 2)


def test_a_dataset_is_at_distance_zero_from_itself():
    features, labels = _blobs()
    assert otdd(features, labels, features, labels) == pytest.approx(0.0, abs=1e-8)


def test_relabelling_points_across_distant_classes_increases_the_distance():
    """Features stay put; only labels move between two far-apart blobs, so the class
    Gaussians become mixtures and the label term of the cost grows with the swapped share."""
    features, labels = _blobs()
    distances = []
    for share in (0.0, 0.25, 0.5):
        swapped = labels.clone()
        count = int(share * 40)
        swapped[:count], swapped[40:40 + count] = 1, 0  # blob 0 <-> blob 1
        distances.append(otdd(features, labels, features, swapped))
    assert distances[0] == pytest.approx(0.0, abs=1e-8)
    assert distances[0] < distances[1] < distances[2]
    assert distances[2] > 50  # blobs 20 apart: a mixture's variance is ~100 per class
    # Renaming classes is not relabelling: OTDD compares classes by their features only.
    renamed = torch.tensor([2, 0, 1])[labels]
    assert otdd(features, labels, features, renamed) == pytest.approx(0.0, abs=1e-8)
    assert otdd(features, labels, features, swapped, label_weight=0.0) == pytest.approx(0.0, abs=1e-8)


def test_distance_is_symmetric_and_grows_with_a_shift():
    features_a, labels_a = _blobs(seed=1)
    features_b, labels_b = _blobs(per_class=30, seed=2)
    forward = otdd(features_a, labels_a, features_b, labels_b)
    assert otdd(features_b, labels_b, features_a, labels_a) == pytest.approx(forward, rel=1e-9)
    shifted = [otdd(features_a, labels_a, features_b + torch.tensor([s, 0.0]), labels_b) for s in (1.0, 3.0)]
    assert forward > 0 and forward < shifted[0] < shifted[1]
    # a shift of s moves both points and class means: cost ~ s^2 + s^2 on top of the noise
    assert shifted[1] - forward == pytest.approx(2 * 9.0, rel=0.25)


def test_sinkhorn_is_close_to_exact_and_unknown_method_fails():
    features_a, labels_a = _blobs(seed=1)
    features_b, labels_b = _blobs(seed=2)
    exact = otdd(features_a, labels_a, features_b + 2, labels_b)
    entropic = otdd(features_a, labels_a, features_b + 2, labels_b, method="sinkhorn", reg=0.05)
    assert entropic == pytest.approx(exact, rel=0.05)
    assert entropic >= exact - 1e-9  # the entropic coupling is feasible, so never cheaper
    with pytest.raises(RibrayError, match="unknown OTDD method"):
        otdd(features_a, labels_a, features_b, labels_b, method="emd")


def test_subsampling_is_class_balanced_deterministic_and_bounded():
    features, labels = _blobs(per_class=100, dim=8)
    small, small_labels = subsample_per_class(features, labels, 60, seed=0)
    assert small.shape == (60, 8)
    assert torch.bincount(small_labels).tolist() == [20, 20, 20]
    again, _ = subsample_per_class(features, labels, 60, seed=0)
    other, _ = subsample_per_class(features, labels, 60, seed=1)
    assert torch.equal(small, again) and not torch.equal(small, other)
    full = otdd(features, labels, features + 1, labels, max_samples=None)
    assert otdd(features, labels, features + 1, labels, max_samples=150) == pytest.approx(full, rel=0.2)


def test_mismatched_inputs_fail_clearly():
    features, labels = _blobs()
    with pytest.raises(RibrayError, match="feature sizes differ"):
        otdd(features, labels, torch.randn(10, 3), torch.zeros(10, dtype=torch.long))
    with pytest.raises(RibrayError, match="same, non-zero number"):
        otdd(features, labels[:5], features, labels)
