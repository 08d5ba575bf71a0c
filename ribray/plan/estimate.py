"""GPU-hour estimates for a plan, from measured images/second (ribray/throughput.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ribray.plan.make import Plan
from ribray.plan.trial import Trial


@dataclass(frozen=True)
class Throughput:
    device: str
    default: dict[str, float]
    models: dict[str, dict[str, float]]

    def rate(self, model: str, phase: str) -> float:
        return self.models.get(model, self.default).get(phase, self.default[phase])


def load_throughput(path: str | Path | None = None) -> Throughput:
    """The packaged table, or a file written by the benchmark."""
    text = Path(path).read_text() if path else \
        resources.files("ribray").joinpath("throughput.json").read_text()
    raw = json.loads(text)
    return Throughput(raw.get("device", "unknown"), raw["default"], raw.get("models", {}))


def trial_hours(trial: Trial, throughput: Throughput) -> float:
    """Training passes over the training images plus the images the trial evaluates."""
    work = trial.work()
    seconds = work.train_images / throughput.rate(trial.model.name, "train") if work.train_images else 0.0
    return (seconds + work.eval_images / throughput.rate(trial.model.name, "eval")) / 3600


def plan_hours(plan: Plan, throughput: Throughput) -> dict[str, float]:
    return {t.trial_id: trial_hours(t, throughput) for t in plan.trials}
