"""Where a report's results come from: a results folder of Parquet shards, or a spec file
(its storage's `<name>/results`), and where the report goes by default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ribray.errors import RibrayError
from ribray.storage import Location


@dataclass(frozen=True)
class ReportSource:
    results: Location
    spec: object | None  # ribray.spec.Spec when a spec file was given
    default_out: Path
    title: str


def resolve_source(target: str) -> ReportSource:
    """A spec file, a results folder (with *.parquet shards), or a sweep folder holding results/."""
    if "://" not in target and Path(target).is_file():
        return _from_spec(target)
    if "://" in target:
        results = Location(target.rstrip("/"))
        return ReportSource(results, None, Path.cwd() / "report", "ribray report")
    folder = Path(target).resolve()
    if not folder.exists():
        raise RibrayError(f"results folder not found: {target}")
    if not folder.is_dir():
        raise RibrayError(f"{target} is neither a spec file nor a results folder")
    if not any(folder.glob("*.parquet")) and (folder / "results").is_dir():
        folder = folder / "results"  # a sweep folder: <storage>/<name>
    return ReportSource(Location(str(folder)), None, folder.parent / "report",
                        f"ribray report: {folder.parent.name}")


def _from_spec(path: str) -> ReportSource:
    from ribray.spec import load_spec

    from ribray.sweep_target import sweep_dir

    spec = load_spec(path)
    sweep = sweep_dir(spec)
    # An object-store sweep gets its report in the working folder: figures are drawn locally.
    out = Path(sweep.path) / "report" if sweep.is_local else Path.cwd() / f"{spec.name}-report"
    return ReportSource(sweep.child("results"), spec, out, f"ribray report: {spec.name}")


def load_results(source: ReportSource):
    """Every shard of the results folder as one pyarrow Table (clear errors when there is none)."""
    from ribray.results import read_results

    if source.results.is_local and not Path(source.results.path).is_dir():
        where = " (has the sweep run yet?)" if source.spec is not None else ""
        raise RibrayError(f"results folder not found: {source.results.uri}{where}")
    return read_results(source.results)


def run_report(target: str, out: str | Path | None = None, allow_mixed: bool = False):
    """`ribray report`: read TARGET's results, build the reports, write them. Returns
    (reports, output folder, files written)."""
    from ribray.report.build import build_reports
    from ribray.report.output import write_reports

    source = resolve_source(target)
    table = load_results(source)
    reports = build_reports(table, spec=source.spec, allow_mixed=allow_mixed)
    folder = Path(out).resolve() if out is not None else source.default_out
    files = write_reports(reports, folder, source.title)
    return reports, folder, files
