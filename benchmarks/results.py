"""What a measurement returns: named numbers, and ratios checked against their targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Check:
    """One ratio against its target (issue 8 / DESIGN.md)."""

    name: str
    value: float | None  # None: not measured (the reason is in `note`)
    target: float | None  # None: reported only
    at_least: bool = True  # True: passes when value >= target; False: when value <= target
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.at_least else self.value <= self.target

    def to_dict(self) -> dict:
        return asdict(self) | {"op": ">=" if self.at_least else "<=", "passed": self.passed}


@dataclass
class Section:
    """One measurement's findings: images/s, seconds, and its checks."""

    name: str
    numbers: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"numbers": self.numbers, "checks": [c.to_dict() for c in self.checks]}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either was not measured."""
    if not numerator or not denominator:
        return None
    return numerator / denominator
