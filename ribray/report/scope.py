"""What a report covers: models, downstream sets (they define n), eval sets, RI's sets, methods,
seeds, and the trials it expects — from the spec's plan, or inferred from the results. Models
and methods are named by their labels (a variant's own row, a checkpoint's own column)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ribray.data import IMAGENET_VAL, RIB_SETS, table_order
from ribray.interpolations import INTERPOLATIONS
from ribray.methods import METHODS
from ribray.plan import KINDS, trial_label
from ribray.report.rows import PRETRAINED

if TYPE_CHECKING:
    from ribray.plan import Plan
    from ribray.spec import Spec


@dataclass(frozen=True)
class ExpectedTrial:
    """A trial whose results the tables need (trial_id is known when a spec was given)."""

    model: str
    method: str
    downstream: str | None = None
    seed: int | None = None
    train_subset: str = "all"
    trial_id: str | None = None

    @property
    def key(self) -> tuple:
        return (self.model, self.method, self.downstream, self.seed)

    @property
    def label(self) -> str:
        """model/method@downstream#seed, as `ribray plan` prints trials."""
        return trial_label(self.model, self.method, downstream=self.downstream, seed=self.seed,
                           train_subset=self.train_subset)


@dataclass(frozen=True)
class MethodRow:
    """What a table row (a method's label) is: an interpolation or a fine-tune, of which
    registered entry, at which mixing weight: how rows are ordered."""

    interpolation: bool
    base: str
    alpha: float | None = None
    variant: str = ""  # the spec's label of it (without the alpha), when known


@dataclass(frozen=True)
class Scope:
    """The grid of one report (one train subset)."""

    train_subset: str
    models: tuple[str, ...]
    downstream: tuple[str, ...]  # the sets fine-tuned on (the rows of the accuracy matrices)
    eval_sets: tuple[str, ...]  # columns of the accuracy matrices
    methods: tuple[str, ...]  # rows of the tables (without the pretrained model)
    seeds: tuple[int | None, ...]
    expected: tuple[ExpectedTrial, ...]
    rib_sets: tuple[str, ...] = ()  # RI's out-of-distribution sets among the eval sets (paper order first)
    across_seeds: frozenset[str] = field(default_factory=frozenset)  # methods with one trial for all seeds

    @property
    def n(self) -> int:
        """RI's n: the number of ImageNet-RIB sets evaluated (8 in the paper)."""
        return len(self.rib_sets)

    @property
    def sets_name(self) -> str:
        """What RI's sets are called in captions: the paper's name while they are its sets."""
        return "ImageNet-RIB sets" if set(self.rib_sets) <= set(RIB_SETS) else "RI sets"

    def seeds_of(self, method: str) -> tuple[int | None, ...]:
        """The seeds a method's row averages over: the sweep's, or none for an across-seed method."""
        return (None,) if method in self.across_seeds else self.seeds

    @property
    def required_eval_sets(self) -> tuple[str, ...]:
        """The evaluations a trial must have: ImageNet-1K val, the RIB sets and the downstream
        sets, where the sweep evaluates them."""
        return tuple(s for s in self.eval_sets if s == IMAGENET_VAL or s in self.rib_sets or s in self.downstream)


def ordered_sets(names, rib: set[str]) -> list[str]:
    """RI's sets first, then the rest, each by the registered sets' `order` (the paper's RIB sets
    in its column order), then by name."""
    return sorted(names, key=lambda name: (name not in rib, *table_order(name)))


def ordered_methods(rows: dict[str, MethodRow], preferred: tuple[str, ...] | None = None,
                    preferred_interpolations: tuple[str, ...] | None = None) -> list[str]:
    """Fine-tuning methods, then interpolations (each by alpha), each in the `preferred` order
    (labels or registered names: a spec's) or else by the registered entries' `order` (the
    paper's), then anything else by name."""

    def position(label: str) -> tuple:
        row = rows[label]
        preference = preferred_interpolations if row.interpolation else preferred
        rank = (_registered_order(row) if preference is None
                else next(((False, preference.index(n)) for n in (row.variant or label, row.base) if n in preference),
                          (True, 0)))
        return (row.interpolation, rank, row.base, row.alpha if row.alpha is not None else -1.0, label)

    return sorted(rows, key=position)


def _interpolates(kind: str) -> bool:
    """Whether rows of this trial kind are interpolations' (`Trial.interpolates`)."""
    return kind in KINDS and KINDS.get(kind).interpolates


def _registered_order(row: MethodRow) -> tuple:
    """The registered method's or interpolation's `order`: entries with one first, ascending."""
    registry = INTERPOLATIONS if row.interpolation else METHODS
    order = registry.get(row.base).order if row.base in registry else None
    return (order is None, order or 0)


def _seed_order(seed: int | None) -> tuple:
    return (seed is None, seed or 0)


def infer_scope(accuracies: pd.DataFrame, train_subset: str = "all") -> Scope:
    """The grid the results imply: every model x method x downstream set x seed seen.

    Downstream sets are pooled over models (a sweep fine-tunes every model on the same sets),
    so a model whose fine-tunes are partly missing is reported as incomplete, not as a
    sweep with a smaller n. RI's sets are those the rows record as such (`rib`; the paper's
    eight for rows of older versions)."""
    pretrained = accuracies["method"] == PRETRAINED
    tuned = accuracies[~pretrained & (accuracies["train_subset"] == train_subset)]
    models = set(tuned["model"])
    if train_subset == "all":
        models |= set(accuracies.loc[pretrained, "model"])
    rib_pairs = accuracies[["eval_set", "rib"]].drop_duplicates()
    rib = {s for s, r in zip(rib_pairs["eval_set"], rib_pairs["rib"], strict=True)
           if r or (r is None and s in RIB_SETS)}
    downstream = ordered_sets({d for d in tuned["downstream"].unique() if d}, rib)
    seen_evals = set(accuracies.loc[accuracies["model"].isin(models), "eval_set"])
    eval_sets = [IMAGENET_VAL] if IMAGENET_VAL in seen_evals else []
    eval_sets += [d for d in downstream if d not in eval_sets]
    eval_sets += ordered_sets(seen_evals - set(eval_sets), rib)
    last = tuned.drop_duplicates("method", keep="last")
    rows = {m: MethodRow(_interpolates(k), b or m, None if a != a else a)
            for m, k, b, a in zip(last["method"], last["kind"], last["base"], last["alpha"], strict=True)}
    methods = ordered_methods(rows)
    seeded = set(tuned.loc[tuned["seed"].notna(), "method"])
    across = frozenset(m for m in methods if m not in seeded)
    seeds = sorted({s for s in tuned.loc[~tuned["method"].isin(across), "seed"].unique()}, key=_seed_order) or [None]
    return _scope(train_subset, sorted(models), downstream, eval_sets, methods, seeds,
                  rib_sets=ordered_sets(rib & set(eval_sets), rib), across_seeds=across)


def inferred_scope_notes(scope: Scope) -> list[str]:
    """Without a spec, say which sets nothing was fine-tuned on: a set whose fine-tunes have not
    run yet looks like an evaluation-only set, and the report cannot list them as missing."""
    if scope.train_subset != "all" or not scope.downstream:
        return []
    idle = [s for s in scope.rib_sets if s not in scope.downstream]
    if not idle:
        return []
    return [f"nothing was fine-tuned on {', '.join(idle)} (evaluated only); pass the spec file if the "
            "sweep fine-tunes on them, so their missing trials are listed"]


def _scope(train_subset, models, downstream, eval_sets, methods, seeds, expected=None, *, rib_sets=(),
           across_seeds=frozenset()) -> Scope:
    if expected is None:
        expected = [ExpectedTrial(m, PRETRAINED) for m in models] + [
            ExpectedTrial(m, method, d, s, train_subset)
            for m, method, d in itertools.product(models, methods, downstream)
            for s in ((None,) if method in across_seeds else seeds)]
    return Scope(train_subset, tuple(models), tuple(downstream), tuple(eval_sets), tuple(methods),
                 tuple(seeds), tuple(expected), tuple(rib_sets), frozenset(across_seeds))


def plan_subsets(plan: Plan) -> dict[str, str]:
    """Trial id -> train subset label, for every trial of the plan."""
    return {t.trial_id: t.row_fields()["train_subset"] or "all" for t in plan.trials}


def scope_from_plan(spec: Spec, plan: Plan, train_subset: str = "all") -> Scope:
    """The grid the spec defines: its models, downstream sets, eval sets, methods and seeds,
    and exactly the trials of its plan (ids included); RI's sets are the eval sets the registry
    (with the spec's plugins and datasets) marks `rib`."""
    from ribray.data import DATASETS

    subsets = plan_subsets(plan)
    planned = [t for t in plan.trials
               if t.reported and (t.method == PRETRAINED or subsets[t.trial_id] == train_subset)]
    expected = [ExpectedTrial(t.model.shown, t.method_label, t.downstream, t.seed,
                              subsets[t.trial_id] if t.method != PRETRAINED else "all", t.trial_id) for t in planned]
    rows = {t.method_label: MethodRow(t.interpolates, t.method, t.row_fields()["alpha"], t.variant or t.method)
            for t in planned if t.method != PRETRAINED}
    methods = ordered_methods(rows, preferred=tuple(spec.methods), preferred_interpolations=tuple(spec.interpolations))
    across = frozenset(t.method_label for t in planned if t.interpolates and t.seed is None)
    eval_sets = spec.resolved_eval_sets()
    rib = {s for s in eval_sets if s in DATASETS and DATASETS.get(s).rib}
    return _scope(train_subset, [m.resolved_label for m in spec.models], list(spec.downstream), eval_sets,
                  methods, list(spec.seeds), expected, rib_sets=ordered_sets(rib, rib), across_seeds=across)


def report_subsets(accuracies: pd.DataFrame, plan: Plan | None = None) -> list[str]:
    """The train subsets to report, 'all' (the main tables) first."""
    if plan is not None:
        found = {t.row_fields()["train_subset"] for t in plan.trials if t.reported and t.method != PRETRAINED}
    else:
        found = set(accuracies.loc[accuracies["method"] != PRETRAINED, "train_subset"])
    others = sorted(found - {"all"})
    return (["all"] if "all" in found or not others else []) + others
