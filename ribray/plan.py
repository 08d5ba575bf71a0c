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
        if self.config.get("alpha") is not None:
            text += f"({self.config['alpha']:g})"
        if self.downstream:
            text += f"@{self.downstream}"
        if self.seed is not None:
            text += f"#{self.seed}"
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
            for downstream in spec.downstream:
                for trial in _cell(spec, model, downstream, seed):
                    _add(trials, trial)
    return Plan(spec_hash=spec.spec_hash(), trials=tuple(trials.values()))


def _add(trials: dict[str, Trial], trial: Trial) -> None:
    trials.setdefault(trial.trial_id, trial)


def _model_config(model) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _pretrained_trial(spec: Spec, model) -> Trial:
    config = {"model": _model_config(model), "eval_sets": spec.resolved_eval_sets()}
    return Trial(trial_id=_hash({"kind": PRETRAINED, **config}), kind=PRETRAINED,
                 model=model.name, method=PRETRAINED, config=config)


def _cell(spec: Spec, model, downstream: str, seed: int) -> list[Trial]:
    """The trials of one (model, downstream, seed) cell: the fine-tunes that interpolations
    need first, then the interpolations, then the remaining fine-tunes."""
    finetunes: dict[str, Trial] = {}
    for name in _methods_in_order(spec):
        _finetune(spec, model, downstream, seed, name, finetunes)
    interpolations = _interpolations(spec, model, downstream, seed, finetunes)
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


def _finetune(spec: Spec, model, downstream: str, seed: int, method: str,
              finetunes: dict[str, Trial]) -> Trial:
    """Plan the fine-tune of `method` (and, first, the trial it starts from, e.g. LP for LP-FT)."""
    if method in finetunes:
        return finetunes[method]
    method_cls = METHODS.get(method)
    method_config = spec.method_config(method)
    init = None
    if method_cls.starts_from:
        init = _finetune(spec, model, downstream, seed, method_cls.starts_from, finetunes)
    training = {
        "model": _model_config(model), "method": method, "downstream": downstream, "seed": seed,
        "options": method_config.model_dump(mode="json", exclude={"train"}),
        "train": spec.train.merged(method_config.train).model_dump(mode="json"),
        "init_weights": init.weights_key if init else None,
    }
    weights_key = _hash(training)
    config = training | {"eval_sets": spec.resolved_eval_sets()}
    trial = Trial(trial_id=_hash({"kind": "finetune", **config}), kind="finetune",
                  model=model.name, method=method, downstream=downstream, seed=seed,
                  config=config, depends_on=(init.trial_id,) if init else (),
                  weights_key=weights_key)
    finetunes[method] = trial
    return trial


def _interpolations(spec: Spec, model, downstream: str, seed: int,
                    finetunes: dict[str, Trial]) -> list[Trial]:
    trials = []
    wise = spec.interpolations.wise_ft
    if wise and wise.of in finetunes:
        for alpha in wise.alphas:
            trials.append(_interpolation(spec, model, downstream, seed, "wise_ft",
                                         [PRETRAINED, wise.of], finetunes, alpha=alpha))
    soup = spec.interpolations.soup
    if soup and all(i == PRETRAINED or i in finetunes for i in soup.ingredients):
        trials.append(_interpolation(spec, model, downstream, seed, "soup",
                                     soup.ingredients, finetunes))
    return trials


def _interpolation(spec: Spec, model, downstream: str, seed: int, method: str,
                   ingredients: list[str], finetunes: dict[str, Trial],
                   alpha: float | None = None) -> Trial:
    sources = [finetunes[i] for i in ingredients if i != PRETRAINED]
    config = {
        "model": _model_config(model), "method": method, "downstream": downstream, "seed": seed,
        "alpha": alpha, "ingredients": list(ingredients),
        "weights": {i: (finetunes[i].weights_key if i != PRETRAINED else None) for i in ingredients},
        "eval_sets": spec.resolved_eval_sets(),
    }
    return Trial(trial_id=_hash({"kind": "interpolate", **config}), kind="interpolate",
                 model=model.name, method=method, downstream=downstream, seed=seed,
                 config=config, depends_on=tuple(t.trial_id for t in sources))
