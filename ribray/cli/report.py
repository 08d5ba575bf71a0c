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
def report(target: str, out: str | None, output_format: str, allow_mixed: bool) -> None:
    """Write the RI/mRI tables, accuracy matrices, heatmaps and report.html for TARGET
    (a results folder of Parquet shards, or a spec file)."""
    from ribray.errors import RibrayError

    try:
        from ribray.report import report_json, run_report, summary_text

        reports, folder, files = run_report(target, out=out, allow_mixed=allow_mixed)
    except RibrayError as error:
        raise click.ClickException(str(error)) from None
    if output_format == "json":
        payload = {"out": str(folder), "html": str(folder / "report.html"),
                   "files": [str(f) for f in files], "reports": [report_json(r) for r in reports]}
        click.echo(json.dumps(payload, indent=1))
    else:
        click.echo(summary_text(reports, folder))
