"""`ribray report`: the robustness tables of a sweep, from its Parquet results.

Cheap to import: pandas, pyarrow and matplotlib load inside the command."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("target", type=str)
@click.option("--out", type=click.Path(file_okay=False, path_type=str), default=None,
              help="report folder (default: beside the results folder, <sweep>/report)")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="terminal output: a summary, or the whole report as JSON")
@click.option("--allow-mixed", is_flag=True,
              help="report shards of several specs, or eval sets evaluated with different decoders "
                   "or precisions, together")
@click.option("--figures", type=click.Choice(["auto", "summary", "all", "none"]), default="auto",
              show_default=True,
              help="which figures to draw (every table is written whatever this says): summary = the heatmaps "
                   "across models, RI per model, OTDD and dataset size; all = also one per (model, method): "
                   "accuracy matrices, learning curves, CKA; auto = summary, plus those while there are at most "
                   "24 (a one-model sweep); none = no figure, the fastest")
@click.option("--compare", "compare", multiple=True, metavar="paper|FILE",
              help="put the sweep's numbers beside reference ones: `paper` (the paper's published tables "
                   "that ribray ships) or a ribray-reference/1 YAML file of your own; repeatable")
@click.option("--tolerance", type=click.FloatRange(min=0), default=None, metavar="PP",
              help="with --compare: the tolerance of cells that have one seed (default: the reference "
                   "table's, else 0.5 percentage points); several seeds use their standard deviation")
def report(target: str, out: str | None, output_format: str, allow_mixed: bool, figures: str,
           compare: tuple[str, ...], tolerance: float | None) -> None:
    """Write the RI/mRI tables, accuracy matrices, heatmaps and report.html for TARGET
    (a results folder of Parquet shards, or a spec file)."""
    from ribray.errors import RibrayError

    if tolerance is not None and not compare:
        raise click.UsageError("--tolerance needs --compare")
    try:
        from ribray.report import report_json, summary_text
        from ribray.report.compare import comparison_json
        from ribray.report.reference import load_references
        from ribray.report.source import resolve_source, write_reports_of

        reference = load_references(compare) if compare else None  # a bad file fails before reading results
        source = resolve_source(target, out)  # TARGET resolved once: the report, its page and MLflow use it
        written = write_reports_of(source, allow_mixed, figures, reference, tolerance,
                                   mlflow=_sweep_run(source.sweep, target))
    except RibrayError as error:
        raise click.ClickException(str(error)) from None
    reports, folder, files, comparison = written.reports, written.folder, written.files, written.comparison
    logged = _log_to_mlflow(source.sweep, folder, reports[0])
    if output_format == "json":
        payload = {"out": str(folder), "html": str(folder / "report.html"), "mlflow_run": logged,
                   "files": [str(f) for f in files], "reports": [report_json(r) for r in reports]}
        if comparison is not None:
            payload["comparison"] = comparison_json(comparison)
        click.echo(json.dumps(payload, indent=1))
    else:
        click.echo(summary_text(reports, folder))
        if comparison is not None:
            click.echo("\n".join([*(f"  {t.summary()}" for t in comparison.tables), comparison.summary()]))
        if logged:
            click.echo(f"and logged to the sweep's MLflow run {logged} (artifacts: report/)")


def _sweep_run(sweep, target: str):
    """The sweep's parent run for the page's provenance (ribray.report.provenance.MlflowRun), when
    TARGET is a sweep (`sweep`: its ribray.results.layout.SweepTarget; None for a folder of shards
    outside any sweep) with an MLflow store; None otherwise. The report is written either way."""
    from ribray.report.provenance import MlflowRun
    from ribray.results.tracking import find_sweep_run, run_link
    from ribray.secrets import redact

    if sweep is None or not sweep.tracking_uri:
        return None
    try:
        found = find_sweep_run(sweep.tracking_uri, sweep.experiment, sweep.sweep)
    except Exception:  # noqa: BLE001 - MLflow is a view of the results; logging the report below warns
        found = None
    return MlflowRun(redact(sweep.tracking_uri), sweep.experiment, found[1] if found else None,
                     run_link(sweep.tracking_uri, *found) if found else None, redact(target))


def _log_to_mlflow(found, folder, main) -> str | None:
    """The report as artifacts of the sweep's parent run (`found`: the sweep's SweepTarget; None
    outside a sweep), where its MLflow store already has one (a report never creates a store);
    the run id, or None."""
    from ribray.results.tracking import log_report

    if found is None:
        return None
    try:
        return log_report(found.tracking_uri, found.experiment, found.sweep, folder, _headline(main))
    except Exception as error:  # noqa: BLE001 - the report is written; MLflow is a view of it
        from ribray.secrets import redact

        click.echo(f"warning: could not log the report to MLflow at {redact(found.tracking_uri)}: "
                   f"{redact(str(error))}", err=True)
        return None


def _headline(report) -> dict[str, float]:
    """mRI and absolute robustness per method (and model, when there are several)."""
    from ribray.models.paper import paper_name

    several = len(report.scope.models) > 1
    found = {}
    for (model, method), stat in report.mri.items():
        where = f" {paper_name(model)}" if several else ""
        if stat.complete:
            found[f"mRI {method}{where}"] = stat.mean
        absolute = report.absolute.get((model, method))
        if absolute is not None and absolute.complete:
            found[f"robustness {method}{where}"] = absolute.mean
    return found
