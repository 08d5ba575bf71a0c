"""The `ribray` command line. Thin: parse, call one library function, print.

Importing this package must stay cheap (no torch, ray or mlflow): each command imports what
it needs when it runs, so `--help` and spec errors answer at once.
"""

from __future__ import annotations

import sys

import click

from ribray import __version__
from ribray.cli.help import FullHelpGroup


class RibrayGroup(FullHelpGroup):
    """Turns RibrayError into a one-line `Error: ...` (click's style for its usage errors) and exit
    code 1 (no traceback); Ctrl-C into exit code 130 and, for `ribray sweep`, SIGTERM into 143, as
    shells expect."""

    def invoke(self, ctx):
        from ribray.errors import RibrayError, first_line
        from ribray.secrets import redact
        from ribray.signals import interrupted_exit_code

        try:
            return super().invoke(ctx)
        except RibrayError as error:
            click.secho(f"Error: {redact(str(error))}", fg="red", err=True)
            sys.exit(1)
        except Exception as error:
            if not _from_a_service(error):
                raise  # a bug: its traceback is wanted
            click.secho(f"Error: {redact(first_line(error))}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) before or after a sweep's own handling of it
            click.secho("interrupted", fg="yellow", err=True)
            sys.exit(interrupted_exit_code())


def _from_a_service(error: BaseException) -> bool:
    """An error of the file system, an object store (pyarrow raises OSError), a network
    socket or MLflow's client: the user's environment to fix, said in one line."""
    return isinstance(error, OSError) or any(c.__name__ == "MlflowException" for c in type(error).__mro__)


@click.group(cls=RibrayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ribray")
def main() -> None:
    """Run the ImageNet-RIB robust fine-tuning benchmark as a Ray Tune sweep."""


def _attach_commands() -> None:
    """Commands live in one module per topic (each cheap to import)."""
    from ribray.cli.data import data
    from ribray.cli.mlflow import mlflow, ui
    from ribray.cli.registries import methods, models
    from ribray.cli.report import report
    from ribray.cli.run import plan, prune, status, sweep, validate

    for command in (validate, plan, sweep, status, report, prune, ui, mlflow, data, models, methods):
        main.add_command(command)


_attach_commands()
