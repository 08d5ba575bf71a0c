"""What a report covers: models, downstream sets (they define n), eval sets, methods, seeds,
and the trials it expects — from the spec's plan, or inferred from the results."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ribray.data import IMAGENET_VAL, RIB_SETS
from ribray.plan import FINETUNE, INTERPOLATE, trial_label
from ribray.report.rows import PRETRAINED, Accuracy, method_label, reported

PAPER_METHOD_ORDER = ("ft", "lp", "lp_ft", "vpt", "lora", "ewc", "lwf")
PAPER_INTERPOLATION_ORDER = ("wise_ft", "soup")


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
class Scope:
    """The grid of one report (one train subset)."""

    train_subset: str
    models: tuple[str, ...]
    downstream: tuple[str, ...]  # the sets fine-tuned on (the rows of the accuracy matrices)
    eval_sets: tuple[str, ...]  # columns of the accuracy matrices
    methods: tuple[str, ...]  # rows of the tables (without the pretrained model)
    seeds: tuple[int | None, ...]
    expected: tuple[ExpectedTrial, ...]

    @property
    def rib_sets(self) -> tuple[str, ...]:
        """The ImageNet-RIB sets evaluated (paper order): RI's out-of-distribution sets."""
        return tuple(s for s in RIB_SETS if s in self.eval_sets)

    @property
    def n(self) -> int:
        """RI's n: the number of ImageNet-RIB sets evaluated (8 in the paper)."""
        return len(self.rib_sets)

    @property
    def required_eval_sets(self) -> tuple[str, ...]:
        """The evaluations a trial must have: ImageNet-1K val, the RIB sets and the downstream
        sets, where the sweep evaluates them."""
        return tuple(s for s in self.eval_sets if s == IMAGENET_VAL or s in RIB_SETS or s in self.downstream)


def ordered_sets(names) -> list[str]:
    known = [n for n in RIB_SETS if n in names]
    return known + sorted(set(names) - set(known))


def ordered_methods(labels, preferred: tuple[str, ...] = PAPER_METHOD_ORDER) -> list[str]:
    """Fine-tuning methods (preferred order first), then interpolations (WiSE-FT by alpha,
    then the soup, then any other registered one)."""
    from ribray.interpolations import INTERPOLATIONS

    def position(label: str) -> tuple:
        base = label.split("(")[0]
        if base in INTERPOLATIONS:
            alpha = float(label[len(base) + 1:-1]) if "(" in label else 0.0
            order = [*PAPER_INTERPOLATION_ORDER, *INTERPOLATIONS.names()]
            return (1, order.index(base), alpha, label)
        rank = preferred.index(base) if base in preferred else len(preferred)
        return (0, rank, 0.0, label)

    return sorted(set(labels), key=position)


def _seed_order(seed: int | None) -> tuple:
    return (seed is None, seed or 0)


def infer_scope(accuracies: list[Accuracy], train_subset: str = "all") -> Scope:
    """The grid the results imply: every model x method x downstream set x seed seen.

    Downstream sets are pooled over models (a sweep fine-tunes every model on the same sets),
    so a model whose fine-tunes are partly missing is reported as incomplete, not as a
    sweep with a smaller n."""
    tuned = [a for a in accuracies if a.method != PRETRAINED and a.train_subset == train_subset]
    models = {a.model for a in tuned}
    if train_subset == "all":
        models |= {a.model for a in accuracies if a.method == PRETRAINED}
    downstream = ordered_sets({a.downstream for a in tuned if a.downstream})
    seen_evals = {a.eval_set for a in accuracies if a.model in models}
    eval_sets = [IMAGENET_VAL] if IMAGENET_VAL in seen_evals else []
    eval_sets += [d for d in downstream if d not in eval_sets]
    eval_sets += sorted(seen_evals - set(eval_sets))
    methods = ordered_methods({a.method for a in tuned})
    seeds = sorted({a.seed for a in tuned}, key=_seed_order) or [None]
    return _scope(train_subset, sorted(models), downstream, eval_sets, methods, seeds)


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


def _scope(train_subset, models, downstream, eval_sets, methods, seeds, expected=None) -> Scope:
    if expected is None:
        expected = [ExpectedTrial(m, PRETRAINED) for m in models] + [
            ExpectedTrial(m, method, d, s, train_subset)
            for m, method, d, s in itertools.product(models, methods, downstream, seeds)]
    return Scope(train_subset, tuple(models), tuple(downstream), tuple(eval_sets), tuple(methods),
                 tuple(seeds), tuple(expected))


def plan_subsets(plan) -> dict[str, str]:
    """Trial id -> train subset label, for every trial of the plan."""
    return {t.trial_id: t.row_fields()["train_subset"] or "all" for t in plan.trials}


def scope_from_plan(spec, plan, train_subset: str = "all") -> Scope:
    """The grid the spec defines: its models, downstream sets, eval sets, methods and seeds,
    and exactly the trials of its plan (ids included)."""
    subsets = plan_subsets(plan)
    expected = [
        ExpectedTrial(t.model.name, method_label(t.method, t.row_fields()["alpha"]), t.downstream, t.seed,
                      subsets[t.trial_id] if t.kind != PRETRAINED else "all", t.trial_id)
        for t in plan.trials
        if reported(t.kind) and (t.kind == PRETRAINED or subsets[t.trial_id] == train_subset)]
    methods = ordered_methods({e.method for e in expected if e.method != PRETRAINED},
                              preferred=tuple(spec.methods))
    return _scope(train_subset, [m.name for m in spec.models], list(spec.downstream),
                  spec.resolved_eval_sets(), methods, list(spec.seeds), expected)


def report_subsets(accuracies: list[Accuracy], plan=None) -> list[str]:
    """The train subsets to report, 'all' (the main tables) first."""
    if plan is not None:
        found = {t.row_fields()["train_subset"] for t in plan.trials if t.kind in (FINETUNE, INTERPOLATE)}
    else:
        found = {a.train_subset for a in accuracies if a.method != PRETRAINED}
    others = sorted(found - {"all"})
    return (["all"] if "all" in found or not others else []) + others
