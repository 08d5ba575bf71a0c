"""The report's tables as Grids (rows x columns of values over seeds), and their CSV and
Markdown forms. Heatmaps are drawn from the same Grids (figures.py)."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

from ribray.report.build import Report
from ribray.report.formula import RI_LATEX, RI_TEXT
from ribray.report.robustness import MISSING, Stat
from ribray.report.rows import PRETRAINED
from ribray.report.scope import IMAGENET_VAL


@dataclass(frozen=True)
class Grid:
    """One table. `side` is an extra column shown beside the heatmap (e.g. RI per row)."""

    stem: str  # file path under the report folder, without suffix
    title: str
    corner: str  # what the rows are (header of the first column)
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, str], Stat]
    column_title: str = ""  # what the columns are (the heatmap's x label)
    diverging: bool = False  # colours centred on 0 (RI) rather than sequential (accuracy)
    caption: str = ""
    side_title: str = ""
    side: dict[str, Stat] = field(default_factory=dict)
    missing_text: dict[tuple[str, str], str] = field(default_factory=dict)  # instead of "—"
    unit: str = ""  # the colour bar's label, when not an accuracy or RI (CKA, OTDD)
    labels: dict[str, str] = field(default_factory=dict)  # how rows/columns are shown (paper names)
    formula: bool = False  # the caption opens with the RI formula, typeset in each format
    short: str = ""  # its name in the page's table of contents (default: the title)

    def label(self, key: str) -> str:
        """A row's or column's name as tables and figures show it (CSV keeps the key)."""
        return self.labels.get(key, key)

    def cell(self, row: str, column: str) -> Stat:
        return self.cells.get((row, column), MISSING)

    def several_seeds(self) -> bool:
        return any(len(s.per_seed) > 1 for s in [*self.cells.values(), *self.side.values()])

    def shown(self, row: str, column: str) -> str:
        note = self.missing_text.get((row, column))
        return self.cell(row, column).shown(missing=f"— ({note})" if note else "—")

    def to_pandas(self, statistic: str = "mean"):
        """The table as a pandas DataFrame of means (or 'std'), NaN where missing."""
        import pandas as pd

        data = {c: [getattr(self.cell(r, c), statistic) for r in self.rows] for c in self.columns}
        if self.side:
            data[self.side_title] = [getattr(self.side.get(r, MISSING), statistic) for r in self.rows]
        return pd.DataFrame(data, index=pd.Index(self.rows, name=self.corner))


def slug(name: str) -> str:
    """A model's or method's name as a file name: letters, digits and . _ = - only, so that
    shells, LaTeX's \\includegraphics and URLs take it as it is ("wise_ft(0.5)" -> "wise_ft_0.5")."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("_") or "_"


def model_labels(report: Report) -> dict[str, str]:
    """The paper's names of the report's models ("IN-21K + AugReg"), for display."""
    from ribray.models.paper import paper_name

    return {model: paper_name(model) for model in report.scope.models}


def set_labels(*groups) -> dict[str, str]:
    """Eval sets as tables and figures show them: their short names (R, Sketch, IN-1K), the ones
    MLflow's metrics use; the id stays in CSV and in the page's tooltips and set list."""
    from ribray.data import short_name

    return {name: short_name(name) for group in groups for name in group}


def mri_grid(report: Report) -> Grid:
    """Rows = methods (WiSE-FT per alpha, soup), columns = pretrained models: mRI."""
    scope = report.scope
    cells = {(m, model): report.mri[(model, m)] for model in scope.models for m in scope.methods}
    counts = {(m, model): f"{report.complete_ri_cells(model, m)}/{len(scope.downstream)} RI"
              for model in scope.models for m in scope.methods if not report.mri[(model, m)].complete}
    return Grid("mri", "mRI: mean robustness improvement (percentage points)", "method",
                scope.methods, scope.models, cells, "pretrained model", diverging=True,
                missing_text=counts, labels=model_labels(report), formula=True, short="mRI",
                caption=ri_caption(scope) + " A missing cell shows how many of its RI_i (one per "
                "downstream set) are complete.")


def ri_caption(scope) -> str:
    """The definition the numbers follow in words, with this report's n and sets (the formula
    itself comes before it, typeset by each format: `Grid.formula`)."""
    return (f"RI is the mean change of top-1 accuracy, against the pretrained model, on the n = {scope.n} "
            f"{scope.sets_name} evaluated ({', '.join(scope.rib_sets)}) other than i, the set fine-tuned on "
            "(all n when i is not one of them, e.g. ImageNet-1K): A_i^(j) is the accuracy on set j after "
            "fine-tuning on i, A_pre^(j) the pretrained model's. mRI is the mean of RI over the downstream "
            "sets i.")


def absolute_robustness_grid(report: Report) -> Grid:
    """Rows = pretrained and methods, columns = pretrained models: mean OOD accuracy."""
    scope = report.scope
    rows = (PRETRAINED, *scope.methods)
    cells = {(m, model): report.absolute[(model, m)] for model in scope.models for m in rows}
    return Grid("absolute_robustness", "Absolute robustness: mean OOD accuracy after fine-tuning (%)", "method",
                rows, scope.models, cells, "pretrained model", labels=model_labels(report),
                short="absolute robustness",
                caption="Mean over the downstream sets i of the mean accuracy on the ImageNet-RIB sets other "
                        "than i (= mRI + the pretrained row: the pretrained model's mean accuracy on the "
                        "same sets).")


def downstream_accuracy_grid(report: Report) -> Grid:
    scope = report.scope
    rows = (PRETRAINED, *scope.methods)
    cells = {(m, model): report.downstream_accuracy[(model, m)] for model in scope.models for m in rows}
    return Grid("downstream_accuracy", "Accuracy on the downstream set fine-tuned on (%)", "method",
                rows, scope.models, cells, "pretrained model", labels=model_labels(report),
                short="downstream accuracy",
                caption="Mean over downstream sets i of the accuracy on i itself "
                        "(pretrained: its accuracy on each downstream set, averaged).")


def imagenet_accuracy_grid(report: Report) -> Grid | None:
    """ImageNet-1K val accuracy after fine-tuning (forgetting of the pretraining task)."""
    scope = report.scope
    if IMAGENET_VAL not in scope.eval_sets:
        return None
    rows = (PRETRAINED, *scope.methods)
    cells = {(m, model): report.imagenet_accuracy[(model, m)] for model in scope.models for m in rows}
    return Grid("imagenet_accuracy", "ImageNet-1K val accuracy after fine-tuning (%)", "method",
                rows, scope.models, cells, "pretrained model", labels=model_labels(report),
                short="ImageNet-1K accuracy", caption="Mean over the downstream sets fine-tuned on.")


def ri_grid(report: Report, model: str) -> Grid:
    """Rows = methods, columns = the downstream set fine-tuned on: RI_i, and mRI beside."""
    scope = report.scope
    cells = {(m, d): report.ri[(model, m, d)] for m in scope.methods for d in scope.downstream}
    return Grid(f"ri/{slug(model)}", f"RI per downstream set: {model_labels(report)[model]}", "method",
                scope.methods,
                scope.downstream, cells, "fine-tuned on", diverging=True, side_title="mRI",
                side={m: report.mri[(model, m)] for m in scope.methods}, formula=True,
                labels=set_labels(scope.downstream), short="RI",
                caption="Columns: the downstream set i fine-tuned on. " + ri_caption(scope))


def accuracy_grid(report: Report, model: str, method: str) -> Grid:
    """Rows = pretrained, then the downstream set fine-tuned on; columns = eval sets; RI beside."""
    scope = report.scope
    cells = {(PRETRAINED, s): report.pretrained[model][s] for s in scope.eval_sets}
    for d in scope.downstream:
        cells |= {(d, s): report.accuracy[(model, method, d)][s] for s in scope.eval_sets}
    return Grid(f"accuracy/{slug(model)}/{slug(method)}",
                f"Top-1 accuracy (%): {model_labels(report)[model]} / {method}",
                "fine-tuned on", (PRETRAINED, *scope.downstream), scope.eval_sets, cells, "evaluated on",
                side_title="RI", side={d: report.ri[(model, method, d)] for d in scope.downstream},
                labels=set_labels(scope.downstream, scope.eval_sets), short=method,
                caption=f"mRI = {report.mri[(model, method)].shown()}")


def summary_grids(report: Report) -> list[Grid]:
    """The tables across models: mRI, absolute robustness, downstream and ImageNet-1K accuracy."""
    found = [mri_grid(report), absolute_robustness_grid(report), downstream_accuracy_grid(report),
             imagenet_accuracy_grid(report)]
    return [g for g in found if g is not None]


def _row_stats(grid: Grid, row: str) -> list[Stat]:
    """A row's cells, then its side value when the grid has a side column."""
    stats = [grid.cell(row, c) for c in grid.columns]
    return stats + ([grid.side.get(row, MISSING)] if grid.side else [])


def to_csv(grid: Grid) -> str:
    """Numbers at full precision, blank where missing: each column's mean, then its standard
    deviation over seeds in `<column>_std` (blank for one seed), like mean ± std in the .md."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = [*grid.columns, *([grid.side_title] if grid.side else [])]
    writer.writerow([grid.corner, *names, *(f"{n}_std" for n in names)])
    for row in grid.rows:
        stats = _row_stats(grid, row)
        values = [s.mean for s in stats] + [s.std for s in stats]
        writer.writerow([row, *("" if math.isnan(v) else repr(v) for v in values)])
    return buffer.getvalue()


def to_markdown(grid: Grid, heading: str = "###", math: bool = True, formula: bool = True) -> str:
    """A GitHub-flavoured Markdown table: 'mean ± std' over seeds, '—' where missing; the RI
    formula as LaTeX math (GitHub renders it), or as plain text (`math=False`, a terminal);
    `formula=False`: not at all (a document that states it once, above its tables)."""
    side = [grid.side_title] if grid.side else []
    header = [grid.corner, *map(grid.label, grid.columns), *side]
    lines = [f"{heading} {grid.title}", "", _md_row(header), "|" + "---|" * len(header)]
    for row in grid.rows:
        lines.append(_md_row([grid.label(row), *_shown_row(grid, row)]))
    if grid.formula and formula:
        lines += ["", f"$${RI_LATEX}$$" if math else RI_TEXT]
    if grid.caption:
        lines += ["", grid.caption]
    return "\n".join(lines) + "\n"


def _shown_row(grid: Grid, row: str) -> list[str]:
    values = [grid.shown(row, c) for c in grid.columns]
    return values + ([grid.side.get(row, MISSING).shown()] if grid.side else [])


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "—": "---", "–": "--", "−": "--", "±": r"\ensuremath{\pm}", "…": r"\ldots{}", "≠": r"\ensuremath{\neq}"}


def latex_escape(text: str) -> str:
    """Text as LaTeX typesets it literally (underscores of set names, % of units)."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def _latex_value(text: str) -> str:
    """'1.23 ± 0.04' -> '$1.23 \\pm 0.04$'; a missing cell '—' -> '--'."""
    if text.startswith("—"):
        return "--" + latex_escape(text[1:])
    mean, _, std = text.partition(" ± ")
    return f"${mean} \\pm {std}$" if std else f"${mean}$"


def to_latex(grid: Grid) -> str:
    """The table for a paper: a booktabs tabular in a table float, mean ± std over seeds,
    '--' where missing, the caption and a label from the file name (needs \\usepackage{booktabs})."""
    side = [grid.side_title] if grid.side else []
    header = [grid.corner, *map(grid.label, grid.columns), *side]
    align = "l" + "r" * (len(header) - 1)
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]
    for row in grid.rows:
        rule = r" \midrule" if row == PRETRAINED and len(grid.rows) > 1 else ""  # the baseline row apart
        lines.append(" & ".join([latex_escape(grid.label(row)), *map(_latex_value, _shown_row(grid, row))])
                     + r" \\" + rule)
    caption = latex_escape(grid.title) + "." + (f" ${RI_LATEX}$." if grid.formula else "")
    caption += f" {latex_escape(grid.caption)}" if grid.caption else ""
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption[{latex_escape(grid.title)}]{{{caption}}}",
              rf"\label{{tab:{slug(grid.stem.replace('/', '-'))}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"
