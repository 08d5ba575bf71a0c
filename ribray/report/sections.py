"""What the report shows, in order: sections of tables (each a Grid: CSV, Markdown, heatmap)
and of other plots. A new view of the tables is one more builder in SECTION_BUILDERS; a trial
kind's own view (learning curves, CKA, OTDD, a plugin's) is a builder the kind names in
`Trial.sections`, returning Sections whose `plots` draw themselves."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ribray.data import short_name
from ribray.errors import RibrayError
from ribray.plan import kinds_in_order
from ribray.report.build import Report
from ribray.report.tables import Grid, accuracy_grid, model_labels, ri_grid, summary_grids


class Plot(Protocol):
    """A figure that is not a table's heatmap (e.g. learning curves)."""

    stem: str  # file path under the report folder, without suffix
    title: str

    def draw(self, path: Path) -> Path: ...


@dataclass
class Section:
    title: str
    grids: list[Grid] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    collapsed: bool = False  # many small tables: laid out side by side on the page (per-method matrices)
    detail: bool = False  # a figure per (model, method): drawn with `--figures all` (figures.FIGURES)
    html: str = ""  # more of the page after the tables, already HTML (the comparison's own tables)


def summary_sections(report: Report) -> list[Section]:
    scope = report.scope
    seeds = ", ".join("-" if s is None else str(s) for s in scope.seeds)
    text = [f"{len(scope.models)} pretrained model(s), {len(scope.downstream)} downstream set(s) "
            f"({', '.join(map(short_name, scope.downstream)) or 'none'}), {len(scope.methods)} method(s), "
            f"seed(s) {seeds}; values are mean ± std over seeds when there are several."]
    return [Section("Across pretrained models", grids=summary_grids(report), text=text)]


def per_model_sections(report: Report) -> list[Section]:
    """Per model: RI per downstream set, then each method's accuracy matrix (folded)."""
    sections = []
    for model in report.scope.models:
        shown = model_labels(report)[model]
        sections.append(Section(f"{shown}: robustness improvement", grids=[ri_grid(report, model)]))
        matrices = [accuracy_grid(report, model, m) for m in report.scope.methods
                    if report.has_results(model, m)]
        if matrices:
            sections.append(Section(f"{shown}: accuracy matrices", grids=matrices, collapsed=True, detail=True))
    return sections


def kind_sections(report: Report) -> list[Section]:
    """The sections each trial kind names (`Trial.sections`), kind by kind in plan order, each
    built from that kind's analysis rows (nothing for a kind without rows)."""
    sections = []
    for kind in kinds_in_order():
        rows = [row for row in report.analysis_rows if row["kind"] == kind.kind]
        for name in kind.sections if rows else ():
            sections += section_builder(name)(report, rows)
    return sections


def section_builder(name: str) -> Callable[[Report, list[dict]], list[Section]]:
    """The function a kind's "module:function" section names."""
    module, _, function = name.partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as error:
        raise RibrayError(f"report section {name!r}: {error} (a trial kind's `sections` name "
                          "module:function)") from None


SECTION_BUILDERS: list[Callable[[Report], list[Section]]] = [summary_sections, per_model_sections, kind_sections]


def report_sections(report: Report) -> list[Section]:
    """Every section, without tables that have no rows or columns yet (e.g. no fine-tunes)."""
    sections = [section for build in SECTION_BUILDERS for section in build(report)]
    for section in sections:
        section.grids = [g for g in section.grids if g.rows and g.columns]
    return [s for s in sections if s.grids or s.plots or s.text]
