"""Robustness improvement, exactly as DESIGN.md defines it, and statistics over seeds.

For a model fine-tuned on downstream set i, with n downstream sets in the sweep:
    RI_i = 1/(n-1) * sum_{j != i} (A_i^(j) - A_pre^(j))
and mRI is the mean of RI_i over i. A missing term makes the value missing (NaN): never an
average over fewer sets.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

NAN = float("nan")


def robustness_improvement(accuracy: Mapping[str, float], pretrained: Mapping[str, float],
                           downstream: Sequence[str], fine_tuned_on: str) -> float:
    """RI of a model fine-tuned on `fine_tuned_on`: its mean accuracy change, against the
    pretrained model, on the other downstream sets. NaN if any term is missing or n < 2."""
    others = [j for j in downstream if j != fine_tuned_on]
    if fine_tuned_on not in downstream or not others:
        return NAN
    terms = [accuracy.get(j, NAN) - pretrained.get(j, NAN) for j in others]
    return sum(terms) / len(others)  # len(others) == n - 1; NaN propagates through the sum


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
