"""`ribray validate`, `ribray plan` and `ribray sweep`: check a spec, show its trials, run them."""

from __future__ import annotations

import sys

import click

spec_argument = click.argument("spec", type=click.Path(dir_okay=False, path_type=str))


@click.command()
@spec_argument
@click.option("--no-data", is_flag=True, help="skip checking the dataset folders")
def validate(spec: str, no_data: bool) -> None:
    """Check SPEC, its model/method/dataset names, data folders and storage (no Ray, no GPU)."""
    from ribray.spec import load_spec
    from ribray.spec.validate import check_spec

    for note in check_spec(load_spec(spec), data=not no_data):
        click.echo(note)
    click.secho(f"{spec}: ok", fg="green")


@click.command()
@spec_argument
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@click.option("--summary", "summary_only", is_flag=True, help="only the totals, estimate and storage")
@click.option("--throughput", type=click.Path(exists=True, dir_okay=False), default=None,
              help="images/second table (JSON) written by the benchmark, for the estimate")
def plan(spec: str, as_json: bool, summary_only: bool, throughput: str | None) -> None:
    """Print the trials of SPEC (done or not), their dependencies, the estimated GPU-hours by
    kind, downstream set and eval set, and the storage the sweep needs."""
    from ribray.cli.views import plan_json, plan_table
    from ribray.models import state_bytes
    from ribray.plan import make_plan
    from ribray.spec import load_spec
    from ribray.spec.validate import check_spec

    loaded = load_spec(spec)
    check_spec(loaded, data=False, weights=False, storage=False, build=False)
    the_plan = make_plan(loaded)
    done = _done_trials(loaded)
    if as_json:
        click.echo(plan_json(loaded, the_plan, throughput, done))
        return
    sizes = {m.name: state_bytes(m.name) for m in loaded.models}
    click.echo(plan_table(loaded, the_plan, throughput, done, sizes, summary_only))


def _done_trials(spec) -> set[str]:
    """Trials whose shard exists, where the storage can be read without side effects."""
    from ribray.results.layout import SweepLayout
    from ribray.results.store import done_trial_ids

    layout = SweepLayout.of(spec)
    if not layout.root.is_local:
        return set()
    return done_trial_ids(layout.results)


@click.command()
@spec_argument
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
def sweep(spec: str, resume: bool, address: str | None, connect_timeout_s: float, max_concurrent: int | None,
          rerun_changed_data: bool, rerun_changed_plugins: bool) -> None:
    """Run every trial of SPEC that is not done yet. SIGTERM stops it as Ctrl-C does."""
    from ribray.signals import if_abandoned, interrupted_exit_code, stop_on_sigterm

    stop_on_sigterm()  # first: a scheduler's SIGTERM during validation is an interrupt too
    from ribray.cli.views import print_summary, resume_hint
    from ribray.engine import run_sweep
    from ribray.spec import load_spec

    with if_abandoned(lambda: click.echo(resume_hint(spec))):
        summary = run_sweep(load_spec(spec), resume=resume, address=address, connect_timeout_s=connect_timeout_s,
                            max_concurrent=max_concurrent, rerun_changed_data=rerun_changed_data,
                            rerun_changed_plugins=rerun_changed_plugins, echo=click.echo)
    print_summary(summary, spec)
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
    from ribray.results.prune import prune_sweep

    found = resolve_target(target)
    pruned = prune_sweep(found.layout, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for entry in pruned.entries:
        size = f"{entry.files} file(s), {entry.bytes / 2**20:.1f} MiB"
        click.echo(f"{verb} the folder {entry.path} ({size})" if entry.removed else
                   f"{verb} the files in {entry.path} ({size}; the folder stays, with a note)")
    click.echo(f"{found.sweep}: {verb} {pruned.bytes / 2**20:.1f} MiB in {len(pruned.folders)} folder(s)")


@click.command()
@spec_argument
@click.option("--all", "show_all", is_flag=True, help="a line for every trial, not only failed and running")
@click.option("--json", "as_json", is_flag=True, help="every trial's state as JSON")
def status(spec: str, show_all: bool, as_json: bool) -> None:
    """Where every trial of SPEC stands: done, running, failed (with its error), waiting, or
    blocked by a failed dependency; from the results and the state Ray Tune saved."""
    import dataclasses
    import json

    from ribray.plan import make_plan
    from ribray.results.layout import resolve_target
    from ribray.results.status import FAILED, RUNNING, sweep_status

    target = resolve_target(spec)  # refused when no sweep of it has run yet
    loaded = target.spec
    found = sweep_status(target.layout, make_plan(loaded))
    counts = found.counts()
    if as_json:
        click.echo(json.dumps({"sweep": loaded.name, "counts": dict(counts), "run": found.run,
                               "trials": [dataclasses.asdict(t) for t in found.trials]}, indent=2))
        return
    order = ("done", "running", "failed", "waiting", "blocked")
    click.echo(f"{loaded.name}: {len(found.trials)} trials: "
               + ", ".join(f"{counts[s]} {s}" for s in order if counts[s] or s in ("done", "failed")))
    kinds = sorted({t.kind for t in found.trials})
    for kind in kinds:
        mine = [t for t in found.trials if t.kind == kind]
        click.echo(f"  {kind}: {sum(t.state == 'done' for t in mine)}/{len(mine)} done")
    if found.run:
        click.echo(f"latest Tune run: {found.run} (its saved state; running trials of a killed driver "
                   "show as running until `--resume`)")
    for trial in found.trials:
        if show_all or trial.state in (FAILED, RUNNING):
            line = f"  {trial.state:<8} {trial.trial_id}  {trial.label}"
            if trial.state == FAILED:
                line += f"\n           {trial.error}" + (f"\n           ({trial.error_file})" if trial.error_file else "")
            click.echo(line)
