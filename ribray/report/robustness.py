"""Robustness improvement, exactly as the paper (and DESIGN.md) defines it, and statistics
over seeds.

The out-of-distribution sets are the n ImageNet-RIB sets (V2, A, R, Sketch, ObjectNet, Cartoon,
Drawing, C; n = 8, or those the sweep evaluates), whatever the sweep fine-tuned on. For a model
fine-tuned on downstream set i, with A_i^(j) its accuracy on set j and A_pre^(j) the
pretrained model's:
    RI_i = 1/(n-1) * sum_{j != i} (A_i^(j) - A_pre^(j))
over the RIB sets other than i; a model fine-tuned on a set that is not one of them (ImageNet-1K
train or val) averages the change over all n. mRI is the mean of RI_i over the downstream
sets. The absolute robustness after fine-tuning is the mean over i of the mean OOD accuracy
A_i^(j) over the same j (= mRI + the pretrained model's mean OOD accuracy). A missing term
makes the value missing (NaN): never an average over fewer sets.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

NAN = float("nan")


def ood_sets(rib_sets: Sequence[str], fine_tuned_on: str) -> list[str]:
    """The sets RI averages over for a model fine-tuned on `fine_tuned_on`: every RIB set but it."""
    return [j for j in rib_sets if j != fine_tuned_on]


def robustness_improvement(accuracy: Mapping[str, float], pretrained: Mapping[str, float],
                           rib_sets: Sequence[str], fine_tuned_on: str) -> float:
    """RI of a model fine-tuned on `fine_tuned_on`: its mean accuracy change, against the
    pretrained model, on the ImageNet-RIB sets other than the one it was fine-tuned on. NaN
    if any term is missing or there is no such set."""
    others = ood_sets(rib_sets, fine_tuned_on)
    if not others:
        return NAN
    terms = [accuracy.get(j, NAN) - pretrained.get(j, NAN) for j in others]
    return sum(terms) / len(others)  # n - 1 terms (n for a set outside RIB); NaN propagates


def ood_accuracy(accuracy: Mapping[str, float], rib_sets: Sequence[str], fine_tuned_on: str | None) -> float:
    """The mean accuracy on the ImageNet-RIB sets other than `fine_tuned_on` (all of them for
    the pretrained model, `fine_tuned_on=None`). NaN if any is missing."""
    return mean_or_nan(accuracy.get(j, NAN) for j in ood_sets(rib_sets, fine_tuned_on))


def mean_or_nan(values: Iterable[float]) -> float:
    """The mean, or NaN when there is nothing to average or any value is missing."""
    values = list(values)
    if not values or any(math.isnan(v) for v in values):
        return NAN
    return math.fsum(values) / len(values)


@dataclass(frozen=True)
class Stat:
    """A value over seeds: one entry per expected seed (NaN where missing), their mean and
    sample standard deviation (ddof=1). Missing if any seed is missing."""

    per_seed: tuple[tuple[int | None, float], ...]

    @classmethod
    def of(cls, values: Mapping[int | None, float]) -> Stat:
        return cls(tuple(values.items()))

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.per_seed]

    @property
    def complete(self) -> bool:
        return bool(self.per_seed) and not any(math.isnan(v) for v in self.values)

    @property
    def present(self) -> int:
        """How many seeds have a value."""
        return sum(not math.isnan(v) for v in self.values)

    @property
    def mean(self) -> float:
        return mean_or_nan(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds; NaN for one seed or a missing one."""
        if not self.complete or len(self.per_seed) < 2:
            return NAN
        return statistics.stdev(self.values)

    def shown(self, digits: int = 2, missing: str = "—") -> str:
        """'mean ± std' (std only with several seeds), or the missing marker."""
        if not self.complete:
            return missing
        text = f"{self.mean:.{digits}f}"
        return text + (f" ± {self.std:.{digits}f}" if len(self.per_seed) > 1 else "")


MISSING = Stat(())


def per_seed_mean(stats: Sequence[Stat], seeds: Sequence[int | None]) -> Stat:
    """For each seed, the mean of that seed's values over `stats` (e.g. mRI from the RI_i)."""
    by_seed = [dict(s.per_seed) for s in stats]
    return Stat.of({seed: mean_or_nan(values.get(seed, NAN) for values in by_seed) for seed in seeds})
