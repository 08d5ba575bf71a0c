"""A sweep's numbers beside reference ones (`ribray report --compare paper|FILE`): per cell the
published value, ribray's, their difference and whether it is within tolerance; a summary per
table; cells the sweep did not run listed as such, never filled.

Tolerance of a cell: the standard deviation of ribray's value over seeds when it has several,
else `--tolerance`, else the table's `tolerance:`, else DEFAULT_TOLERANCE; plus half a unit
of the published value's last digit (2.21 stands for anything in [2.205, 2.215]). A cell is
within tolerance when |ribray - published| is at most that."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from html import escape

from ribray.report.build import Report
from ribray.report.reference import QUANTITY_KEYS, Reference, ReferenceCell, ReferenceTable, canonical_model, decimals
from ribray.report.robustness import MISSING, Stat
from ribray.report.rows import PRETRAINED
from ribray.report.sections import Section

DEFAULT_TOLERANCE = 0.5  # percentage points: a stated default, not a measured seed-to-seed spread
COMPARED, INCOMPLETE, NOT_RUN, OTHER_N = "compared", "incomplete", "not run", "other n"
UNITS = {"mri": "pp", "ri": "pp", "absolute": "%", "accuracy": "%"}
FILES = ("comparison.csv", "comparison.md")


@dataclass(frozen=True)
class ComparedCell:
    cell: ReferenceCell
    ribray: Stat  # MISSING when the sweep has no such cell
    comparable: bool  # False when ribray's RI averages over another n than the reference's
    tolerance: float  # before the published value's rounding
    tolerance_from: str  # "seeds' std", "--tolerance", "table", "default"
    rounding: float  # half a unit of the published value's last digit

    @property
    def status(self) -> str:
        if not self.ribray.present:
            return NOT_RUN
        if not self.comparable:
            return OTHER_N
        return COMPARED if self.ribray.complete else INCOMPLETE

    @property
    def difference(self) -> float:
        """ribray's mean minus the published value; NaN when not compared."""
        return self.ribray.mean - self.cell.value if self.status == COMPARED else math.nan

    @property
    def within(self) -> bool | None:
        if self.status != COMPARED:
            return None
        return abs(self.difference) <= self.tolerance + self.rounding + 1e-9  # float noise of sums


@dataclass(frozen=True)
class ComparedTable:
    table: ReferenceTable
    file: str
    cells: tuple[ComparedCell, ...]
    ribray_n: int | None = None  # RI's n in the report compared with (None: no such report)

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.cells)

    def summary(self) -> str:
        """One line: how many cells were compared, within tolerance, the largest difference, not run."""
        table, unit = self.table, UNITS[self.table.quantity]
        compared = [c for c in self.cells if c.status == COMPARED]
        line = f"{table.id} ({table.version}): {len(compared)}/{len(self.cells)} cell(s) compared"
        if compared:
            within = sum(bool(c.within) for c in compared)
            largest = max(abs(c.difference) for c in compared)
            line += f", {within} within tolerance, largest |difference| {largest:.2f} {unit}"
        if self.count(NOT_RUN):
            line += f"; {self.count(NOT_RUN)} not run by this sweep"
        if self.count(INCOMPLETE):
            line += f"; {self.count(INCOMPLETE)} incomplete (some seeds missing)"
        if self.count(OTHER_N):
            line += (f"; {self.count(OTHER_N)} not compared: ribray's RI is over n = {self.ribray_n} sets, "
                     f"the reference's over n = {self.table.n}")
        return line


@dataclass(frozen=True)
class Comparison:
    tables: tuple[ComparedTable, ...]

    def summary(self) -> str:
        """The terminal's line over every table."""
        cells = [c for t in self.tables for c in t.cells]
        compared = [c for c in cells if c.status == COMPARED]
        within = sum(bool(c.within) for c in compared)
        not_run = sum(c.status == NOT_RUN for c in cells)
        return (f"Compared with {len(self.tables)} reference table(s): {len(compared)}/{len(cells)} cell(s) "
                f"compared, {within} within tolerance, {not_run} not run by this sweep"
                + (f", {len(cells) - len(compared) - not_run} not comparable (incomplete, or RI over another n)"
                   if len(cells) - len(compared) - not_run else "") + " (see comparison.md)")


def compare_reports(reports: list[Report], reference: Reference, tolerance: float | None = None) -> Comparison:
    """Every reference cell beside the report of its table's train subset."""
    by_subset = {r.scope.train_subset: r for r in reports}
    tables = []
    for path, table in reference.tables:
        report = by_subset.get(table.train_subset)
        n = report.scope.n if report is not None else None
        comparable = table.n is None or table.quantity == "accuracy" or n in (None, table.n)
        cells = tuple(_compare_cell(report, table, cell, tolerance, comparable) for cell in table.cells)
        tables.append(ComparedTable(table, str(path), cells, n))
    return Comparison(tuple(tables))


def _compare_cell(report: Report | None, table: ReferenceTable, cell: ReferenceCell,
                  tolerance: float | None, comparable: bool) -> ComparedCell:
    stat = _ribray_value(report, table.quantity, cell) if report is not None else MISSING
    if stat.complete and len(stat.per_seed) > 1:
        chosen, source = stat.std, "seeds' std"
    elif tolerance is not None:
        chosen, source = tolerance, "--tolerance"
    elif table.tolerance is not None:
        chosen, source = table.tolerance, "table"
    else:
        chosen, source = DEFAULT_TOLERANCE, "default"
    places = table.decimals if table.decimals is not None else decimals(cell.value)
    return ComparedCell(cell, stat, comparable, chosen, source, 0.5 * 10.0 ** -places)


def _ribray_value(report: Report, quantity: str, cell: ReferenceCell) -> Stat:
    """The report's value of the cell, MISSING when the sweep has no such model, method or set."""
    models = {canonical_model(m): m for m in report.scope.models}
    model = models.get(canonical_model(cell.model))
    if model is None:
        return MISSING
    if quantity == "mri":
        return report.mri.get((model, cell.method), MISSING)
    if quantity == "absolute":
        return report.absolute.get((model, cell.method), MISSING)
    if quantity == "ri":
        return report.ri.get((model, cell.method, cell.downstream), MISSING)
    if cell.method == PRETRAINED:
        return report.pretrained.get(model, {}).get(cell.eval_set, MISSING)
    return report.accuracy.get((model, cell.method, cell.downstream), {}).get(cell.eval_set, MISSING)


COLUMNS = ["table", "quantity", "model", "method", "downstream", "eval_set", "train_subset", "published",
           "ribray", "ribray_std", "seeds", "difference", "tolerance", "tolerance_from", "within", "status",
           "source", "version"]


def _record(table: ComparedTable, compared: ComparedCell) -> dict:
    cell, stat = compared.cell, compared.ribray
    return {"table": table.table.id, "quantity": table.table.quantity, "model": cell.model, "method": cell.method,
            "downstream": cell.downstream, "eval_set": cell.eval_set, "train_subset": table.table.train_subset,
            "published": cell.value, "ribray": _number(stat.mean) if compared.status == COMPARED else None,
            "ribray_std": _number(stat.std), "seeds": stat.present, "difference": _number(compared.difference),
            "tolerance": compared.tolerance + compared.rounding, "tolerance_from": compared.tolerance_from,
            "within": compared.within, "status": compared.status, "source": table.table.source,
            "version": table.table.version}


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def comparison_json(comparison: Comparison) -> dict:
    return {"summary": comparison.summary(),
            "tables": [{"id": t.table.id, "file": t.file, "source": t.table.source, "version": t.table.version,
                        "quantity": t.table.quantity, "summary": t.summary(),
                        "cells": [_record(t, c) for c in t.cells]} for t in comparison.tables]}


def comparison_csv(comparison: Comparison) -> str:
    """One row per reference cell, numbers at full precision, blank where there is none."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for table in comparison.tables:
        for compared in table.cells:
            writer.writerow({k: "" if v is None else v for k, v in _record(table, compared).items()})
    return buffer.getvalue()


def _shown_cells(table: ComparedTable) -> tuple[list[str], list[list[str]]]:
    """The header and rows both the Markdown and the HTML tables show."""
    keys = ("model", "method", *QUANTITY_KEYS[table.table.quantity])
    unit = UNITS[table.table.quantity]
    header = [*keys, f"published ({unit})", f"ribray ({unit})", "difference", "tolerance", "within"]
    rows = []
    for compared in table.cells:
        cell = compared.cell
        shown = [str(getattr(cell, k) if getattr(cell, k) is not None else "") for k in keys]
        ribray = compared.ribray.shown() if compared.status == COMPARED else compared.status
        if compared.status == COMPARED:
            difference = compared.difference if abs(compared.difference) >= 0.005 else 0.0  # never "-0.00"
            rest = [f"{difference:+.2f}" if difference else "0.00", f"± {compared.tolerance + compared.rounding:.2f} "
                    f"({compared.tolerance_from})", "yes" if compared.within else "no"]
        else:
            rest = ["", "", ""]
        published = f"{cell.value:.{table.table.decimals}f}" if table.table.decimals is not None else f"{cell.value:g}"
        rows.append([*shown, published, ribray, *rest])
    return header, rows


def _about(table: ComparedTable) -> list[str]:
    about = [f"Source: {table.table.source}.", f"Version: {table.table.version}.", f"File: {table.file}."]
    return about + ([f"Note: {table.table.note}."] if table.table.note else [])


def comparison_markdown(comparison: Comparison) -> str:
    parts = ["# Comparison with reference numbers", "", comparison.summary(), "", _TOLERANCE_TEXT, ""]
    for table in comparison.tables:
        header, rows = _shown_cells(table)
        parts += [f"## {table.table.title or table.table.id}", "", *_about(table), "", f"**{table.summary()}**", "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        parts += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows] + [""]
    return "\n".join(parts)


_TOLERANCE_TEXT = ("Tolerance: ribray's standard deviation over seeds where it has several, else --tolerance, "
                   f"the table's tolerance or {DEFAULT_TOLERANCE} pp (a stated default, not a measured spread), "
                   "plus half a unit of the published value's last digit. Cells the sweep did not run are "
                   "listed as not run, never filled.")


def comparison_section(comparison: Comparison) -> Section:
    """The report page's section: the summary line, then per table its source and its cells."""
    parts = ["<p class='files'>Files: <a href='comparison.csv'>CSV</a> · <a href='comparison.md'>Markdown</a></p>"]
    for table in comparison.tables:
        header, rows = _shown_cells(table)
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td{_cell_class(row, i)}>{escape(c)}</td>" for i, c in enumerate(row))
                       + "</tr>" for row in rows)
        parts += [f"<h3>{escape(table.table.title or table.table.id)}</h3>",
                  f"<p class='caption'>{escape(' '.join(_about(table)))}</p>",
                  f"<p>{escape(table.summary())}</p>",
                  f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"]
    return Section("Comparison with reference numbers", text=[comparison.summary(), _TOLERANCE_TEXT],
                   html="\n".join(parts))


def _cell_class(row: list[str], index: int) -> str:
    if row[index] in (NOT_RUN, INCOMPLETE, OTHER_N):
        return " class=missing"
    return " class=warning" if index == len(row) - 1 and row[index] == "no" else ""


def write_comparison(comparison: Comparison, folder) -> list:
    """comparison.csv and comparison.md in the report folder; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in zip(FILES, (comparison_csv(comparison), comparison_markdown(comparison)), strict=True):
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written
