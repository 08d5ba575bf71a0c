"""A planned trial: one frozen, typed value per trial kind, its hashed id and its label.

A kind is two files: its `Trial` subclass here in `ribray/plan/` (or a plugin), registered with
@register_kind, and its runner in `ribray/trials/` (or the same plugin), registered with
@runs(KindTrial). `Trial` documents the protocol: the hooks ribray calls, in order, and the
capabilities a kind declares. Tune's config of a trial is `to_config()`, plain JSON;
`Trial.from_config` turns it back into the typed trial (ribray 0.1's configs:
`ribray.compat.legacy_config`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from ribray.options import ANALYSES, AnalysisOptions, Evaluation, TrainSubset
from ribray.registry import Registry

if TYPE_CHECKING:
    from ribray.spec import Spec

KINDS: Registry[type[Trial]] = Registry("trial kind")


class Phase(IntEnum):
    """When a kind is planned: the plan holds every model's REFERENCE trials first, then each
    model's GRID, then each model's ANALYSIS trials (which may read the grid)."""

    REFERENCE = 0
    GRID = 1
    ANALYSIS = 2


def register_kind(cls: type[Trial]) -> type[Trial]:
    """Class decorator: register a Trial subclass under its `kind`, and its `Options` as the
    spec's `analyses.<kind>` block."""
    if cls.Options is not None:
        ANALYSES.register(cls.kind)(cls.Options)
    return KINDS.register(cls.kind)(cls)


def kinds_in_order() -> list[type[Trial]]:
    """The registered kinds in the order they are planned (and their report sections shown):
    by phase, then by name."""
    return sorted((cls for _, cls in KINDS.items()), key=lambda cls: (cls.phase, cls.kind))


def content_hash(payload: dict[str, Any]) -> str:
    """12 hex digits of the SHA-256 of `payload` as canonical JSON (sorted keys)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def method_label(method: str, alpha: float | None = None) -> str:
    """A method's row in tables (its label): an interpolation with a mixing weight is one row per
    alpha, `wise_ft(0.5)`, or for a labelled variant with options, `wise_ft(of=ewc, 0.5)`."""
    if alpha is None:
        return method
    return f"{method[:-1]}, {alpha:g})" if method.endswith(")") else f"{method}({alpha:g})"


def trial_label(model: str, method: str, *, downstream: str | None = None,
                seed: int | None = None, train_subset: str | None = "all") -> str:
    """model/method[@downstream][#seed][[subset]] (model and method as tables show them, e.g.
    `wise_ft(0.5)`): how plan, progress, MLflow run names and reports name a trial."""
    text = f"{model}/{method}"
    if downstream:
        text += f"@{downstream}"
    if seed is not None:
        text += f"#{seed}"
    if train_subset and train_subset != "all":
        text += f"[{train_subset}]"
    return text


@dataclass(frozen=True)
class ModelRef:
    """The pretrained model a trial starts from, as the spec names it; `label` is its name in
    tables when it is not `name` (not part of any trial's id)."""

    name: str
    pretrained: bool = True
    checkpoint: str | None = None
    label: str | None = None

    @property
    def shown(self) -> str:
        """Its name in tables, runs and rows (the `model` column)."""
        return self.label or self.name


@dataclass(frozen=True)
class Work:
    """What a trial costs, in images: training images (over all epochs; a forward and a
    backward pass each), and images read per eval set (a forward pass each per model run)."""

    train_images: float = 0.0
    eval_images: dict[str, float] = field(default_factory=dict)
    compiled: bool = False  # its training runs torch.compile'd (`compile: true` or `auto`)

    @property
    def evaluated(self) -> float:
        return sum(self.eval_images.values())


@dataclass(frozen=True, kw_only=True)
class Trial:
    """One unit of work: claims the spec's resources (one GPU), writes one results shard.

    A kind subclasses it (a frozen, kw_only dataclass with its own fields) and declares what it
    is in class attributes (`kind`, `phase`, `reported`, `early`, `interpolates`,
    `produces_weights`, `Options`, `sections`: below), never inferred from its fields. ribray
    calls, in order:
    - `plan(spec, model, planned)`: the kind's trials of one model (`planned`: that model's
      trials of the kinds planned before), phase by phase, model by model, kind by kind
      (`kinds_in_order()`); a trial whose id is already planned is kept once;
    - `_coerce_fields` (JSON values from a Tune config into typed ones) and `identity()`, whose
      hash is `trial_id`; `label` names it in plans, progress lines, MLflow runs and rows;
    - `work()` for `ribray plan`'s cost estimate;
    - in the Ray worker, `registry_names()` and `weights_read()` (whose plugins its results
      depend on), then its runner, `run(trial, ctx) -> Outcome` (`ribray.trials`), then
      `row_fields()` for the result columns it fills beyond the common ones;
    - in `ribray report`, each builder named in `sections`, with the kind's analysis rows.
    """

    kind: ClassVar[str]  # its name: the `kind` column of its rows, the key of its registry entry
    phase: ClassVar[Phase] = Phase.ANALYSIS  # when it is planned (Phase)
    reported: ClassVar[bool] = False  # its final rows are accuracies for the RI / mRI tables
    early: ClassVar[bool] = False  # once ready, it runs before every other ready trial
    interpolates: ClassVar[bool] = False  # its table rows are interpolations' (after the methods')
    produces_weights: ClassVar[bool] = False  # it stores final weights under `weights_key`
    # its options: the spec's block `analyses.<kind>` (absent or null: the kind plans nothing)
    Options: ClassVar[type[AnalysisOptions] | None] = None
    # "module:function" report section builders, called as function(report, rows) with the
    # analysis rows of this kind (read lazily: the plan never imports the report)
    sections: ClassVar[tuple[str, ...]] = ()
    model: ModelRef
    method: str  # the registered method or interpolation (or `pretrained`)
    downstream: str | None = None
    seed: int | None = None
    depends_on: tuple[str, ...] = ()
    evaluation: Evaluation = Evaluation()  # decoder, precision, subset: part of the id when not default
    variant: str | None = None  # the spec's label of the method when it is not `method` (not in the id)
    trial_id: str = field(init=False, default="")

    @classmethod
    def plan(cls, spec: Spec, model: ModelRef, planned: Sequence[Trial]) -> list[Trial]:
        """This kind's trials of `model`, given the model's trials planned before them."""
        raise NotImplementedError(f"trial kind {cls.kind!r} does not say how it is planned (Trial.plan)")

    @classmethod
    def options_in(cls, spec: Spec) -> AnalysisOptions | None:
        """This kind's block of the spec's `analyses:` (None: not asked for)."""
        return spec.analyses.of(cls.kind)

    def __post_init__(self) -> None:
        _coerce(self, "model", lambda v: ModelRef(**v))
        _coerce(self, "depends_on", tuple, when=list)
        _coerce(self, "evaluation", Evaluation.model_validate)
        self._coerce_fields()
        evaluation = self.evaluation.identity()
        payload = {"kind": self.kind, **self.identity(), **({"evaluation": evaluation} if evaluation else {})}
        object.__setattr__(self, "trial_id", content_hash(payload))

    def _coerce_fields(self) -> None:
        """Turn this kind's JSON field values (from a Tune config) into their typed forms."""

    def identity(self) -> dict[str, Any]:
        """What the trial computes, as JSON: its id is the hash of this (and its kind)."""
        raise NotImplementedError

    @property
    def method_label(self) -> str:
        """The method's row in tables: its spec label (with the mixing weight, if any)."""
        return method_label(self.variant or self.method, self.row_fields()["alpha"])

    @property
    def label(self) -> str:
        return trial_label(self.model.shown, self.method_label, downstream=self.downstream, seed=self.seed)

    def registry_names(self) -> dict[str, list[str]]:
        """The registry entries this trial uses, by registry ('method', 'interpolation', 'model',
        'dataset'): whose origins (ribray's, or a plugin's) its results depend on."""
        return {"model": [self.model.name], "dataset": [d for d in [self.downstream] if d]}

    @property
    def weights_key(self) -> str | None:
        """The key its final weights are stored under, when the kind `produces_weights`."""
        return None

    def weights_read(self) -> list[str]:
        """Weights keys of the finished fine-tunes this trial reads."""
        return []

    def work(self) -> Work:
        """Images trained on and evaluated, for the cost estimate (`ribray plan`)."""
        return Work()

    def row_fields(self) -> dict[str, Any]:
        """The result columns this kind fills beyond the common ones."""
        return {"alpha": None, "ingredients": None, "train_subset": None}

    def to_config(self) -> dict[str, Any]:
        """The trial as Ray Tune's config: plain JSON values, with its kind and id."""
        values = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}
        return {"kind": self.kind, "trial_id": self.trial_id, **values}

    @staticmethod
    def from_config(config: dict[str, Any]) -> Trial:
        """The typed trial of a Tune config (`to_config()`)."""
        cls = KINDS.get(config["kind"])
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        trial = cls(**{k: v for k, v in config.items() if k in names})
        if config.get("trial_id", trial.trial_id) != trial.trial_id:
            raise ValueError(f"trial config {config['trial_id']} hashes to {trial.trial_id}: "
                             "it was written by another ribray version")
        return trial


def subset_identity(subset: TrainSubset) -> dict[str, Any]:
    """A train subset's part of a trial's identity: nothing for the whole set (stable ids)."""
    return {} if subset.label() == "all" else {"train_subset": subset.label()}


def _coerce(trial: Trial, name: str, convert: Callable[[Any], Any], when: type = dict) -> None:
    """Turn a JSON value of field `name` (e.g. from a Tune config) into its typed form."""
    value = getattr(trial, name)
    if isinstance(value, when):
        object.__setattr__(trial, name, convert(value))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
