"""The grid of one model: each (downstream set, seed, train subset) cell's fine-tunes and the
interpolations of them, planned together so that a cell's first interpolation becomes ready
early: the fine-tunes it reads first, then the cell's interpolations, then the other fine-tunes;
the across-seed interpolations after all of the model's cells. The two grid kinds
(`FinetuneTrial`, `InterpolateTrial`) are planned here, by `FinetuneTrial.plan`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ribray.errors import SpecError
from ribray.options import PRETRAINED, TrainSubset
from ribray.plan.finetune import Curves, FinetuneTrial
from ribray.plan.interpolate import InterpolateTrial
from ribray.plan.trial import ModelRef, Trial
from ribray.spec.entries import expand_ingredient, expand_ingredients, interpolators, start_label

if TYPE_CHECKING:
    from ribray.interpolations import Interpolation
    from ribray.spec import Spec

SEED_MARK = "#"  # an across-seed ingredient: `ft#1` is ft's fine-tune of seed 1


@dataclass(frozen=True)
class Cell:
    """One (model, downstream set, seed, training subset): its fine-tunes and interpolations."""

    model: ModelRef
    downstream: str
    seed: int | None  # None: the cell of the across-seed interpolations
    subset: TrainSubset


def grid(spec: Spec, model: ModelRef) -> list[Trial]:
    """The model's fine-tunes and interpolations, cell by cell (seeds, then train subsets, then
    downstream sets), then its across-seed interpolations."""
    trials: list[Trial] = []
    finetunes: dict[tuple[TrainSubset, str], dict[int, dict[str, FinetuneTrial]]] = {}  # -> seed -> label
    for seed in spec.seeds:
        for subset in spec.train_subsets:
            for downstream in spec.downstream:
                cell_trials, by_label = _cell(spec, Cell(model, downstream, seed, subset))
                finetunes.setdefault((subset, downstream), {})[seed] = by_label
                trials += cell_trials
    for (subset, downstream), by_seed in finetunes.items():
        trials += _across_seeds(spec, Cell(model, downstream, None, subset), by_seed)
    return trials


def _cell(spec: Spec, cell: Cell) -> tuple[list[Trial], dict[str, FinetuneTrial]]:
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


def _methods_in_order(spec: Spec) -> list[str]:
    """Method labels an interpolation reads come first, in the order the interpolations name them."""
    labels = list(spec.methods)
    wanted = [m for _, interpolation in interpolators(spec) for pattern in interpolation.methods_read()
              for m in expand_ingredient(pattern, labels)]
    ordered = [m for m in dict.fromkeys(wanted) if m in spec.methods]
    return ordered + [m for m in spec.methods if m not in ordered]


def _finetune(spec: Spec, cell: Cell, label: str, finetunes: dict[str, FinetuneTrial]) -> FinetuneTrial:
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


def _curves(spec: Spec, downstream: str) -> Curves | None:
    """Per-epoch evaluation: the downstream set first, then the chosen OOD sets."""
    if spec.curves is None:
        return None
    named = spec.resolved_eval_sets() if spec.curves.eval_sets == "default" else spec.curves.eval_sets
    return Curves(tuple(dict.fromkeys([downstream, *named])), spec.curves.limit_per_set)


def _interpolations(spec: Spec, cell: Cell, finetunes: dict[str, FinetuneTrial]) -> list[Trial]:
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


def _across_seeds(spec: Spec, cell: Cell, by_seed: dict[int, dict[str, FinetuneTrial]]) -> list[Trial]:
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


def _interpolation(spec: Spec, cell: Cell, label: str, interpolation: Interpolation, alpha: float | None, ingredients: tuple[str, ...],
                   sources: dict[str, FinetuneTrial]) -> InterpolateTrial:
    weights = {i: None if i == PRETRAINED else sources[i].weights_key for i in ingredients}
    return InterpolateTrial(
        model=cell.model, method=interpolation.name, variant=label if label != interpolation.name else None,
        downstream=cell.downstream, seed=cell.seed, alpha=alpha, ingredients=ingredients, weights=weights,
        train_subset=cell.subset, eval_sets=tuple(spec.resolved_eval_sets()),
        depends_on=tuple(t.trial_id for t in sources.values()), evaluation=spec.evaluation(),
        options=interpolation.options)
