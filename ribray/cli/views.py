"""How the CLI shows a plan (a table for people, JSON for scripts) and a sweep's end."""

from __future__ import annotations

import json

import click


def plan_json(spec, plan, throughput_file: str | None = None) -> str:
    from ribray.plan.estimate import load_throughput, plan_hours

    hours = plan_hours(plan, load_throughput(throughput_file))
    trials = [t.to_config() | {"label": t.label, "gpu_hours": round(hours[t.trial_id], 4)}
              for t in plan.trials]
    return json.dumps({"sweep": spec.name, "spec_hash": plan.spec_hash, "trials": trials,
                       "gpu_hours": round(sum(hours.values()), 3)}, indent=2)


def plan_table(spec, plan, throughput_file: str | None = None) -> str:
    from ribray.plan import method_label
    from ribray.plan.estimate import load_throughput, plan_hours

    throughput = load_throughput(throughput_file)
    hours = plan_hours(plan, throughput)
    header = f"{'id':<12}  {'kind':<11}  {'model':<28}  {'method':<12}  {'downstream':<17}  {'seed':>4}  {'gpu-h':>6}  after"
    lines = [header, "-" * len(header)]
    for t in plan.trials:
        method = method_label(t.method, getattr(t, "alpha", None))
        seed = "" if t.seed is None else str(t.seed)
        lines.append(f"{t.trial_id:<12}  {t.kind:<11}  {t.model.name:<28}  {method:<12}  "
                     f"{t.downstream or '-':<17}  {seed:>4}  {hours[t.trial_id]:>6.2f}  {','.join(t.depends_on)}")
    kinds = {k: sum(1 for t in plan.trials if t.kind == k) for k in dict.fromkeys(t.kind for t in plan.trials)}
    lines.append("")
    lines.append(f"{len(plan)} trials ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
                 f"estimated {sum(hours.values()):.1f} GPU-hours on {throughput.device} "
                 f"at full dataset sizes, {spec.resources.gpu:g} GPU per trial")
    return "\n".join(lines)


def print_summary(summary, spec_path: str) -> None:
    """How `ribray sweep` reports its end."""
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
