"""Views across the reports of several train subsets (`train_subsets:`, e.g. K images per class
of each downstream set, sweeps/downstream_shots.yaml): per (model, method), RI of each
downstream set and the mRI against the fine-tuning set's size, and the accuracy on the set
fine-tuned on. They go on the first report's page; dataset_size.csv/.png hold the means."""

from __future__ import annotations

from ribray.models.paper import paper_name
from ribray.report.analyses import subset_order
from ribray.report.build import Report
from ribray.report.robustness import MISSING
from ribray.report.sections import Section
from ribray.report.tables import Grid, ri_caption, slug

MRI_ROW = "mRI"


def size_sections(reports: list[Report]) -> list[Section]:
    """One section of grids per (model, method) that several train subsets fine-tuned; none
    for a sweep of one train subset."""
    if len(reports) < 2:
        return []
    ordered = sorted(reports, key=lambda r: subset_order(r.scope.train_subset))
    subsets = tuple(r.scope.train_subset for r in ordered)
    cells = list(dict.fromkeys((model, method) for r in ordered for model in r.scope.models
                               for method in r.scope.methods if r.has_results(model, method)))
    grids = []
    for model, method in cells:
        grids += [_ri_grid(ordered, subsets, model, method), _downstream_grid(ordered, subsets, model, method)]
    if not grids:
        return []
    text = [f"Columns: the fine-tuning set's size ({', '.join(subsets)}: K images of every class of the "
            "downstream set, or a fraction of each class). dataset_size.csv and dataset_size.png hold the "
            "means over downstream sets."]
    return [Section("Robustness against the size of the fine-tuning set, per downstream set", grids=grids,
                    text=text)]


def _downstream_sets(reports: list[Report]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for r in reports for d in r.scope.downstream))


def _ri_grid(reports: list[Report], subsets: tuple[str, ...], model: str, method: str) -> Grid:
    rows = _downstream_sets(reports)
    cells = {}
    for report, subset in zip(reports, subsets, strict=True):
        cells |= {(d, subset): report.ri.get((model, method, d), MISSING) for d in rows}
        cells[(MRI_ROW, subset)] = report.mri.get((model, method), MISSING)
    return Grid(f"size/{slug(model)}/{slug(method)}", f"RI against the fine-tuning set's size: {paper_name(model)} / "
                f"{method}", "fine-tuned on", (*rows, MRI_ROW), subsets, cells, "fine-tuning set", diverging=True,
                caption="Rows: the downstream set i fine-tuned on (RI_i), and their mean (mRI). "
                        + ri_caption(reports[0].scope))


def _downstream_grid(reports: list[Report], subsets: tuple[str, ...], model: str, method: str) -> Grid:
    rows = _downstream_sets(reports)
    cells = {}
    for report, subset in zip(reports, subsets, strict=True):
        cells |= {(d, subset): report.accuracy.get((model, method, d), {}).get(d, MISSING) for d in rows}
    return Grid(f"size/{slug(model)}/{slug(method)}_downstream",
                f"Accuracy on the set fine-tuned on (%): {paper_name(model)} / {method}", "fine-tuned on", rows,
                subsets, cells, "fine-tuning set",
                caption="How well each subset was learned: top-1 on the whole downstream set after fine-tuning "
                        "on K images of each of its classes.")
