"""Where a report's numbers come from, as its result rows recorded it: the code (ribray
version, git commit), the spec (hash), the trials (done, failed, planned), the data (each
eval set's fingerprint, decoder and precision) and the sweep's MLflow run; and whether the
numbers mean anything (generated data, random-init models). Nothing here is guessed from a
name: a fact the rows did not record is shown as not recorded."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import pandas as pd

from ribray.options import RANDOM_INIT

# The result columns this module reads (ribray.report.rows.COLUMNS includes them).
COLUMNS = ("trial_id", "spec_hash", "eval_set", "downstream", "model", "finished_at", "decode", "eval_precision",
           "data_fingerprint", "data_generated", "train_generated", "model_weights", "ribray_version", "git_sha")
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class DataFacts:
    """One eval set as the rows recorded it (several values only in a report --allow-mixed)."""

    name: str
    fingerprints: tuple[str, ...]
    decode: tuple[str, ...]
    precision: tuple[str, ...]
    generated: bool | None  # None: not recorded


@dataclass(frozen=True)
class MlflowRun:
    """The sweep's parent run in its MLflow store; `url` only for a store served over HTTP."""

    tracking_uri: str  # credentials removed
    experiment: str
    run_id: str | None
    url: str | None = None
    target: str = "TARGET"  # what `ribray ui` takes to serve a local store


@dataclass(frozen=True)
class Provenance:
    results_from: datetime | None  # the first and last trial's finish, as recorded
    results_to: datetime | None
    ribray_versions: tuple[str, ...]
    git_shas: tuple[str, ...]
    spec_hashes: tuple[str, ...]
    trials_done: int
    data: tuple[DataFacts, ...]
    weights: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> recorded starting weights
    trials_failed: int | None = None  # None: not known (no plan, or no Tune state read)
    trials_planned: int | None = None
    mlflow: MlflowRun | None = None
    written_at: datetime | None = None  # when `ribray report` wrote it (None: built in a notebook)

    def with_sweep(self, planned: int | None = None, failed: int | None = None,
                   mlflow: MlflowRun | None = None) -> Provenance:
        """What the report's source adds: the plan's size, the failed trials, the MLflow run."""
        return replace(self, trials_planned=planned, trials_failed=failed, mlflow=mlflow)

    def written_now(self) -> Provenance:
        return replace(self, written_at=datetime.now(timezone.utc))

    @property
    def generated_sets(self) -> list[str]:
        return [facts.name for facts in self.data if facts.generated]

    @property
    def random_init_models(self) -> list[str]:
        return [model for model, origins in self.weights.items() if RANDOM_INIT in origins]

    def warnings(self) -> list[str]:
        """Why the numbers say nothing about the benchmark, from what the rows recorded."""
        found = []
        if self.generated_sets:
            found.append(f"The data is generated (`ribray data fake`), not ImageNet-RIB's images: "
                         f"{', '.join(self.generated_sets)}. These accuracies, RI and mRI test the pipeline; "
                         "they are not results and must not be published.")
        if self.random_init_models:
            found.append(f"{_models(self.random_init_models)} random-init (no pretrained weights): the "
                         "'pretrained' row is an untrained network, so RI against it measures nothing the paper "
                         "measures.")
        return found

    def facts(self) -> list[tuple[str, str]]:
        """(what, value) lines, in the order the page, the Markdown and the terminal show them."""
        trials = f"{self.trials_done} done"
        trials += f", {self.trials_failed} failed" if self.trials_failed is not None else ""
        trials += f", {self.trials_planned} planned" if self.trials_planned is not None else \
            " (planned and failed: report the spec file to see them)"
        lines = [("written", _when(self.written_at) if self.written_at else "not written (built in Python)"),
                 ("results", _span(self.results_from, self.results_to)),
                 ("ribray", _listed(self.ribray_versions)),
                 ("git commit", _listed(tuple(sha[:12] for sha in self.git_shas))),
                 ("spec hash", _listed(self.spec_hashes)),
                 ("trials", trials),
                 ("decode / precision", _evaluation(self.data)),
                 ("models' weights", _weights(self.weights))]
        if self.mlflow is not None:
            run = self.mlflow.run_id or "no sweep run found"
            lines.append(("MLflow", f"experiment {self.mlflow.experiment}, run {run} at {self.mlflow.tracking_uri}"))
        return lines

    def to_json(self) -> dict:
        return {"written_at": self.written_at.isoformat() if self.written_at else None,
                "results_from": self.results_from.isoformat() if self.results_from else None,
                "results_to": self.results_to.isoformat() if self.results_to else None,
                "ribray_versions": list(self.ribray_versions), "git_shas": list(self.git_shas),
                "spec_hashes": list(self.spec_hashes), "trials_done": self.trials_done,
                "trials_failed": self.trials_failed, "trials_planned": self.trials_planned,
                "data": [{"eval_set": d.name, "fingerprints": list(d.fingerprints), "decode": list(d.decode),
                          "precision": list(d.precision), "generated": d.generated} for d in self.data],
                "model_weights": {m: list(o) for m, o in self.weights.items()},
                "mlflow": None if self.mlflow is None else {
                    "tracking_uri": self.mlflow.tracking_uri, "experiment": self.mlflow.experiment,
                    "run_id": self.mlflow.run_id, "url": self.mlflow.url},
                "warnings": self.warnings()}


def provenance_of(rows: pd.DataFrame, trial_ids: set[str], eval_sets: list[str]) -> Provenance:
    """The provenance of the rows of `trial_ids` (the trials a report's tables use); `eval_sets`
    in the report's order."""
    used = rows[_column(rows, "trial_id").isin(trial_ids)]

    def values(name: str, frame: pd.DataFrame = used) -> tuple[str, ...]:
        return tuple(sorted({str(v) for v in _column(frame, name).dropna().unique()}))

    finished = pd.to_datetime(_column(used, "finished_at"), utc=True, errors="coerce").dropna()
    data = []
    for name in eval_sets:
        on_set = used[_column(used, "eval_set") == name]
        trained = used[_column(used, "downstream") == name]
        flags = [*_column(on_set, "data_generated").dropna(), *_column(trained, "train_generated").dropna()]
        data.append(DataFacts(name, values("data_fingerprint", on_set), values("decode", on_set),
                              values("eval_precision", on_set), any(flags) if flags else None))
    weights = {str(model): values("model_weights", frame)
               for model, frame in used.groupby(_column(used, "model"), sort=False)}
    return Provenance(results_from=finished.min().to_pydatetime() if len(finished) else None,
                      results_to=finished.max().to_pydatetime() if len(finished) else None,
                      ribray_versions=values("ribray_version"), git_shas=values("git_sha"),
                      spec_hashes=values("spec_hash"), trials_done=len(set(_column(used, "trial_id").dropna())),
                      data=tuple(data), weights={m: o for m, o in weights.items() if o})


def short_fingerprint(fingerprint: str) -> str:
    """'80:3f2a1b9c0d4e' -> '80 files · 3f2a1b'."""
    count, _, digest = fingerprint.partition(":")
    return f"{count} files · {digest[:6]}" if digest else fingerprint


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _models(models: list[str]) -> str:
    return f"The model {models[0]} is" if len(models) == 1 else f"The models {', '.join(models)} are"


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else NOT_RECORDED


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return NOT_RECORDED
    return _when(start) if start == end else f"finished {_when(start)} to {_when(end)}"


def _evaluation(data: tuple[DataFacts, ...]) -> str:
    """'pil / bf16' when every set agrees, else per set."""
    pairs = {(", ".join(d.decode) or "?", ", ".join(d.precision) or "?") for d in data}
    if len(pairs) == 1:
        decode, precision = pairs.pop()
        return NOT_RECORDED if (decode, precision) == ("?", "?") else f"{decode} / {precision}"
    return "; ".join(f"{d.name}: {', '.join(d.decode) or '?'} / {', '.join(d.precision) or '?'}" for d in data)


def _weights(weights: dict[str, tuple[str, ...]]) -> str:
    """'pretrained (all 7 models)', or per origin: 'random init: tiny_vit; pretrained: ...'."""
    by_origin: dict[str, list[str]] = {}
    for model, origins in weights.items():
        for origin in origins:
            by_origin.setdefault(origin, []).append(model)
    if len(by_origin) == 1:
        [(origin, models)] = by_origin.items()
        return f"{origin} ({'all ' + str(len(models)) + ' models' if len(models) > 1 else models[0]})"
    return "; ".join(f"{origin}: {', '.join(models)}" for origin, models in by_origin.items()) or NOT_RECORDED
