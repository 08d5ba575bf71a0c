"""How `ribray sweep` reports its end."""

from __future__ import annotations

import click

from ribray.sweep import SweepSummary


def print_summary(summary: SweepSummary, spec_path: str) -> None:
    ran = summary.done - summary.already_done
    click.echo(f"\nsweep: {summary.done}/{summary.planned} trials done "
               f"({ran} this run, {summary.already_done} before) in {summary.seconds:.0f}s")
    for trial_id, error in summary.failed.items():
        click.secho(f"  failed {trial_id}: {error}", fg="red")
    if summary.not_run:
        click.secho(f"  {len(summary.not_run)} trial(s) not run: {', '.join(summary.not_run[:10])}"
                    + (" ..." if len(summary.not_run) > 10 else ""), fg="yellow")
    if summary.complete:
        click.secho("complete.", fg="green")
    elif summary.failed:
        click.echo(f"fix the failures, then `ribray sweep {spec_path}` runs only what is missing.")
    else:
        click.echo(f"interrupted: `ribray sweep {spec_path} --resume` continues from the checkpoints.")
