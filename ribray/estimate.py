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

    evaluated = sum(get_dataset(s).expected_images for s in trial.config.get("eval_sets", []))
    if trial.kind == "finetune":
        epochs = trial.config["train"]["epochs"]
        seconds = epochs * _train_images(trial) / throughput.rate(trial.model, "train")
        curves = trial.config.get("curves")
        if curves:  # before training and after every epoch
            evaluated += (epochs + 1) * sum(min(get_dataset(s).expected_images, curves["limit_per_set"] or 10**9)
                                            for s in curves["eval_sets"])
    else:
        seconds = 0.0
    return (seconds + evaluated / throughput.rate(trial.model, "eval")) / 3600


def _train_images(trial: Trial) -> float:
    """The downstream set's size, or of the subset the trial trains on."""
    from ribray.data import get_dataset

    entry = get_dataset(trial.downstream)
    subset = trial.config.get("subset") or {}
    if subset.get("shots_per_class"):
        return min(entry.expected_images, subset["shots_per_class"] * entry.num_classes)
    return entry.expected_images * (subset.get("fraction") or 1.0)


def plan_hours(plan: Plan, throughput: Throughput) -> dict[str, float]:
    return {t.trial_id: trial_hours(t, throughput) for t in plan.trials}
