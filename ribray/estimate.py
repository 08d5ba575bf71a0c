"""GPU-hour estimates for a plan, from measured images/second (ribray/throughput.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ribray.plan import Plan, Trial


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
    """Training passes over the downstream set plus one pass over every eval set."""
    from ribray.data import get_dataset

    seconds = sum(get_dataset(s).expected_images for s in trial.config.get("eval_sets", [])) \
        / throughput.rate(trial.model, "eval")
    if trial.kind == "finetune":
        epochs = trial.config["train"]["epochs"]
        images = get_dataset(trial.downstream).expected_images
        seconds += epochs * images / throughput.rate(trial.model, "train")
    return seconds / 3600


def plan_hours(plan: Plan, throughput: Throughput) -> dict[str, float]:
    return {t.trial_id: trial_hours(t, throughput) for t in plan.trials}
