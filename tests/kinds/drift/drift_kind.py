"""A trial kind from outside ribray (a plugin of tests/kinds/): how far each fine-tune moved from
the pretrained weights. This file is its plan side (the typed trial, how it is planned, its
options block `analyses.drift`, its report section); `drift_run.py` is its runner."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from ribray.api import AnalysisOptions
from ribray.plan import Trial, register_kind, trial_label


class DriftOptions(AnalysisOptions):
    relative: bool = Field(False, description="divide by the norm of the pretrained weights")


@register_kind
@dataclass(frozen=True, kw_only=True)
class DriftTrial(Trial):
    kind = "drift"
    Options = DriftOptions
    sections = (f"{__name__}:drift_sections",)
    weights: str = ""  # the fine-tune's weights key
    drift: DriftOptions = DriftOptions()
    train_subset: str = "all"

    @classmethod
    def plan(cls, spec, model, planned):
        """One per trial of the model's grid that stores weights (its fine-tunes)."""
        options = cls.options_in(spec)
        if options is None:
            return []
        return [cls(model=model, method=t.method, variant=t.variant, downstream=t.downstream, seed=t.seed,
                    weights=t.weights_key, drift=options, train_subset=t.row_fields()["train_subset"],
                    depends_on=(t.trial_id,), evaluation=spec.evaluation())
                for t in planned if t.produces_weights]

    def _coerce_fields(self) -> None:
        if isinstance(self.drift, dict):
            object.__setattr__(self, "drift", DriftOptions.model_validate(self.drift))

    def identity(self) -> dict:
        return {"model": self.model.name, "method": self.method, "downstream": self.downstream, "seed": self.seed,
                "weights": self.weights, "drift": self.drift.model_dump(mode="json")}

    @property
    def label(self) -> str:
        return trial_label(self.model.shown, f"drift({self.variant or self.method})", downstream=self.downstream,
                           seed=self.seed)

    def weights_read(self) -> list[str]:
        return [self.weights]

    def row_fields(self) -> dict:
        return super().row_fields() | {"train_subset": self.train_subset}


def drift_sections(report, rows: list[dict]) -> list:
    """One table per model: the drift of each method (rows) fine-tuned on each set (columns)."""
    from ribray.report.robustness import Stat
    from ribray.report.sections import Section
    from ribray.report.tables import Grid

    grids = []
    for model in sorted({row["model"] for row in rows}):
        mine = [row for row in rows if row["model"] == model]
        methods = tuple(sorted({row["method_label"] for row in mine}))
        sets = tuple(sorted({row["downstream"] for row in mine}))
        cells = {(m, d): Stat.of({row["seed"]: row["value"] for row in mine
                                  if (row["method_label"], row["downstream"]) == (m, d)})
                 for m in methods for d in sets}
        grids.append(Grid(stem=f"drift/{model}", title=f"Distance from the pretrained weights: {model}",
                          corner="method", rows=methods, columns=sets, cells=cells, unit="L2 distance"))
    return [Section("Distance from the pretrained weights", grids=grids)]
