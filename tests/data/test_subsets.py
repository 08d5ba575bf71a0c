"""Dataset-size subsets: class-balanced, deterministic per seed, nested across sizes."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from ribray.data.subsets import (
    SubsetTooLargeError,
    describe_subset,
    select_subset,
    smallest_class,
)
from ribray.errors import RibrayError

# Classes 0, 1, 2, 5 with 10, 20, 12 and 5 images, interleaved.
LABELS = [i % 3 for i in range(30)] + [1] * 10 + [2] * 2 + [5] * 5
SIZES = Counter(LABELS)


def _classes(indices):
    return Counter(LABELS[i] for i in indices)


def test_shots_take_k_of_every_class_sorted_and_unique():
    subset = select_subset(LABELS, seed=0, shots_per_class=4)
    assert subset == sorted(set(subset))
    assert _classes(subset) == {label: 4 for label in SIZES}


def test_same_seed_same_subset_other_seed_other_subset():
    assert select_subset(LABELS, 3, shots_per_class=2) == select_subset(LABELS, 3, shots_per_class=2)
    assert select_subset(LABELS, 3, shots_per_class=2) != select_subset(LABELS, 4, shots_per_class=2)


def test_subsets_are_nested_across_shots_and_fractions():
    for seed in range(3):
        by_shots = [set(select_subset(LABELS, seed, shots_per_class=k)) for k in (1, 2, 4, 5)]
        by_fraction = [set(select_subset(LABELS, seed, fraction=f)) for f in (0.1, 0.2, 0.5, 1.0)]
        for small, large in itertools.pairwise(by_shots):
            assert small < large
        for small, large in itertools.pairwise(by_fraction):
            assert small <= large
        assert by_fraction[-1] == set(range(len(LABELS)))


def test_fraction_rounds_half_up_per_class_with_at_least_one():
    subset = select_subset(LABELS, seed=0, fraction=0.1)
    # sizes 10, 20, 12, 5 -> round(1.0), round(2.0), round(1.2), max(1, round(0.5) = 1)
    assert _classes(subset) == {0: 1, 1: 2, 2: 1, 5: 1}
    assert _classes(select_subset(LABELS, seed=0, fraction=0.25)) == {0: 3, 1: 5, 2: 3, 5: 1}


def test_a_class_subset_does_not_depend_on_other_classes():
    only_zero = [label for label in LABELS if label == 0]
    positions = [i for i, label in enumerate(LABELS) if label == 0]
    alone = select_subset(only_zero, seed=7, shots_per_class=3)
    mixed = [i for i in select_subset(LABELS, seed=7, shots_per_class=3) if LABELS[i] == 0]
    assert [positions[i] for i in alone] == mixed


def test_too_many_shots_names_the_smallest_class():
    with pytest.raises(SubsetTooLargeError, match="class 5 has \\(5 images") as caught:
        select_subset(LABELS, seed=0, shots_per_class=6)
    assert (caught.value.label, caught.value.size) == (5, 5)
    assert isinstance(caught.value, RibrayError)
    assert smallest_class(LABELS) == (5, 5)


def test_no_size_means_everything_and_bad_requests_fail():
    assert select_subset(LABELS, seed=0) == list(range(len(LABELS)))
    for kwargs in ({"shots_per_class": 2, "fraction": 0.5}, {"shots_per_class": 0},
                   {"fraction": 0.0}, {"fraction": 1.5}):
        with pytest.raises(RibrayError):
            select_subset(LABELS, seed=0, **kwargs)


def test_describe_subset_column_values():
    assert describe_subset() == "all"
    assert describe_subset(shots_per_class=4) == "shots=4"
    assert describe_subset(fraction=0.1) == "fraction=0.1"
    with pytest.raises(RibrayError):
        describe_subset(4, 0.1)
