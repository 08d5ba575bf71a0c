"""OTDD between every pair of downstream sets, and from each to ImageNet-1K val, in one
pretrained model's feature space (a trial per model)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ribray.options import OtddOptions
from ribray.plan.pretrained import _model
from ribray.plan.trial import ModelRef, Trial, Work, _coerce, register_kind, trial_label

if TYPE_CHECKING:
    from ribray.spec import Spec

OTDD = "otdd"


@register_kind
@dataclass(frozen=True, kw_only=True)
class OtddTrial(Trial):
    kind = OTDD
    Options = OtddOptions
    sections = ("ribray.report.analyses:otdd_sections",)
    method: str = OTDD
    downstream_sets: tuple[str, ...] = ()
    reference_set: str | None = "imagenet_val"
    otdd: OtddOptions = OtddOptions()

    def _coerce_fields(self) -> None:
        _coerce(self, "downstream_sets", tuple, when=list)
        _coerce(self, "otdd", OtddOptions.model_validate)

    def identity(self) -> dict[str, Any]:
        return {"model": _model(self), "downstream_sets": list(self.downstream_sets),
                "reference_set": self.reference_set, "otdd": self.otdd.model_dump(mode="json")}

    @property
    def label(self) -> str:
        return trial_label(self.model.shown, OTDD)

    def registry_names(self) -> dict[str, list[str]]:
        return {"model": [self.model.name], "dataset": self.sets()}

    def sets(self) -> list[str]:
        """Every set whose features are extracted: the downstream sets, then the reference."""
        return list(dict.fromkeys([*self.downstream_sets, *([self.reference_set] if self.reference_set else [])]))

    def work(self) -> Work:
        from ribray.data import get_dataset

        return Work(eval_images={s: float(min(self.otdd.max_images, get_dataset(s).expected_images))
                                 for s in self.sets()})

    @classmethod
    def plan(cls, spec: Spec, model: ModelRef, planned: Sequence[Trial]) -> list[Trial]:
        """One per model, when the spec has at least two downstream sets."""
        options = cls.options_in(spec)
        if options is None or len(spec.downstream) < 2:
            return []
        return [cls(model=model, downstream_sets=tuple(spec.downstream), otdd=options.for_fidelity(spec.fidelity),
                    evaluation=spec.evaluation())]
