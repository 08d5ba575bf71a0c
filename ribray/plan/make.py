"""The plan: a pure function of the spec. Every trial, its dependencies, its hashed id, in
the order the searcher should hand them out."""

from __future__ import annotations

from dataclasses import dataclass

from ribray.options import PRETRAINED, TrainSubset
from ribray.plan.finetune import Curves, FinetuneTrial
from ribray.plan.interpolate import InterpolateTrial
from ribray.plan.pretrained import PretrainedTrial
from ribray.plan.trial import KINDS, ModelRef, Trial


@dataclass(frozen=True)
class Plan:
    """Trials in the order they should be handed out (dependencies first)."""

    spec_hash: str
    trials: tuple[Trial, ...]

    def by_id(self) -> dict[str, Trial]:
        return {t.trial_id: t for t in self.trials}

    def __len__(self) -> int:
        return len(self.trials)


@dataclass(frozen=True)
class Cell:
    """One (model, downstream set, seed, training subset): its fine-tunes and interpolations."""

    model: ModelRef
    downstream: str
    seed: int
    subset: TrainSubset


def make_plan(spec) -> Plan:
    """Every trial of the sweep, ordered cell by cell so interpolations become ready early."""
    trials: dict[str, Trial] = {}
    models = [ModelRef(m.name, m.pretrained, m.checkpoint) for m in spec.models]
    for model in models:
        _add(trials, PretrainedTrial(model=model, eval_sets=tuple(spec.resolved_eval_sets()),
                                     evaluation=spec.eval.evaluation()))
    for model in models:
        for seed in spec.seeds:
            for subset in spec.train_subsets:
                for downstream in spec.downstream:
                    for trial in _cell(spec, Cell(model, downstream, seed, subset)):
                        _add(trials, trial)
    for model in models:
        grid = [t for t in trials.values() if t.model == model]
        for _, kind in KINDS.items():
            for trial in kind.planned_after(spec, model, grid):
                _add(trials, trial)
    return Plan(spec_hash=spec.spec_hash(), trials=tuple(trials.values()))


def _add(trials: dict[str, Trial], trial: Trial) -> None:
    trials.setdefault(trial.trial_id, trial)


def _cell(spec, cell: Cell) -> list[Trial]:
    """The trials of one cell: the fine-tunes that interpolations need first, then the
    interpolations, then the remaining fine-tunes."""
    finetunes: dict[str, FinetuneTrial] = {}
    for name in _methods_in_order(spec):
        _finetune(spec, cell, name, finetunes)
    interpolations = _interpolations(spec, cell, finetunes)
    needed = {d for t in interpolations for d in t.depends_on}
    first = [t for t in finetunes.values() if t.trial_id in needed]
    rest = [t for t in finetunes.values() if t.trial_id not in needed]
    return first + interpolations + rest


def _methods_in_order(spec) -> list[str]:
    """Methods an interpolation reads come first, in the order the interpolations name them."""
    wanted = [m for interpolation in _interpolators(spec) for m in interpolation.methods_read()]
    ordered = [m for m in dict.fromkeys(wanted) if m in spec.methods]
    return ordered + [m for m in spec.methods if m not in ordered]


def _interpolators(spec) -> list:
    from ribray.interpolations import INTERPOLATIONS

    return [INTERPOLATIONS.get(name)(options) for name, options in spec.interpolations.items()]


def _finetune(spec, cell: Cell, method: str, finetunes: dict[str, FinetuneTrial]) -> FinetuneTrial:
    """Plan the fine-tune of `method` (and, first, the trial it starts from, e.g. LP for LP-FT)."""
    from ribray.methods import METHODS

    if method in finetunes:
        return finetunes[method]
    starts_from = METHODS.get(method).starts_from
    init = _finetune(spec, cell, starts_from, finetunes) if starts_from else None
    options = spec.method_options(method)
    trial = FinetuneTrial(
        model=cell.model, method=method, downstream=cell.downstream, seed=cell.seed,
        options=options, train=spec.train.merged(options.train), train_subset=cell.subset,
        init_weights=init.weights_key if init else None, eval_sets=tuple(spec.resolved_eval_sets()),
        curves=_curves(spec, cell.downstream), depends_on=(init.trial_id,) if init else (),
        evaluation=spec.eval.evaluation())
    finetunes[method] = trial
    return trial


def _curves(spec, downstream: str) -> Curves | None:
    """Per-epoch evaluation: the downstream set first, then the chosen OOD sets."""
    if spec.curves is None:
        return None
    named = spec.resolved_eval_sets() if spec.curves.eval_sets == "default" else spec.curves.eval_sets
    return Curves(tuple(dict.fromkeys([downstream, *named])), spec.curves.limit_per_set)


def _interpolations(spec, cell: Cell, finetunes: dict[str, FinetuneTrial]) -> list[Trial]:
    """Every variant of every interpolation whose ingredients this cell fine-tunes."""
    trials = []
    for interpolation in _interpolators(spec):
        for variant in interpolation.variants():
            if not all(i == PRETRAINED or i in finetunes for i in variant.ingredients):
                continue
            sources = [finetunes[i] for i in variant.ingredients if i != PRETRAINED]
            weights = {i: None if i == PRETRAINED else finetunes[i].weights_key for i in variant.ingredients}
            trials.append(InterpolateTrial(
                model=cell.model, method=interpolation.name, downstream=cell.downstream, seed=cell.seed,
                alpha=variant.alpha, ingredients=variant.ingredients, weights=weights,
                train_subset=cell.subset, eval_sets=tuple(spec.resolved_eval_sets()),
                depends_on=tuple(t.trial_id for t in sources), evaluation=spec.eval.evaluation()))
    return trials
