"""CKA between the pretrained model and one fine-tune, per layer, on a probe set (a trial
per interpolatable fine-tune, after it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ribray.options import CkaOptions, TrainSubset
from ribray.plan.pretrained import _model
from ribray.plan.trial import ModelRef, Trial, Work, _coerce, register_kind, trial_label

CKA = "cka"


@register_kind
@dataclass(frozen=True, kw_only=True)
class CkaTrial(Trial):
    kind = CKA
    reported = False
    options: dict[str, Any] | None = None  # the fine-tune's method options (part of its identity)
    weights: str = ""  # the fine-tune's weights key
    cka: CkaOptions = CkaOptions()
    train_subset: TrainSubset = TrainSubset()

    def _coerce_fields(self) -> None:
        _coerce(self, "cka", CkaOptions.model_validate)
        _coerce(self, "train_subset", TrainSubset.model_validate)

    def identity(self) -> dict[str, Any]:
        return {"model": _model(self), "method": self.method, "options": self.options,
                "downstream": self.downstream, "seed": self.seed, "weights": self.weights,
                "cka": self.cka.model_dump(mode="json"), "train_subset": self.train_subset.label()}

    @property
    def label(self) -> str:
        return trial_label(self.model.shown, f"{CKA}({self.variant or self.method})", downstream=self.downstream,
                           seed=self.seed, train_subset=self.train_subset.label())

    def weights_read(self) -> list[str]:
        return [self.weights]

    def registry_names(self) -> dict[str, list[str]]:
        return {"method": [self.method], "model": [self.model.name], "dataset": [self.cka.probe_set]}

    def work(self) -> Work:
        # the pretrained and the fine-tuned model, on the probe images
        return Work(eval_images={self.cka.probe_set: 2.0 * self.cka.probe_images})

    def row_fields(self) -> dict[str, Any]:
        return super().row_fields() | {"train_subset": self.train_subset.label()}

    @classmethod
    def planned_after(cls, spec, model: ModelRef, trials: list[Trial]) -> list[Trial]:
        """One per fine-tune whose weights live in the model's own layers (not VPT's prompt)."""
        from ribray.methods import METHODS
        from ribray.plan.finetune import FinetuneTrial

        if spec.analyses.cka is None:
            return []
        return [cls(model=model, method=t.method, downstream=t.downstream, seed=t.seed,
                    options=t.options.model_dump(mode="json", exclude={"train"}), weights=t.weights_key,
                    cka=spec.analyses.cka, train_subset=t.train_subset, depends_on=(t.trial_id,),
                    evaluation=spec.evaluation(), variant=t.variant)
                for t in trials if isinstance(t, FinetuneTrial) and METHODS.get(t.method).interpolatable]
