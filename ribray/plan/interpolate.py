"""Combine finished weights of one cell without training (WiSE-FT per alpha, a soup), then
evaluate; it runs as soon as the fine-tunes it reads are done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ribray.options import TrainSubset
from ribray.plan.pretrained import _model, eval_images
from ribray.plan.trial import Trial, Work, _coerce, register_kind, subset_identity, trial_label


@register_kind
@dataclass(frozen=True, kw_only=True)
class InterpolateTrial(Trial):
    kind = "interpolate"
    early = True
    alpha: float | None = None
    ingredients: tuple[str, ...] = ()
    weights: dict[str, str | None] | None = None  # ingredient -> weights key (None: pretrained)
    train_subset: TrainSubset = TrainSubset()
    eval_sets: tuple[str, ...] = ()

    def _coerce_fields(self) -> None:
        _coerce(self, "ingredients", tuple, when=list)
        _coerce(self, "train_subset", TrainSubset.model_validate)
        _coerce(self, "eval_sets", tuple, when=list)

    def identity(self) -> dict[str, Any]:
        return {"model": _model(self), "downstream": self.downstream, "seed": self.seed,
                **subset_identity(self.train_subset), "method": self.method, "alpha": self.alpha,
                "ingredients": list(self.ingredients), "weights": dict(self.weights or {}),
                "eval_sets": list(self.eval_sets)}

    @property
    def label(self) -> str:
        return trial_label(self.model.name, self.method, alpha=self.alpha, downstream=self.downstream,
                           seed=self.seed, train_subset=self.train_subset.label())

    def work(self) -> Work:
        return Work(eval_images=eval_images(self.eval_sets, self.evaluation.limit_per_set))

    def row_fields(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "ingredients": ",".join(self.ingredients) or None,
                "train_subset": self.train_subset.label()}
