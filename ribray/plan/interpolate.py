"""Combine finished weights of one cell without training (WiSE-FT per alpha, a soup), then
evaluate; it runs as soon as the fine-tunes it reads are done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ribray.options import TrainSubset
from ribray.plan.pretrained import _model, eval_images
from ribray.plan.trial import ModelRef, Phase, Trial, Work, _coerce, register_kind, subset_identity, trial_label

if TYPE_CHECKING:
    from ribray.interpolations import Interpolation, InterpolationOptions
    from ribray.spec import Spec


@register_kind
@dataclass(frozen=True, kw_only=True)
class InterpolateTrial(Trial):
    kind = "interpolate"
    phase = Phase.GRID
    reported = True
    early = True
    interpolates = True
    alpha: float | None = None
    ingredients: tuple[str, ...] = ()
    weights: dict[str, str | None] | None = None  # ingredient -> weights key (None: pretrained)
    train_subset: TrainSubset = TrainSubset()
    eval_sets: tuple[str, ...] = ()
    options: InterpolationOptions | None = None  # the interpolation's typed options (None: ribray 0.1's configs)

    @classmethod
    def plan(cls, spec: Spec, model: ModelRef, planned: Sequence[Trial]) -> list[Trial]:
        """Nothing of its own: interpolations are planned with the fine-tunes they read, cell by
        cell (`FinetuneTrial.plan`, `plan/grid.py`)."""
        return []

    def _coerce_fields(self) -> None:
        from ribray.interpolations import INTERPOLATIONS

        if isinstance(self.options, dict):
            object.__setattr__(self, "options", INTERPOLATIONS.get(self.method).Options.model_validate(self.options))
        _coerce(self, "ingredients", tuple, when=list)
        _coerce(self, "train_subset", TrainSubset.model_validate)
        _coerce(self, "eval_sets", tuple, when=list)

    def identity(self) -> dict[str, Any]:
        identity = {"model": _model(self), "downstream": self.downstream, "seed": self.seed,
                    **subset_identity(self.train_subset), "method": self.method, "alpha": self.alpha,
                    "ingredients": list(self.ingredients), "weights": dict(self.weights or {}),
                    "eval_sets": list(self.eval_sets)}
        extra = self.interpolation().identity_options() if self.options is not None else {}
        return identity | ({"options": extra} if extra else {})  # WiSE-FT's and soups' ids as before

    def interpolation(self) -> Interpolation:
        """The registered interpolation with this trial's options."""
        from ribray.interpolations import INTERPOLATIONS

        cls = INTERPOLATIONS.get(self.method)
        return cls(self.options if self.options is not None else cls.Options())

    @property
    def label(self) -> str:
        return trial_label(self.model.shown, self.method_label, downstream=self.downstream,
                           seed=self.seed, train_subset=self.train_subset.label())

    def weights_read(self) -> list[str]:
        return [key for key in (self.weights or {}).values() if key]

    def registry_names(self) -> dict[str, list[str]]:
        held_out = self.interpolation().held_out() if self.options is not None else None
        sets = dict.fromkeys([self.downstream, *self.eval_sets, *([held_out.dataset] if held_out else [])])
        return {"interpolation": [self.method], "model": [self.model.name], "dataset": list(sets)}

    def work(self) -> Work:
        return Work(eval_images=eval_images(self.eval_sets, self.evaluation.limit_per_set))

    def row_fields(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "ingredients": ",".join(self.ingredients) or None,
                "train_subset": self.train_subset.label()}
