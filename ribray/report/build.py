"""From result rows to a Report: accuracies, RI per downstream set, mRI, missing trials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ribray.data import RIB_SETS
from ribray.errors import RibrayError
from ribray.fidelity import RIBRAY
from ribray.report.deviations import concerns_of
from ribray.report.missing import Missing, find_missing, pretrained_gaps
from ribray.report.provenance import Provenance, provenance_of
from ribray.report.robustness import (
    MISSING,
    NAN,
    Stat,
    mean_or_nan,
    ood_accuracy,
    per_seed_mean,
    robustness_improvement,
)
from ribray.report.rows import (
    PRETRAINED,
    as_planned,
    check_columns,
    check_one_evaluation,
    check_one_fidelity,
    check_one_image_set,
    check_one_spec,
    final_accuracies,
    newest_per_cell,
    optional_column,
    records,
    reported,
    result_frame,
)
from ribray.report.scope import (
    IMAGENET_VAL,
    Scope,
    infer_scope,
    inferred_scope_notes,
    plan_subsets,
    report_subsets,
    scope_from_plan,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyarrow as pa

    from ribray.plan import Plan
    from ribray.results.row import ResultRow
    from ribray.spec import Spec

Cell = tuple[str, str]  # (model, method)


@dataclass
class Report:
    """Everything the tables show for one train subset ('all': the paper's main tables)."""

    scope: Scope
    pretrained: dict[str, dict[str, Stat]]  # model -> eval set -> accuracy
    accuracy: dict[tuple[str, str, str], dict[str, Stat]]  # (model, method, fine-tuned on) -> eval set -> acc
    ri: dict[tuple[str, str, str], Stat]  # (model, method, fine-tuned on) -> RI_i
    mri: dict[Cell, Stat]
    downstream_accuracy: dict[Cell, Stat]  # mean over i of the accuracy on i itself
    imagenet_accuracy: dict[Cell, Stat]  # mean over i of the ImageNet-1K val accuracy
    absolute: dict[Cell, Stat] = field(default_factory=dict)  # mean over i of the mean OOD accuracy
    missing: list[Missing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    analysis_rows: list[ResultRow] = field(default_factory=list)  # learning-curve points, CKA, OTDD
    fidelity: str = RIBRAY  # the results' mode (ribray.fidelity), 'mixed' with allow_mixed
    concerns: frozenset[str] | None = None  # what the results hold (report.deviations); None: unknown, all
    provenance: Provenance | None = None  # where the numbers come from (the same for every train subset)

    def complete_ri_cells(self, model: str, method: str) -> int:
        """How many of the n RI_i of (model, method) have every seed's value."""
        return sum(self.ri[(model, method, d)].complete for d in self.scope.downstream)

    def has_results(self, model: str, method: str) -> bool:
        return any(s.present for d in self.scope.downstream
                   for s in self.accuracy[(model, method, d)].values())


def build_reports(results: pa.Table | pd.DataFrame | Iterable[ResultRow], spec: Spec | None = None,
                  allow_mixed: bool = False) -> list[Report]:
    """One Report per train subset ('all' first) from a pyarrow Table, a pandas DataFrame
    or a list of result rows. With a spec, only its plan's trials count (results of older
    or other specs are left out, so mixed spec hashes are fine); without one, results of
    several specs are refused unless allow_mixed. An eval set evaluated with different
    decoders or precisions is refused unless allow_mixed, either way."""
    rows = result_frame(results)
    check_columns(rows)
    plan = None
    notes: list[str] = []
    accuracies = final_accuracies(rows)
    if accuracies.empty:
        raise RibrayError("the results hold no final accuracies yet (only learning-curve points "
                          "or analysis rows): nothing to report")
    if spec is not None:
        from ribray.plan import make_plan

        plan = make_plan(spec)
        accuracies, notes = _restrict_to_plan(accuracies, plan)
    else:
        check_one_spec(rows, allow_mixed)
    accuracies, superseded = newest_per_cell(accuracies)
    fidelity, fidelity_notes = check_one_fidelity(accuracies, allow_mixed)
    notes += fidelity_notes
    notes += check_one_evaluation(accuracies, allow_mixed)
    notes += check_one_image_set(accuracies, allow_mixed)
    if superseded:
        notes.append(f"{len(superseded)} trial(s) superseded by newer results for the same model, method, "
                     f"downstream set and seed: {', '.join(sorted(superseded))}")
    reports = []
    for subset in report_subsets(accuracies, plan):
        if plan is not None:
            scope, scope_notes = scope_from_plan(spec, plan, subset), []
        else:
            scope = infer_scope(accuracies, subset)
            scope_notes = inferred_scope_notes(scope)
        report = build_report_for(scope, accuracies, notes + scope_notes)
        report.fidelity = fidelity
        report.analysis_rows = analysis_rows(rows, scope, plan)
        reports.append(report)
    used = set(accuracies["trial_id"].dropna()) | {r["trial_id"] for report in reports for r in report.analysis_rows}
    eval_sets = list(dict.fromkeys(s for report in reports for s in report.scope.eval_sets))
    found = provenance_of(rows, used, eval_sets)
    concerns = concerns_of(rows[rows["trial_id"].isin(used)] if "trial_id" in rows.columns else rows)
    for report in reports:
        report.provenance, report.concerns = found, concerns
    return reports


def analysis_rows(rows: pd.DataFrame, scope: Scope, plan: Plan | None = None) -> list[ResultRow]:
    """The rows the trial kinds' sections draw: learning-curve points, and the rows of kinds whose
    rows are not accuracies for the tables (CKA, OTDD, a plugin's analysis)."""
    kind, final, subset = (optional_column(rows, name) for name in ("kind", "final", "train_subset"))
    wanted = optional_column(rows, "model").isin(scope.models)
    if plan is not None:
        wanted &= optional_column(rows, "trial_id").isin({t.trial_id for t in plan.trials})
    curve_point = final.map(lambda f: f is False).astype(bool)  # a learning-curve point (not final)
    wanted &= ~kind.map(reported).astype(bool) | curve_point
    wanted &= subset.isna() | (subset == scope.train_subset)
    return records(rows[wanted])


def build_report(results: pa.Table | pd.DataFrame | Iterable[ResultRow], spec: Spec | None = None,
                 allow_mixed: bool = False, train_subset: str = "all") -> Report:
    """The Report of one train subset (default: the main tables); see build_reports."""
    for report in build_reports(results, spec=spec, allow_mixed=allow_mixed):
        if report.scope.train_subset == train_subset:
            return report
    raise RibrayError(f"no results for train subset {train_subset!r}")


def _restrict_to_plan(accuracies: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, list[str]]:
    planned = accuracies["trial_id"].isin(set(plan_subsets(plan)))
    outside = set(accuracies.loc[~planned, "trial_id"])
    notes = []
    if outside:
        notes.append(f"{len(outside)} trial(s) in the results are not in this spec's plan "
                     "(older settings or another spec) and are left out")
    return as_planned(accuracies[planned], plan), notes


def build_report_for(scope: Scope, accuracies: pd.DataFrame, notes: list[str] | None = None) -> Report:
    """The Report of `scope` from de-duplicated final accuracies."""
    pretrained_rows = accuracies["method"] == PRETRAINED
    accuracies = accuracies[accuracies["model"].isin(scope.models)
                            & (pretrained_rows | (accuracies["train_subset"] == scope.train_subset))]
    pretrained = _pretrained_accuracy(scope, accuracies)
    reference = {m: {s: stat.mean for s, stat in sets.items()} for m, sets in pretrained.items()}
    by_trial = _by_trial(accuracies)
    report = Report(scope, pretrained, {}, {}, {}, {}, {}, {}, find_missing(scope, accuracies), list(notes or []))
    for model in scope.models:
        for method in scope.methods:
            _fill_cell(report, by_trial, reference[model], model, method)
        _fill_pretrained_summary(report, model)
    report.notes += pretrained_gaps(scope, report.missing) + _scope_notes(scope)
    return report


def _pretrained_accuracy(scope: Scope, accuracies: pd.DataFrame) -> dict[str, dict[str, Stat]]:
    """model -> eval set -> the pretrained model's accuracy (over its seeds, if it has any)."""
    found: dict[str, dict[str, dict]] = {m: {} for m in scope.models}
    rows = accuracies[accuracies["method"] == PRETRAINED]
    for model, eval_set, seed, top1 in zip(rows["model"], rows["eval_set"], rows["seed"], rows["top1"], strict=True):
        found[model].setdefault(eval_set, {})[seed] = top1
    return {m: {s: Stat.of(sets.get(s, {None: NAN})) for s in scope.eval_sets} for m, sets in found.items()}


def _by_trial(accuracies: pd.DataFrame) -> dict[tuple, dict[str, float]]:
    """(model, method, downstream, seed) -> eval set -> accuracy, for the tuned models."""
    found: dict[tuple, dict[str, float]] = {}
    rows = accuracies[accuracies["method"] != PRETRAINED]
    for *trial, eval_set, top1 in zip(rows["model"], rows["method"], rows["downstream"], rows["seed"],
                                      rows["eval_set"], rows["top1"], strict=True):
        found.setdefault(tuple(trial), {})[eval_set] = top1
    return found


def _fill_cell(report: Report, by_trial: dict, reference: dict[str, float], model: str, method: str) -> None:
    """Accuracy matrix rows, RI per downstream set, and the means over sets, of one (model, method)."""
    scope = report.scope
    seeds = scope.seeds_of(method)
    absolute: dict[str, Stat] = {}  # downstream set -> mean OOD accuracy after fine-tuning on it
    for downstream in scope.downstream:
        trials = {seed: by_trial.get((model, method, downstream, seed), {}) for seed in seeds}
        report.accuracy[(model, method, downstream)] = {
            s: Stat.of({seed: trials[seed].get(s, NAN) for seed in seeds}) for s in scope.eval_sets}
        report.ri[(model, method, downstream)] = Stat.of({
            seed: robustness_improvement(trials[seed], reference, scope.rib_sets, downstream)
            for seed in seeds})
        absolute[downstream] = Stat.of({seed: ood_accuracy(trials[seed], scope.rib_sets, downstream)
                                        for seed in seeds})
    cell = (model, method)
    report.mri[cell] = per_seed_mean([report.ri[(model, method, d)] for d in scope.downstream], seeds)
    report.absolute[cell] = per_seed_mean([absolute[d] for d in scope.downstream], seeds)
    report.downstream_accuracy[cell] = per_seed_mean(
        [report.accuracy[(model, method, d)].get(d, MISSING) for d in scope.downstream], seeds)
    if IMAGENET_VAL in scope.eval_sets:
        report.imagenet_accuracy[cell] = per_seed_mean(
            [report.accuracy[(model, method, d)][IMAGENET_VAL] for d in scope.downstream], seeds)


def _fill_pretrained_summary(report: Report, model: str) -> None:
    """The pretrained model's row of the accuracy tables (for reference)."""
    scope = report.scope
    sets = report.pretrained[model]
    report.downstream_accuracy[(model, PRETRAINED)] = Stat.of(
        {None: mean_or_nan(sets.get(d, MISSING).mean for d in scope.downstream)})
    reference = {s: stat.mean for s, stat in sets.items()}
    report.absolute[(model, PRETRAINED)] = Stat.of(
        {None: mean_or_nan(ood_accuracy(reference, scope.rib_sets, d) for d in scope.downstream)})
    if IMAGENET_VAL in scope.eval_sets:
        report.imagenet_accuracy[(model, PRETRAINED)] = Stat.of({None: sets[IMAGENET_VAL].mean})


def _scope_notes(scope: Scope) -> list[str]:
    if not scope.downstream:
        return ["no fine-tuned results yet: nothing to compute RI from"]
    if not scope.rib_sets:
        return ["no ImageNet-RIB set is evaluated: RI (the change on them) is undefined"]
    unevaluated = [s for s in RIB_SETS if s not in scope.rib_sets]
    added = [s for s in scope.rib_sets if s not in RIB_SETS]
    notes = []
    if unevaluated or added:
        notes.append(f"RI is over n = {scope.n} sets: {', '.join(scope.rib_sets)}"
                     + (f"; the paper's n = 8 also has {', '.join(unevaluated)}" if unevaluated else "")
                     + (f"; {', '.join(added)} {'is' if len(added) == 1 else 'are'} not one of the paper's eight "
                        "(marked rib by a plugin or the spec's datasets:), so these RI/mRI are not the paper's"
                        if added else ""))
    if scope.across_seeds:
        notes.append(f"{', '.join(sorted(scope.across_seeds))}: one trial combines every seed's fine-tunes, so "
                     "these rows have no standard deviation over seeds")
    return notes
