"""The plan: a pure function of the spec. Every trial, its dependencies, its hashed id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ribray.methods import METHODS
from ribray.spec import Spec

PRETRAINED = "pretrained"


def _hash(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Trial:
    """One unit of work: claims one GPU, writes one results shard."""

    trial_id: str
    kind: str  # pretrained | finetune | interpolate (analysis kinds plug in the same way)
    model: str
    method: str
    downstream: str | None = None
    seed: int | None = None
    config: dict[str, Any] = field(default_factory=dict)  # everything the trial needs, resolved
    depends_on: tuple[str, ...] = ()
    weights_key: str | None = None  # where a fine-tune's final weights are stored

    @property
    def label(self) -> str:
        """Short human name: model/method[@downstream][#seed]."""
        text = f"{self.model}/{self.method}"
        if self.kind in ("cka", "otdd"):
            text = f"{self.model}/{self.kind}" + (f"({self.method})" if self.kind == "cka" else "")
        if self.config.get("alpha") is not None:
            text += f"({self.config['alpha']:g})"
        if self.downstream:
            text += f"@{self.downstream}"
        if self.seed is not None:
            text += f"#{self.seed}"
        if self.config.get("train_subset", "all") != "all":
            text += f"[{self.config['train_subset']}]"
        return text

    def to_config(self) -> dict[str, Any]:
        """The trial as Ray Tune's config (plain JSON values)."""
        return asdict(self) | {"depends_on": list(self.depends_on)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Trial:
        fields = {k: config[k] for k in cls.__dataclass_fields__}
        return cls(**fields | {"depends_on": tuple(fields["depends_on"])})


@dataclass(frozen=True)
class Plan:
    """Trials in the order they should be handed out (dependencies first)."""

    spec_hash: str
    trials: tuple[Trial, ...]

    def by_id(self) -> dict[str, Trial]:
        return {t.trial_id: t for t in self.trials}

    def __len__(self) -> int:
        return len(self.trials)


def make_plan(spec: Spec) -> Plan:
    """Every trial of the sweep, ordered cell by cell so interpolations become ready early."""
    trials: dict[str, Trial] = {}
    for model in spec.models:
        _add(trials, _pretrained_trial(spec, model))
    for model in spec.models:
        for seed in spec.seeds:
            for subset in spec.train_subsets:
                for downstream in spec.downstream:
                    for trial in _cell(spec, Cell(model, downstream, seed, subset)):
                        _add(trials, trial)
    for model in spec.models:
        for trial in analysis_trials(spec, model, [t for t in trials.values() if t.model == model.name]):
            _add(trials, trial)
    return Plan(spec_hash=spec.spec_hash(), trials=tuple(trials.values()))


@dataclass(frozen=True)
class Cell:
    """One (model, downstream set, seed, training subset): its fine-tunes and interpolations."""

    model: Any
    downstream: str
    seed: int
    subset: Any  # TrainSubset

    def identity(self) -> dict[str, Any]:
        """The cell's part of every trial config; a full-set cell adds no key (stable ids)."""
        base = {"model": _model_config(self.model), "downstream": self.downstream, "seed": self.seed}
        if self.subset.label() != "all":
            base["train_subset"] = self.subset.label()
        return base


def _add(trials: dict[str, Trial], trial: Trial) -> None:
    trials.setdefault(trial.trial_id, trial)


def _model_config(model) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _pretrained_trial(spec: Spec, model) -> Trial:
    config = {"model": _model_config(model), "eval_sets": spec.resolved_eval_sets()}
    return Trial(trial_id=_hash({"kind": PRETRAINED, **config}), kind=PRETRAINED,
                 model=model.name, method=PRETRAINED, config=config)


def _cell(spec: Spec, cell: Cell) -> list[Trial]:
    """The trials of one cell: the fine-tunes that interpolations need first, then the
    interpolations, then the remaining fine-tunes."""
    finetunes: dict[str, Trial] = {}
    for name in _methods_in_order(spec):
        _finetune(spec, cell, name, finetunes)
    interpolations = _interpolations(spec, cell, finetunes)
    needed = {d for t in interpolations for d in t.depends_on}
    first = [t for t in finetunes.values() if t.trial_id in needed]
    rest = [t for t in finetunes.values() if t.trial_id not in needed]
    return first + interpolations + rest


def _methods_in_order(spec: Spec) -> list[str]:
    """Methods an interpolation reads come first, in the order the interpolations name them."""
    wanted: list[str] = []
    if spec.interpolations.wise_ft:
        wanted.append(spec.interpolations.wise_ft.of)
    if spec.interpolations.soup:
        wanted += [i for i in spec.interpolations.soup.ingredients if i != PRETRAINED]
    ordered = [m for m in dict.fromkeys(wanted) if m in spec.methods]
    return ordered + [m for m in spec.methods if m not in ordered]


def _finetune(spec: Spec, cell: Cell, method: str, finetunes: dict[str, Trial]) -> Trial:
    """Plan the fine-tune of `method` (and, first, the trial it starts from, e.g. LP for LP-FT)."""
    if method in finetunes:
        return finetunes[method]
    method_cls = METHODS.get(method)
    method_config = spec.method_config(method)
    init = None
    if method_cls.starts_from:
        init = _finetune(spec, cell, method_cls.starts_from, finetunes)
    training = cell.identity() | {
        "method": method, "options": method_config.model_dump(mode="json", exclude={"train"}),
        "train": spec.train.merged(method_config.train).model_dump(mode="json"),
        "init_weights": init.weights_key if init else None,
    }
    if "train_subset" in training:
        training["subset"] = cell.subset.model_dump(mode="json")
    weights_key = _hash(training)
    config = training | {"eval_sets": spec.resolved_eval_sets()}
    if spec.curves is not None:
        config["curves"] = _curves(spec, cell.downstream)
    trial = Trial(trial_id=_hash({"kind": "finetune", **config}), kind="finetune",
                  model=cell.model.name, method=method, downstream=cell.downstream, seed=cell.seed,
                  config=config, depends_on=(init.trial_id,) if init else (),
                  weights_key=weights_key)
    finetunes[method] = trial
    return trial


def _curves(spec: Spec, downstream: str) -> dict[str, Any]:
    """Per-epoch evaluation: the downstream set first, then the chosen OOD sets."""
    named = spec.resolved_eval_sets() if spec.curves.eval_sets == "default" else spec.curves.eval_sets
    return {"eval_sets": list(dict.fromkeys([downstream, *named])),
            "limit_per_set": spec.curves.limit_per_set}


def _interpolations(spec: Spec, cell: Cell, finetunes: dict[str, Trial]) -> list[Trial]:
    trials = []
    wise = spec.interpolations.wise_ft
    if wise and wise.of in finetunes:
        for alpha in wise.alphas:
            trials.append(_interpolation(spec, cell, "wise_ft", [PRETRAINED, wise.of],
                                         finetunes, alpha=alpha))
    soup = spec.interpolations.soup
    if soup and all(i == PRETRAINED or i in finetunes for i in soup.ingredients):
        trials.append(_interpolation(spec, cell, "soup", soup.ingredients, finetunes))
    return trials


def _interpolation(spec: Spec, cell: Cell, method: str, ingredients: list[str],
                   finetunes: dict[str, Trial], alpha: float | None = None) -> Trial:
    sources = [finetunes[i] for i in ingredients if i != PRETRAINED]
    config = cell.identity() | {
        "method": method, "alpha": alpha, "ingredients": list(ingredients),
        "weights": {i: (finetunes[i].weights_key if i != PRETRAINED else None) for i in ingredients},
        "eval_sets": spec.resolved_eval_sets(),
    }
    return Trial(trial_id=_hash({"kind": "interpolate", **config}), kind="interpolate",
                 model=cell.model.name, method=method, downstream=cell.downstream, seed=cell.seed,
                 config=config, depends_on=tuple(t.trial_id for t in sources))


def analysis_trials(spec: Spec, model, trials: list[Trial]) -> list[Trial]:
    """CKA per fine-tune whose weights live in the model's own layers (not VPT's prompt), after
    it; and one OTDD trial per model (pretrained features)."""
    found = []
    cka = spec.analyses.cka
    if cka is not None:
        for trial in (t for t in trials if t.kind == "finetune" and METHODS.get(t.method).interpolatable):
            config = {k: trial.config[k] for k in ("model", "method", "options", "downstream",
                                                    "seed") if k in trial.config}
            config |= {"weights": trial.weights_key, "cka": cka.model_dump(mode="json"),
                       "train_subset": trial.config.get("train_subset", "all")}
            found.append(Trial(trial_id=_hash({"kind": "cka", **config}), kind="cka",
                               model=model.name, method=trial.method, downstream=trial.downstream,
                               seed=trial.seed, config=config, depends_on=(trial.trial_id,)))
    otdd = spec.analyses.otdd
    if otdd is not None and len(spec.downstream) > 1:
        config = {"model": _model_config(model), "downstream_sets": list(spec.downstream),
                  "reference_set": "imagenet_val", "otdd": otdd.model_dump(mode="json")}
        found.append(Trial(trial_id=_hash({"kind": "otdd", **config}), kind="otdd",
                           model=model.name, method="otdd", config=config))
    return found
