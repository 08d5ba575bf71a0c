"""The plan: a pure function of the spec (and of the plugins it names). Every trial, its
dependencies, its hashed id, in the order the searcher should hand them out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ribray.plan.trial import ModelRef, Trial, kinds_in_order

if TYPE_CHECKING:
    from ribray.spec import Spec


@dataclass(frozen=True)
class Plan:
    """Trials in the order they should be handed out (dependencies first)."""

    spec_hash: str
    trials: tuple[Trial, ...]

    def by_id(self) -> dict[str, Trial]:
        return {t.trial_id: t for t in self.trials}

    def __len__(self) -> int:
        return len(self.trials)


def model_refs(spec: Spec) -> list[ModelRef]:
    """The spec's models as trials name them (a label only where it is not the name)."""
    return [ModelRef(m.name, m.pretrained, m.checkpoint, m.resolved_label if m.resolved_label != m.name else None)
            for m in spec.models]


def make_plan(spec: Spec) -> Plan:
    """Every trial of the sweep: each registered kind's `plan` for each model, phase by phase
    (every model's pretrained evaluation, then each model's grid, then each model's analyses);
    a trial planned twice (the same id) is kept once, where it came first."""
    spec.activate()
    trials: dict[str, Trial] = {}
    by_model: dict[ModelRef, list[Trial]] = {}
    for kind, model in _planning_order(model_refs(spec)):
        planned = by_model.setdefault(model, [])
        for trial in kind.plan(spec, model, tuple(planned)):
            if trial.trial_id not in trials:
                trials[trial.trial_id] = trial
                planned.append(trial)
    return Plan(spec_hash=spec.spec_hash(), trials=tuple(trials.values()))


def _planning_order(models: list[ModelRef]) -> Iterator[tuple[type[Trial], ModelRef]]:
    """(kind, model) in plan order: by phase, then model by model, then kind by kind."""
    kinds = kinds_in_order()
    for phase in dict.fromkeys(kind.phase for kind in kinds):
        for model in models:
            yield from ((kind, model) for kind in kinds if kind.phase == phase)
