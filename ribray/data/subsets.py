"""Dataset-size subsets for the paper's dataset-size study: K images per class or a fraction.

Subsets are class-balanced, deterministic per seed and nested: each class gets its own
seeded permutation and a subset takes a prefix of it, so the 2-shot subset contains the
1-shot one and a 0.2 fraction contains the 0.1 fraction (same seed, same labels).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ribray.errors import RibrayError


class SubsetTooLargeError(RibrayError):
    """More shots per class were asked for than the smallest class has images.

    `label` and `size` name that class so a caller can say which one is short."""

    def __init__(self, shots_per_class: int, label: int, size: int):
        self.shots_per_class, self.label, self.size = shots_per_class, label, size
        super().__init__(
            f"shots_per_class={shots_per_class} is more than class {label} has "
            f"({size} images, the smallest class); use at most {size} shots per class "
            f"or a fraction instead")


def describe_subset(shots_per_class: int | None = None, fraction: float | None = None) -> str:
    """The `train_subset` column value: 'all', 'shots=4' or 'fraction=0.1'."""
    _check_request(shots_per_class, fraction)
    if shots_per_class is not None:
        return f"shots={shots_per_class}"
    if fraction is not None:
        return f"fraction={fraction:g}"
    return "all"


def select_subset(labels: Sequence[int], seed: int, shots_per_class: int | None = None,
                  fraction: float | None = None) -> list[int]:
    """Sorted indices into `labels` of a class-balanced subset; all indices when neither
    `shots_per_class` nor `fraction` is given (giving both is an error).

    - shots_per_class=K: K images of every class. K larger than the smallest class raises
      SubsetTooLargeError (naming that class and its size) rather than silently clamping:
      a clamped "K-shot" run would duplicate a smaller K's run under another name.
    - fraction=f (0 < f <= 1): per class, floor(f * class_size + 0.5) images (round half
      up), at least 1, so every class stays present.

    Each class c is shuffled by a generator seeded with (seed, c), so one class's subset
    does not depend on which other classes exist, and a subset is a prefix per class
    (hence nested across K or f for the same seed)."""
    _check_request(shots_per_class, fraction)
    by_class = _indices_by_class(labels)
    if shots_per_class is None and fraction is None:
        return list(range(len(labels)))
    if shots_per_class is not None:
        _check_shots_fit(by_class, shots_per_class)
    chosen: list[int] = []
    for label, indices in by_class.items():
        count = _count_for_class(len(indices), shots_per_class, fraction)
        chosen.extend(_class_permutation(indices, seed, label)[:count])
    return sorted(chosen)


def balanced_indices(labels: Sequence[int], total: int, seed: int) -> list[int]:
    """Sorted indices of at most `total` images, the same number from every class: total //
    classes each (at least 1; a smaller class gives all it has), drawn by the same per-class
    seeded permutation as `select_subset`."""
    if total < 1:
        raise RibrayError(f"total must be at least 1, got {total}")
    by_class = _indices_by_class(labels)
    per_class = max(1, total // max(1, len(by_class)))
    chosen: list[int] = []
    for label, indices in by_class.items():
        chosen.extend(_class_permutation(indices, seed, label)[:per_class])
    return sorted(chosen)


def smallest_class(labels: Sequence[int]) -> tuple[int, int]:
    """(label, size) of the class with the fewest images (lowest label on ties)."""
    return _smallest(_indices_by_class(labels))


def _check_request(shots_per_class: int | None, fraction: float | None) -> None:
    if shots_per_class is not None and fraction is not None:
        raise RibrayError("give shots_per_class or fraction, not both")
    if shots_per_class is not None and (isinstance(shots_per_class, bool)
                                        or int(shots_per_class) != shots_per_class
                                        or shots_per_class < 1):
        raise RibrayError(f"shots_per_class must be a positive integer, got {shots_per_class!r}")
    if fraction is not None and not 0.0 < fraction <= 1.0:
        raise RibrayError(f"fraction must be in (0, 1], got {fraction!r}")


def _indices_by_class(labels: Sequence[int]) -> dict[int, list[int]]:
    by_class: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_class[int(label)].append(index)
    return dict(sorted(by_class.items()))


def _smallest(by_class: dict[int, list[int]]) -> tuple[int, int]:
    if not by_class:
        raise RibrayError("no labels: the dataset is empty")
    label = min(by_class, key=lambda c: (len(by_class[c]), c))
    return label, len(by_class[label])


def _check_shots_fit(by_class: dict[int, list[int]], shots_per_class: int) -> None:
    label, size = _smallest(by_class)
    if shots_per_class > size:
        raise SubsetTooLargeError(shots_per_class, label, size)


def _count_for_class(size: int, shots_per_class: int | None, fraction: float | None) -> int:
    if shots_per_class is not None:
        return shots_per_class
    return min(size, max(1, math.floor(fraction * size + 0.5)))


def _class_permutation(indices: list[int], seed: int, label: int) -> list[int]:
    # SeedSequence takes non-negative ints; offsetting keeps negative labels/seeds usable.
    rng = np.random.default_rng([_non_negative(seed), _non_negative(label)])
    return [indices[i] for i in rng.permutation(len(indices))]


def _non_negative(value: int) -> int:
    return 2 * value if value >= 0 else -2 * value - 1
