"""`ribray ui` and `ribray mlflow sync`: the sweep's runs in the MLflow UI, back-filled from
the Parquet shards when the tracking server was away."""

from __future__ import annotations

import click

from ribray.cli.help import FullHelpGroup


@click.command()
@click.argument("target", type=click.Path(exists=True, path_type=str))
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=5000, show_default=True, help="port to listen on; 0: a free one")
def ui(target: str, host: str, port: int) -> None:
    """Open the MLflow UI on the tracking store of TARGET (a spec or a sweep folder). A busy
    port is an error; the server stops with this command (Ctrl-C, or if it is killed)."""
    from ribray.results.ui import serve_ui

    serve_ui(target, host=host, port=port, echo=click.echo)


@click.group(cls=FullHelpGroup)
def mlflow() -> None:
    """MLflow maintenance."""


@mlflow.command("sync")
@click.argument("target", type=click.Path(exists=True, path_type=str))
@click.option("--tracking-uri", default=None, help="tracking store (default: the spec's, or the sweep's SQLite)")
def mlflow_sync(target: str, tracking_uri: str | None) -> None:
    """Back-fill MLflow runs from the Parquet results of TARGET (a spec or a sweep folder)."""
    from ribray.results.layout import artifact_root_for, resolve_target
    from ribray.results.sync import sync_results
    from ribray.secrets import move_tracking_credentials

    found = resolve_target(target)
    tracking_uri = move_tracking_credentials(tracking_uri) or found.tracking_uri  # no password in any output
    report = sync_results(found.results, tracking_uri, found.experiment, found.sweep,
                          artifact_root=artifact_root_for(tracking_uri))
    click.echo(f"MLflow sync: {report.created} runs created, {report.completed} completed, "
               f"{report.unchanged} already complete")
