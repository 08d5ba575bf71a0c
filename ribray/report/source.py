"""Where a report's results come from (a TARGET as every command resolves it: a spec file, a
sweep or results folder, local or in an object store) and where the report goes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ribray.errors import RibrayError
from ribray.results.layout import REPORT, SweepTarget, resolve_target, shard_names
from ribray.storage import Location

if TYPE_CHECKING:
    from ribray.spec import Spec


@dataclass(frozen=True)
class ReportSource:
    results: Location
    spec: Spec | None  # when a spec file was given
    out: Path  # where the report goes
    title: str
    sweep: SweepTarget | None = None  # None: a folder of shards outside any sweep


def resolve_source(target: str, out: str | Path | None = None) -> ReportSource:
    """The results of TARGET; a sweep in an object store gets its report in the working
    folder (figures are drawn locally), a local one beside its results. A folder of shards
    outside any sweep (copied, or gathered from several) is read only with `out` given: its
    report goes nowhere that was not named."""
    try:
        found: SweepTarget = resolve_target(target)
    except RibrayError as error:
        loose = _loose_shards(target)
        if loose is None:
            raise
        if out is None:
            raise RibrayError(f"{error}. To report a folder of shards outside a sweep, pass --out DIR") from None
        return ReportSource(loose, None, Path(out).resolve(), f"ribray report: {loose.name}")
    root = found.layout.root
    default = Path(root.path) / REPORT if root.is_local else Path.cwd() / f"{found.sweep}-{REPORT}"
    return ReportSource(found.results, found.spec, Path(out).resolve() if out is not None else default,
                        f"ribray report: {found.sweep}", found)


def _loose_shards(target: str) -> Location | None:
    """TARGET as a folder that holds Parquet files itself (not a spec file), else None."""
    if "://" not in target and not Path(target).is_dir():
        return None
    location = Location(target if "://" in target else str(Path(target).resolve()))
    return location if shard_names(location) else None


def load_results(source: ReportSource):
    """Every shard of the results folder as one pyarrow Table of the columns a report reads
    (clear errors when there is none)."""
    from ribray.report.rows import COLUMNS
    from ribray.results import read_results

    if source.results.is_local and not Path(source.results.path).is_dir():
        where = " (has the sweep run yet?)" if source.spec is not None else ""
        raise RibrayError(f"results folder not found: {source.results.uri}{where}")
    return read_results(source.results, columns=COLUMNS)


@dataclass(frozen=True)
class WrittenReport:
    """What a report command wrote: the reports, the folder, its files, and the comparison with
    the reference (ribray.report.compare.Comparison; None without a reference)."""

    reports: list
    folder: Path
    files: list[Path]
    comparison: object | None = None


def run_report(target: str, out: str | Path | None = None, allow_mixed: bool = False, figures: str = "auto",
               reference=None, tolerance: float | None = None, mlflow=None):
    """`ribray report` as a library call: TARGET resolved (`resolve_source`), then reported
    (`write_reports_of`). Returns (reports, output folder, files written)."""
    written = write_reports_of(resolve_source(target, out), allow_mixed, figures, reference, tolerance, mlflow)
    return written.reports, written.folder, written.files


def write_reports_of(source: ReportSource, allow_mixed: bool = False, figures: str = "auto", reference=None,
                 tolerance: float | None = None, mlflow=None) -> WrittenReport:
    """`ribray report` of a resolved TARGET: read its results, build the reports, write them with
    the figures `figures` chooses (ribray.report.figures.FIGURES; "none": the tables only), and,
    with a `reference` (ribray.report.reference.Reference), the comparison with it
    (comparison.csv, comparison.md, a section of report.html), computed once; `mlflow`: the
    sweep's run (ribray.report.provenance.MlflowRun), which the page links."""
    from ribray.report.build import build_reports
    from ribray.report.figures import FIGURES
    from ribray.report.output import write_reports

    if figures not in FIGURES:
        raise RibrayError(f"figures: {figures!r} is not one of {', '.join(FIGURES)}")
    table = load_results(source)
    reports = build_reports(table, spec=source.spec, allow_mixed=allow_mixed)
    provenance = sweep_provenance(reports[0].provenance, source, mlflow)
    for report in reports:
        report.provenance = provenance
    folder = source.out
    comparison, extra, files = None, [], []
    if reference is not None:
        from ribray.report.compare import compare_reports, comparison_section, write_comparison

        comparison = compare_reports(reports, reference, tolerance)
        extra, files = [comparison_section(comparison)], write_comparison(comparison, folder)
    return WrittenReport(reports, folder, write_reports(reports, folder, source.title, figures, extra) + files,
                         comparison)


def sweep_provenance(provenance, source: ReportSource, mlflow=None):
    """The rows' provenance, dated, with what the sweep adds: the plan's size and failed trials
    (from `ribray status`'s reading, when a spec file was given) and the sweep's MLflow run."""
    if provenance is None:
        return None
    provenance = provenance.written_now()
    if source.sweep is None:
        return provenance
    planned = failed = None
    if source.spec is not None:
        from ribray.plan import make_plan
        from ribray.results.status import FAILED, sweep_status

        plan = make_plan(source.spec)
        planned, failed = len(plan), sweep_status(source.sweep.layout, plan).counts()[FAILED]
    return provenance.with_sweep(planned, failed, mlflow)

