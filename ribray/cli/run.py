"""`ribray validate`, `ribray plan` and `ribray sweep`: check a spec, show its trials, run them."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ribray.plan.estimate import GpuPrice
    from ribray.spec import Spec


def _existing_spec(ctx, param, value: str) -> str:
    """A missing spec file is a usage error (exit 2), as a folder given for it is."""
    from pathlib import Path

    if not Path(value).exists() and not Path(value).is_symlink():
        raise click.BadParameter(f"spec file not found: {value}", ctx=ctx, param=param)
    return value


spec_argument = click.argument("spec", type=click.Path(dir_okay=False, path_type=str), callback=_existing_spec)


def overridable(command):
    """SPEC, then overrides of its values: `KEY=VALUE ...` after it and/or `--set KEY=VALUE`."""
    command = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                           help="override a value of SPEC (repeatable): train.epochs=1, methods.ewc.weight=10, "
                                "seeds=[0,1]; validated as the file is")(command)
    command = click.argument("positional", nargs=-1, metavar="[KEY=VALUE]...")(command)
    return spec_argument(command)


def parse_cli_overrides(positional: tuple[str, ...], sets: tuple[str, ...]):
    """Every override, positional ones first; a malformed one is a usage error (exit 2)."""
    from ribray.errors import SpecError
    from ribray.spec.overrides import parse_overrides

    try:
        return parse_overrides((*positional, *sets))
    except SpecError as error:
        raise click.UsageError(str(error)) from None


def _load(spec: str, positional: tuple[str, ...], sets: tuple[str, ...]):
    from ribray.spec import load_spec

    return load_spec(spec, parse_cli_overrides(positional, sets))


@click.command()
@overridable
@click.option("--no-data", is_flag=True, help="skip checking the dataset folders")
def validate(spec: str, positional: tuple[str, ...], sets: tuple[str, ...], no_data: bool) -> None:
    """Check SPEC, its model/method/dataset names, data folders and storage (no Ray, no GPU)."""
    from ribray.spec.overrides import overrides_shown
    from ribray.spec.validate import check_spec

    loaded = _load(spec, positional, sets)
    if loaded._overrides:
        click.echo(f"overrides: {overrides_shown(loaded._overrides)}")
    for note in check_spec(loaded, data=not no_data):
        click.echo(note)
    click.secho(f"{spec}{' with its overrides' if loaded._overrides else ''}: ok", fg="green")


def _price(ctx, param, value: str | None):
    """--price as a GpuPrice; a bad one is a usage error."""
    from ribray.errors import RibrayError
    from ribray.plan.estimate import gpu_price

    try:
        return None if value is None else gpu_price(value)
    except RibrayError as error:
        raise click.BadParameter(str(error).removeprefix(f"--price {value}: "), ctx=ctx, param=param) from None


@click.command()
@overridable
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@click.option("--summary", "summary_only", is_flag=True, help="only the totals, estimate and storage")
@click.option("--throughput", type=click.Path(exists=True, dir_okay=False), default=None,
              help="images/second table (JSON) written by the benchmark, for the estimate")
@click.option("--gpus", type=click.IntRange(min=1), default=None,
              help="the wall-clock time of what is left to run on this many GPUs (the sweep's order, simulated)")
@click.option("--price", default=None, callback=_price,
              help="dollars per GPU-hour, or an instance type (g5.2xlarge, g2-standard-8); without it, --gpus "
                   "prices the cluster configs' instance types")
def plan(spec: str, positional: tuple[str, ...], sets: tuple[str, ...], as_json: bool, summary_only: bool,
         throughput: str | None, gpus: int | None, price: GpuPrice | None) -> None:
    """Print the trials of SPEC (done or not), their dependencies, the estimated GPU-hours by
    kind, downstream set and eval set, and the storage the sweep needs; with --gpus N its wall
    time on N GPUs, with --price its cost."""
    from ribray.cli.views import plan_json, plan_table
    from ribray.models import state_bytes
    from ribray.plan import make_plan
    from ribray.spec.validate import check_spec

    loaded = _load(spec, positional, sets)
    check_spec(loaded, data=False, weights=False, storage=False, build=False)
    the_plan = make_plan(loaded)
    done = _done_trials(loaded)
    if as_json:
        click.echo(plan_json(loaded, the_plan, throughput, done, gpus, price))
        return
    sizes = {m.name: state_bytes(m.name) for m in loaded.models}
    click.echo(plan_table(loaded, the_plan, throughput, done, sizes, summary_only, gpus, price))



def _done_trials(spec: Spec) -> set[str]:
    """Trials whose shard exists, where the storage can be read without side effects."""
    from ribray.results.layout import SweepLayout
    from ribray.results.store import done_trial_ids

    layout = SweepLayout.of(spec)
    if not layout.root.is_local:
        return set()
    return done_trial_ids(layout.results)


@click.command()
@overridable
@click.option("--resume", is_flag=True, help="continue the last interrupted run from its checkpoints")
@click.option("--address", default=None, help="Ray cluster to join ('auto': the one this machine belongs to)")
@click.option("--connect-timeout", "connect_timeout_s", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, envvar="RIBRAY_CONNECT_TIMEOUT",
              help="seconds to wait for the --address cluster to answer before failing")
@click.option("--max-concurrent", type=click.IntRange(min=1), default=None,
              help="at most this many trials at once (default: as many as the cluster fits)")
@click.option("--rerun-changed-data", is_flag=True,
              help="run again the finished trials whose data changed since (their old results are set aside)")
@click.option("--rerun-changed-plugins", is_flag=True,
              help="run again the finished trials whose plugins' code changed since (old results set aside)")
def sweep(spec: str, positional: tuple[str, ...], sets: tuple[str, ...], resume: bool, address: str | None, connect_timeout_s: float, max_concurrent: int | None,
          rerun_changed_data: bool, rerun_changed_plugins: bool) -> None:
    """Run every trial of SPEC that is not done yet. SIGTERM stops it as Ctrl-C does."""
    from ribray.signals import if_abandoned, interrupted_exit_code, stop_on_sigterm

    stop_on_sigterm()  # first: a scheduler's SIGTERM during validation is an interrupt too
    from ribray.cli.views import print_summary, resume_hint
    from ribray.engine import run_sweep
    from ribray.spec.overrides import command_line

    loaded = _load(spec, positional, sets)
    again = command_line(spec, loaded._overrides)  # what the hints tell the user to run
    with if_abandoned(lambda: click.echo(resume_hint(again))):
        summary = run_sweep(loaded, resume=resume, address=address, connect_timeout_s=connect_timeout_s,
                            max_concurrent=max_concurrent, rerun_changed_data=rerun_changed_data,
                            rerun_changed_plugins=rerun_changed_plugins, echo=click.echo)
    print_summary(summary, again)
    sys.exit(0 if summary.complete else 1 if summary.failed else interrupted_exit_code())  # 130 / 143


@click.command()
@click.argument("target", type=str)
@click.option("--dry-run", is_flag=True, help="list what would be deleted, delete nothing")
def prune(target: str, dry_run: bool) -> None:
    """Delete what TARGET's sweep (a spec or a sweep folder) no longer needs: the resume
    checkpoints of its finished trials (their folders stay, with a note) and its scratch
    folder. Results, final weights and the checkpoints of unfinished trials stay. Refused while
    a sweep of that folder runs (it holds the sweep's lock meanwhile)."""
    from ribray.results.layout import resolve_target
    from ribray.results.reclaim import prune_sweep

    found = resolve_target(target)
    pruned = prune_sweep(found.layout, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for entry in pruned.entries:
        size = f"{entry.files} file(s), {entry.bytes / 2**20:.1f} MiB"
        click.echo(f"{verb} the folder {entry.path} ({size})" if entry.removed else
                   f"{verb} the files in {entry.path} ({size}; the folder stays, with a note)")
    click.echo(f"{found.sweep}: {verb} {pruned.bytes / 2**20:.1f} MiB in {len(pruned.folders)} folder(s)")


@click.command()
@overridable
@click.option("--all", "show_all", is_flag=True, help="a line for every trial, not only failed and running")
@click.option("--json", "as_json", is_flag=True, help="every trial's state as JSON")
@click.option("--watch", is_flag=True, help="refresh the table until the sweep ends (Ctrl-C stops watching)")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="seconds between refreshes of --watch")
def status(spec: str, positional: tuple[str, ...], sets: tuple[str, ...], show_all: bool, as_json: bool,
           watch: bool, interval: float) -> None:
    """Where every trial of SPEC stands: done, running, failed (with its error), waiting, or
    blocked by a failed dependency; from the results and the state Ray Tune saved. --watch
    refreshes it in place (a new table per change without a terminal) until the sweep ends."""
    import dataclasses
    import json

    from ribray.cli.views import status_table, watch_status
    from ribray.plan import make_plan
    from ribray.results.layout import resolve_target
    from ribray.results.status import sweep_status

    target = resolve_target(spec, parse_cli_overrides(positional, sets))  # refused when no sweep of it has run yet
    plan = make_plan(target.spec)
    if watch:
        if as_json:
            raise click.UsageError("--watch shows the table; --json prints the state once")
        watch_status(target.layout, lambda: status_table(sweep_status(target.layout, plan), show_all), interval)
        return
    found = sweep_status(target.layout, plan)
    if as_json:
        click.echo(json.dumps({"sweep": target.spec.name, "counts": dict(found.counts()), "run": found.run,
                               "trials": [dataclasses.asdict(t) for t in found.trials]}, indent=2))
        return
    click.echo(status_table(found, show_all))
