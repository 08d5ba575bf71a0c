"""Evaluate the pretrained model itself: the reference A_pre of every RI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ribray.options import PRETRAINED
from ribray.plan.trial import ModelRef, Phase, Trial, Work, _coerce, register_kind

if TYPE_CHECKING:
    from ribray.spec import Spec


def eval_images(eval_sets: Sequence[str], limit: int | None = None, passes: int = 1) -> dict[str, float]:
    """Images read from each of `eval_sets` (the real sets' sizes, or at most `limit` each)."""
    from ribray.data import get_dataset

    return {s: float(passes * min(get_dataset(s).expected_images, limit or 10**12)) for s in eval_sets}


@register_kind
@dataclass(frozen=True, kw_only=True)
class PretrainedTrial(Trial):
    kind = PRETRAINED
    phase = Phase.REFERENCE
    reported = True
    method: str = PRETRAINED
    eval_sets: tuple[str, ...] = ()

    @classmethod
    def plan(cls, spec: Spec, model: ModelRef, planned: Sequence[Trial]) -> list[Trial]:
        """One per model: its accuracy on every eval set, before any fine-tuning."""
        return [cls(model=model, eval_sets=tuple(spec.resolved_eval_sets()), evaluation=spec.evaluation())]

    def _coerce_fields(self) -> None:
        _coerce(self, "eval_sets", tuple, when=list)

    def identity(self) -> dict[str, Any]:
        return {"model": _model(self), "eval_sets": list(self.eval_sets)}

    def work(self) -> Work:
        return Work(eval_images=eval_images(self.eval_sets, self.evaluation.limit_per_set))

    def registry_names(self) -> dict[str, list[str]]:
        return {"model": [self.model.name], "dataset": list(self.eval_sets)}


def _model(trial: Trial) -> dict[str, Any]:
    return {"name": trial.model.name, "pretrained": trial.model.pretrained,
            "checkpoint": trial.model.checkpoint}
