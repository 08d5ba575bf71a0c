"""Fine-tune one (model, method, downstream set, seed, train subset); its final weights are
stored under `weights_key`, a hash of the training configuration alone, so adding an eval
set re-evaluates without re-training."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ribray.fidelity import RIBRAY
from ribray.options import TrainOptions, TrainSubset
from ribray.plan.pretrained import _model, eval_images
from ribray.plan.trial import (
    ModelRef,
    Phase,
    Trial,
    Work,
    _coerce,
    content_hash,
    register_kind,
    subset_identity,
    trial_label,
)

if TYPE_CHECKING:
    from ribray.methods import MethodOptions
    from ribray.spec import Spec


@dataclass(frozen=True)
class Curves:
    """Learning curves: evaluate these sets (the downstream set first) before training and
    after every epoch, on a fixed subset of `limit_per_set` images each."""

    eval_sets: tuple[str, ...]
    limit_per_set: int | None


@register_kind
@dataclass(frozen=True, kw_only=True)
class FinetuneTrial(Trial):
    kind = "finetune"
    phase = Phase.GRID
    reported = True
    produces_weights = True
    sections = ("ribray.report.analyses:curve_sections",)  # its learning-curve points
    options: MethodOptions | None = None  # the method's typed options (its Options class); `train` not read
    train: TrainOptions = TrainOptions()  # the schedule, with the method's overrides applied
    init_weights: str | None = None  # weights key of the trial it starts from (LP-FT: LP's)
    train_subset: TrainSubset = TrainSubset()
    eval_sets: tuple[str, ...] = ()
    curves: Curves | None = None
    weights_key: str = field(init=False, default="")  # the final weights' key: a hash of training_identity()

    @classmethod
    def plan(cls, spec: Spec, model: ModelRef, planned: Sequence[Trial]) -> list[Trial]:
        """The model's grid: its fine-tunes, cell by cell, with the interpolations of them
        (`InterpolateTrial`) placed so that they become ready early (`plan/grid.py`)."""
        from ribray.plan.grid import grid

        return grid(spec, model)

    def _coerce_fields(self) -> None:
        from ribray.methods import METHODS

        options_class = METHODS.get(self.method).Options
        if not isinstance(self.options, options_class):
            object.__setattr__(self, "options", options_class.model_validate(self.options or {}))
        _coerce(self, "train", TrainOptions.model_validate)
        _coerce(self, "train_subset", TrainSubset.model_validate)
        _coerce(self, "eval_sets", tuple, when=list)
        _coerce(self, "curves", lambda v: Curves(tuple(v["eval_sets"]), v["limit_per_set"]))
        object.__setattr__(self, "weights_key", content_hash(self.training_identity()))

    def training_identity(self) -> dict[str, Any]:
        """What the final weights depend on (not the eval sets)."""
        identity = {"model": _model(self), "downstream": self.downstream, "seed": self.seed,
                    **subset_identity(self.train_subset), "method": self.method,
                    "options": self.options.model_dump(mode="json", exclude={"train"}),
                    "train": self.train.identity(), "init_weights": self.init_weights}
        if self.train_subset.label() != "all":
            identity["subset"] = self.train_subset.model_dump(mode="json")
        if self.evaluation.fidelity != RIBRAY:  # its labels and pixels (ObjectNet, ResNet-50) differ
            identity["fidelity"] = self.evaluation.fidelity
        return identity

    def identity(self) -> dict[str, Any]:
        identity = self.training_identity() | {"eval_sets": list(self.eval_sets)}
        if self.curves is not None:
            identity["curves"] = {"eval_sets": list(self.curves.eval_sets),
                                  "limit_per_set": self.curves.limit_per_set}
        return identity

    @property
    def label(self) -> str:
        return trial_label(self.model.shown, self.method_label, downstream=self.downstream, seed=self.seed,
                           train_subset=self.train_subset.label())

    def weights_read(self) -> list[str]:
        return [self.init_weights] if self.init_weights else []

    def registry_names(self) -> dict[str, list[str]]:
        """Its method, model, downstream set, eval sets (also the curves') and what the method reads."""
        from ribray.methods import METHODS

        read = METHODS.get(self.method)(self.options).datasets_read()
        curves = list(self.curves.eval_sets) if self.curves else []
        sets = dict.fromkeys([self.downstream, *self.eval_sets, *curves, *read])
        return {"method": [self.method], "model": [self.model.name], "dataset": list(sets)}

    def work(self) -> Work:
        evaluated = eval_images(self.eval_sets, self.evaluation.limit_per_set)
        if self.curves is not None:  # before training and after every epoch
            points = eval_images(self.curves.eval_sets, self.curves.limit_per_set, passes=self.train.epochs + 1)
            evaluated = {s: evaluated.get(s, 0.0) + points.get(s, 0.0) for s in {*evaluated, *points}}
        return Work(train_images=self.train.epochs * self.train_images(), eval_images=evaluated,
                    compiled=self.train.compile is not False)

    def train_images(self) -> float:
        """The downstream set's size, or that of the subset this trial trains on."""
        from ribray.data import get_dataset

        entry = get_dataset(self.downstream)
        if self.train_subset.shots_per_class:
            return float(min(entry.expected_images, self.train_subset.shots_per_class * entry.num_classes))
        return entry.expected_images * (self.train_subset.fraction or 1.0)

    def row_fields(self) -> dict[str, Any]:
        return super().row_fields() | {"train_subset": self.train_subset.label()}
