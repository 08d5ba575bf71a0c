"""The `ribray` command line. Thin: parse, call one library function, print.

Importing this module must stay cheap (no torch, ray or mlflow): they are imported inside
the commands that need them, so `--help` and spec errors answer at once.
"""

from __future__ import annotations

import sys

import click

from ribray import __version__


class RibrayGroup(click.Group):
    """Turns RibrayError into a one-line message and exit code 1 (no traceback)."""

    def invoke(self, ctx):
        from ribray.errors import RibrayError

        try:
            return super().invoke(ctx)
        except RibrayError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=RibrayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ribray")
def main() -> None:
    """Run the ImageNet-RIB robust fine-tuning benchmark as a Ray Tune sweep."""


spec_argument = click.argument("spec", type=click.Path(dir_okay=False, path_type=str))


@main.command()
@spec_argument
@click.option("--no-data", is_flag=True, help="skip checking the dataset folders")
def validate(spec: str, no_data: bool) -> None:
    """Check SPEC, its model/method/dataset names, data folders and storage (no Ray, no GPU)."""
    from ribray.spec import load_spec
    from ribray.validate import check_spec

    for note in check_spec(load_spec(spec), data=not no_data):
        click.echo(note)
    click.secho(f"{spec}: ok", fg="green")


@main.command()
@spec_argument
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@click.option("--throughput", type=click.Path(exists=True, dir_okay=False), default=None,
              help="images/second table (JSON) written by the benchmark, for the estimate")
def plan(spec: str, as_json: bool, throughput: str | None) -> None:
    """Print the trials of SPEC, their dependencies and the estimated GPU-hours."""
    from ribray.plan import make_plan
    from ribray.plan_view import plan_json, plan_table
    from ribray.spec import load_spec

    loaded = load_spec(spec)
    the_plan = make_plan(loaded)
    view = plan_json if as_json else plan_table
    click.echo(view(loaded, the_plan, throughput))


@main.command()
@spec_argument
@click.option("--resume", is_flag=True, help="continue the last interrupted run from its checkpoints")
@click.option("--address", default=None, help="Ray cluster to join ('auto': the one this machine belongs to)")
@click.option("--max-concurrent", type=click.IntRange(min=1), default=None,
              help="at most this many trials at once (default: as many as the cluster fits)")
def sweep(spec: str, resume: bool, address: str | None, max_concurrent: int | None) -> None:
    """Run every trial of SPEC that is not done yet."""
    from ribray.spec import load_spec
    from ribray.sweep import run_sweep
    from ribray.sweep_view import print_summary

    summary = run_sweep(load_spec(spec), resume=resume, address=address,
                        max_concurrent=max_concurrent, echo=click.echo)
    print_summary(summary, spec)
    sys.exit(0 if summary.complete else 1)


@main.command()
@click.argument("target", type=click.Path(exists=True, path_type=str))
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=5000, show_default=True)
def ui(target: str, host: str, port: int) -> None:
    """Open the MLflow UI on the tracking store of TARGET (a spec or a sweep folder)."""
    from ribray.ui import serve_ui

    serve_ui(target, host=host, port=port, echo=click.echo)


def _attach_optional_commands() -> None:
    """Commands that live in their own modules (each cheap to import)."""
    from ribray.cli_data import data
    from ribray.cli_registry import methods, models
    from ribray.cli_report import report

    for command in (data, models, methods, report):
        main.add_command(command)


_attach_optional_commands()


@main.group()
def mlflow() -> None:
    """MLflow maintenance."""


@mlflow.command("sync")
@click.argument("target", type=click.Path(exists=True, path_type=str))
@click.option("--tracking-uri", default=None, help="tracking store (default: the spec's, or the sweep's SQLite)")
def mlflow_sync(target: str, tracking_uri: str | None) -> None:
    """Back-fill MLflow runs from the Parquet results of TARGET (a spec or a sweep folder)."""
    from ribray.mlflow_sync import sync_results
    from ribray.sweep_target import resolve_target

    found = resolve_target(target)
    uri = tracking_uri or found.tracking_uri
    report = sync_results(found.results, uri, found.experiment, found.sweep)
    click.echo(f"MLflow sync: {report.created} runs created, {report.completed} completed, "
               f"{report.unchanged} already complete")
