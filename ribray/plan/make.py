"""The plan: a pure function of the spec (and of the plugins it names). Every trial, its
dependencies, its hashed id, in the order the searcher should hand them out."""

from __future__ import annotations

from dataclasses import dataclass

from ribray.errors import SpecError
from ribray.options import PRETRAINED, TrainSubset
from ribray.plan.finetune import Curves, FinetuneTrial
from ribray.plan.interpolate import InterpolateTrial
from ribray.plan.pretrained import PretrainedTrial
from ribray.plan.trial import KINDS, ModelRef, Trial
from ribray.spec.entries import expand_ingredient, expand_ingredients, interpolators, start_label

SEED_MARK = "#"  # an across-seed ingredient: `ft#1` is ft's fine-tune of seed 1


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
    seed: int | None  # None: the cell of the across-seed interpolations
    subset: TrainSubset


def model_refs(spec) -> list[ModelRef]:
    """The spec's models as trials name them (a label only where it is not the name)."""
    return [ModelRef(m.name, m.pretrained, m.checkpoint, m.resolved_label if m.resolved_label != m.name else None)
            for m in spec.models]


def make_plan(spec) -> Plan:
    """Every trial of the sweep, ordered cell by cell so interpolations become ready early."""
    spec.activate()
    trials: dict[str, Trial] = {}
    models = model_refs(spec)
    for model in models:
        _add(trials, PretrainedTrial(model=model, eval_sets=tuple(spec.resolved_eval_sets()),
                                     evaluation=spec.evaluation()))
    for model in models:
        finetunes: dict[tuple, dict[int, dict[str, FinetuneTrial]]] = {}  # (subset, downstream) -> seed -> label
        for seed in spec.seeds:
            for subset in spec.train_subsets:
                for downstream in spec.downstream:
                    cell_trials, by_label = _cell(spec, Cell(model, downstream, seed, subset))
                    finetunes.setdefault((subset, downstream), {})[seed] = by_label
                    for trial in cell_trials:
                        _add(trials, trial)
        for (subset, downstream), by_seed in finetunes.items():
            for trial in _across_seeds(spec, Cell(model, downstream, None, subset), by_seed):
                _add(trials, trial)
    for model in models:
        grid = [t for t in trials.values() if t.model == model]
        for _, kind in KINDS.items():
            for trial in kind.planned_after(spec, model, grid):
                _add(trials, trial)
    return Plan(spec_hash=spec.spec_hash(), trials=tuple(trials.values()))


def _add(trials: dict[str, Trial], trial: Trial) -> None:
    trials.setdefault(trial.trial_id, trial)


def _cell(spec, cell: Cell) -> tuple[list[Trial], dict[str, FinetuneTrial]]:
    """The trials of one cell: the fine-tunes that interpolations need first, then the
    interpolations, then the remaining fine-tunes; and the cell's fine-tunes by label."""
    finetunes: dict[str, FinetuneTrial] = {}
    for label in _methods_in_order(spec):
        _finetune(spec, cell, label, finetunes)
    interpolations = _interpolations(spec, cell, finetunes)
    needed = {d for t in interpolations for d in t.depends_on}
    first = [t for t in finetunes.values() if t.trial_id in needed]
    rest = [t for t in finetunes.values() if t.trial_id not in needed]
    return first + interpolations + rest, finetunes


def _methods_in_order(spec) -> list[str]:
    """Method labels an interpolation reads come first, in the order the interpolations name them."""
    labels = list(spec.methods)
    wanted = [m for _, interpolation in interpolators(spec) for pattern in interpolation.methods_read()
              for m in expand_ingredient(pattern, labels)]
    ordered = [m for m in dict.fromkeys(wanted) if m in spec.methods]
    return ordered + [m for m in spec.methods if m not in ordered]


def _finetune(spec, cell: Cell, label: str, finetunes: dict[str, FinetuneTrial]) -> FinetuneTrial:
    """Plan the fine-tune of the method labelled `label` (and, first, the trial it starts from,
    e.g. LP for LP-FT)."""
    from ribray.methods import METHODS

    if label in finetunes:
        return finetunes[label]
    entry = spec.method_entry(label)
    starts_from = METHODS.get(entry.name).starts_from
    init = _finetune(spec, cell, start_label(spec, label, starts_from), finetunes) if starts_from else None
    trial = FinetuneTrial(
        model=cell.model, method=entry.name, variant=label if label != entry.name else None, downstream=cell.downstream,
        seed=cell.seed, options=entry.options, train=spec.train.merged(entry.options.train).for_fidelity(spec.fidelity),
        train_subset=cell.subset,
        init_weights=init.weights_key if init else None, eval_sets=tuple(spec.resolved_eval_sets()),
        curves=_curves(spec, cell.downstream), depends_on=(init.trial_id,) if init else (),
        evaluation=spec.evaluation())
    finetunes[label] = trial
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
    for label, interpolation in interpolators(spec):
        for variant in interpolation.variants():
            if variant.across_seeds:
                continue
            ingredients = expand_ingredients(variant.ingredients, list(spec.methods))
            if not all(i == PRETRAINED or i in finetunes for i in ingredients):
                continue
            sources = {i: finetunes[i] for i in ingredients if i != PRETRAINED}
            trials.append(_interpolation(spec, cell, label, interpolation, variant.alpha, ingredients, sources))
    return trials


def _across_seeds(spec, cell: Cell, by_seed: dict[int, dict[str, FinetuneTrial]]) -> list[Trial]:
    """The across-seed variants of a (model, downstream set, subset): one trial reading each
    method's fine-tunes of every seed, `ft#0`, `ft#1`, ... (pretrained once)."""
    trials = []
    for label, interpolation in interpolators(spec):
        for variant in interpolation.variants():
            if not variant.across_seeds:
                continue
            methods = expand_ingredients(variant.ingredients, list(spec.methods))
            if len(spec.seeds) < interpolation.min_seeds:
                raise SpecError(f"interpolations.{label}: {interpolation.name} needs at least "
                                f"{interpolation.min_seeds} seeds (seeds: {spec.seeds})")
            sources = {f"{m}{SEED_MARK}{seed}": by_seed[seed][m] for m in methods if m != PRETRAINED
                       for seed in spec.seeds}
            ingredients = (*([PRETRAINED] if PRETRAINED in methods else []), *sources)
            trials.append(_interpolation(spec, cell, label, interpolation, variant.alpha, ingredients, sources))
    return trials


def _interpolation(spec, cell: Cell, label: str, interpolation, alpha: float | None, ingredients: tuple[str, ...],
                   sources: dict[str, FinetuneTrial]) -> InterpolateTrial:
    weights = {i: None if i == PRETRAINED else sources[i].weights_key for i in ingredients}
    return InterpolateTrial(
        model=cell.model, method=interpolation.name, variant=label if label != interpolation.name else None,
        downstream=cell.downstream, seed=cell.seed, alpha=alpha, ingredients=ingredients, weights=weights,
        train_subset=cell.subset, eval_sets=tuple(spec.resolved_eval_sets()),
        depends_on=tuple(t.trial_id for t in sources.values()), evaluation=spec.evaluation(),
        options=interpolation.options.model_dump(mode="json"))
