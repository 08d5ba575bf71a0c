"""CKA between the pretrained model and one fine-tune, per layer, on a probe set (a trial
per interpolatable fine-tune, after it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ribray.options import CkaOptions, TrainSubset
from ribray.plan.pretrained import _model
from ribray.plan.trial import ModelRef, Trial, Work, _coerce, register_kind, trial_label

if TYPE_CHECKING:
    from ribray.methods import MethodOptions
    from ribray.spec import Spec

CKA = "cka"


@register_kind
@dataclass(frozen=True, kw_only=True)
class CkaTrial(Trial):
    kind = CKA
    Options = CkaOptions
    sections = ("ribray.report.analyses:cka_sections",)
    options: MethodOptions | None = None  # the fine-tune's method options, without `train` (part of its identity)
    weights: str = ""  # the fine-tune's weights key
    cka: CkaOptions = CkaOptions()
    train_subset: TrainSubset = TrainSubset()

    def _coerce_fields(self) -> None:
        from ribray.methods import METHODS

        _coerce(self, "options", METHODS.get(self.method).Options.model_validate)
        _coerce(self, "cka", CkaOptions.model_validate)
        _coerce(self, "train_subset", TrainSubset.model_validate)

    def identity(self) -> dict[str, Any]:
        return {"model": _model(self), "method": self.method, "options": self._method_options(),
                "downstream": self.downstream, "seed": self.seed, "weights": self.weights,
                "cka": self.cka.model_dump(mode="json"), "train_subset": self.train_subset.label()}

    def _method_options(self) -> dict[str, Any] | None:
        """The method options as JSON, without `train` (what its id and its Tune config hold)."""
        return self.options.model_dump(mode="json", exclude={"train"}) if self.options is not None else None

    def to_config(self) -> dict[str, Any]:
        return super().to_config() | {"options": self._method_options()}

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
    def plan(cls, spec: Spec, model: ModelRef, planned: Sequence[Trial]) -> list[Trial]:
        """One per fine-tune whose weights live in the model's own layers (not VPT's prompt)."""
        from ribray.methods import METHODS
        from ribray.plan.finetune import FinetuneTrial

        options = cls.options_in(spec)
        if options is None:
            return []
        return [cls(model=model, method=t.method, downstream=t.downstream, seed=t.seed,
                    options=t.options.model_copy(update={"train": None}), weights=t.weights_key,
                    cka=options, train_subset=t.train_subset, depends_on=(t.trial_id,),
                    evaluation=spec.evaluation(), variant=t.variant)
                for t in planned if isinstance(t, FinetuneTrial) and METHODS.get(t.method).interpolatable]
