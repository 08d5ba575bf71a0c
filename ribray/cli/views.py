"""How the CLI shows a plan (a table for people, JSON for scripts) and a sweep's end."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ribray.plan import Plan
    from ribray.plan.estimate import Breakdown, GpuPrice, Throughput
    from ribray.plan.schedule import Schedule
    from ribray.results.layout import SweepLayout
    from ribray.spec import Spec

GiB = 2**30


def plan_json(spec: Spec, plan: Plan, throughput_file: str | None = None, done: set[str] = frozenset(),
              gpus: int | None = None, price: GpuPrice | None = None) -> str:
    from ribray.plan.estimate import breakdown, load_throughput

    throughput = load_throughput(throughput_file)
    cost = breakdown(plan, throughput)
    extra = {}
    if gpus is not None and spec.resources.gpu:
        found = sweep_schedule(spec, plan, cost, done, gpus)
        extra["schedule"] = {"gpus": gpus, "trials_at_once": found.lanes, "wall_hours": round(found.makespan, 3),
                             "gpu_busy_share": round(_busy_share(found, gpus, spec.resources.gpu), 3)}
    if price is not None and spec.resources.gpu:
        held = gpus * extra["schedule"]["wall_hours"] if "schedule" in extra else None
        extra["cost"] = {"usd_per_gpu_hour": price.usd, "price_of": price.what,
                         "usd_gpu_hours": round(price.usd * _hours_to_run(cost, done) * spec.resources.gpu, 2),
                         **({"usd_gpus_held": round(price.usd * held, 2)} if held is not None else {})}
    trials = [t.to_config() | {"label": t.label, "gpu_hours": round(cost.by_trial[t.trial_id], 4),
                               "done": t.trial_id in done} for t in plan.trials]
    return json.dumps({"sweep": spec.name, "spec_hash": plan.spec_hash,
                       "overrides": [o.text for o in spec._overrides], "trials": trials,
                       "gpu_hours": round(cost.total, 3), "gpu_hours_by_kind": _rounded(cost.by_kind),
                       "gpu_hours_by_downstream": _rounded(cost.by_downstream),
                       "gpu_hours_by_eval_set": _rounded(cost.by_eval_set),
                       "throughput": throughput.source(), "done": len(done & set(plan.by_id())), **extra},
                      indent=2)


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


def plan_table(spec: Spec, plan: Plan, throughput_file: str | None = None, done: set[str] = frozenset(),
               model_bytes: dict[str, float | None] | None = None, summary_only: bool = False,
               gpus: int | None = None, price: GpuPrice | None = None) -> str:
    """One line per trial (columns as wide as their longest value), then the summary."""
    from ribray.plan.estimate import breakdown, load_throughput

    throughput = load_throughput(throughput_file)
    cost = breakdown(plan, throughput)
    lines = []
    if not summary_only:
        hours = cost.by_trial
        rows = [["id", "kind", "model", "method", "downstream", "seed", "done", "gpu-h", "after"]]
        rows += [[t.trial_id, t.kind, t.model.shown, t.method_label,
                  t.downstream or "-", "" if t.seed is None else str(t.seed),
                  "yes" if t.trial_id in done else "", f"{hours[t.trial_id]:.2f}", ",".join(t.depends_on)]
                 for t in plan.trials]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        right = {5, 7}  # seed and hours: numbers
        for n, row in enumerate(rows):
            lines.append("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                                   for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
            if n == 0:
                lines.append("-" * len(lines[0]))
        lines.append("")
    lines += plan_summary(spec, plan, throughput, cost, done, model_bytes or {})
    if spec.resources.gpu and (gpus is not None or price is not None):
        lines += schedule_lines(spec, plan, cost, throughput, done, gpus, price)
    return "\n".join(lines)


def plan_summary(spec: Spec, plan: Plan, throughput: Throughput, cost: Breakdown, done: set[str],
                 model_bytes: dict[str, float | None]) -> list[str]:
    from ribray.plan.estimate import storage

    kinds = {k: sum(1 for t in plan.trials if t.kind == k) for k in dict.fromkeys(t.kind for t in plan.trials)}
    finished = len(done & set(plan.by_id()))
    lines = [overrides_line(spec)] if spec._overrides else []
    lines += [f"{len(plan)} trials ({', '.join(f'{n} {k}' for k, n in kinds.items())}); {finished} done, "
             f"{len(plan) - finished} to run"]
    lines += grid_lines(spec, plan, cost)
    if spec.resources.gpu:
        lines.append(f"estimated {cost.total:.1f} GPU-hours at full dataset sizes, {spec.resources.gpu:g} GPU per "
                     f"trial, at the rates of {throughput.source()} (ribray plan --throughput FILE: your own)")
        lines.append("  by kind:       " + _listed(cost.by_kind))
        lines.append("  by downstream: " + _listed(cost.by_downstream) + " (training and evaluation)")
        lines.append("  by eval set:   " + _listed(cost.by_eval_set) + " (evaluation)")
    else:
        lines.append("no time estimate: the trials claim no GPU (resources.gpu: 0), and the measured rates "
                     "are a GPU's")
    unknown = sorted(m for m, size in model_bytes.items() if size is None)
    sizes = {m: size for m, size in model_bytes.items() if size is not None}
    if sizes:
        need = storage(plan, sizes)
        lines.append(f"storage: {_size(need.weights)} of final weights ({need.finetunes} fine-tunes, kept "
                     f"for interpolations and LP-FT), plus {_size(need.checkpoint_per_running)} of resume "
                     "checkpoint per fine-tune running at once (deleted when it finishes); results and MLflow: "
                     "a few MB" + (f"; sizes unknown for {', '.join(unknown)}" if unknown else ""))
    return lines


def sweep_schedule(spec: Spec, plan: Plan, cost: Breakdown, done: set[str], gpus: int) -> Schedule:
    """The plan's trials still to run on `gpus` GPUs, simulated in the searcher's order over their
    estimated durations (ordered by the packaged rates' estimates, as `ribray sweep` orders them)."""
    from ribray.plan.estimate import load_throughput, plan_hours
    from ribray.plan.schedule import on_gpus

    return on_gpus(list(plan.trials), gpus, spec.resources.gpu, cost.by_trial,
                   order_hours=plan_hours(plan, load_throughput()), done=done)


def _busy_share(found: Schedule, gpus: int, gpu_per_trial: float) -> float:
    """The share of `gpus` x the wall time that trials hold GPUs."""
    return found.busy * gpu_per_trial / (gpus * found.makespan) if found.makespan else 1.0


def _hours_to_run(cost: Breakdown, done: set[str]) -> float:
    return sum(h for trial_id, h in cost.by_trial.items() if trial_id not in done)


def schedule_lines(spec: Spec, plan: Plan, cost: Breakdown, throughput: Throughput, done: set[str], gpus: int | None,
                   price: GpuPrice | None) -> list[str]:
    """`--gpus N`: the wall time of what is left to run, on N GPUs; `--price P`: what it costs (the
    cluster configs' instance types when no price is given)."""
    from ribray.plan.estimate import GPU_PRICES

    lines, held = [], None
    if gpus is not None:
        found = sweep_schedule(spec, plan, cost, done, gpus)
        held = gpus * found.makespan
        lines.append(f"on {gpus} GPU(s), {found.lanes} trial(s) at once: {_wall(found.makespan)} wall clock for the "
                     f"{len(found.spans)} trial(s) to run, GPUs busy {100 * _busy_share(found, gpus, spec.resources.gpu):.0f} % "
                     "(the sweep's order simulated over the estimated durations, dependencies included; the start-up "
                     "of Ray and of each trial's worker not included)")
    gpu_hours = _hours_to_run(cost, done) * spec.resources.gpu
    for each in [price] if price is not None else list(GPU_PRICES.values()):
        line = f"cost at ${each.usd:g} per GPU-hour ({each.what}): "
        if held is not None:
            line += (f"${each.usd * held:,.2f} for {gpus} GPU(s) held {_wall(found.makespan)}; "
                     f"${each.usd * gpu_hours:,.2f} of busy GPU time (what an autoscaler that removes idle GPUs bills)")
        else:
            line += f"${each.usd * gpu_hours:,.2f} for the {gpu_hours:,.1f} GPU-hours to run"
        lines.append(line)
    lines.append(f"  (durations at the rates of {throughput.source()}: a slower GPU takes longer and costs more; "
                 "measure yours: ribray plan --throughput FILE)")
    return lines


def _wall(hours: float) -> str:
    days, rest = divmod(round(hours * 60), 24 * 60)
    return (f"{days}d " if days else "") + f"{rest // 60}h{rest % 60:02d}m"


def overrides_line(spec: Spec) -> str:
    from ribray.spec.overrides import overrides_shown

    return (f"overrides: {overrides_shown(spec._overrides)} (the trials, their ids and the spec hash "
            f"{spec.spec_hash()} are of the spec with them)")


def grid_lines(spec: Spec, plan: Plan, cost: Breakdown) -> list[str]:
    """Each grid of the spec (`{grid: [...]}`) with the variants it expands to, their trials and
    GPU-hours: what a grid costs before it runs."""
    lines = []
    for key, entries in (("methods", spec.methods), ("interpolations", spec.interpolations)):
        grids: dict[str, list] = {}
        for entry in entries.values():
            if entry.grid:
                grids.setdefault(entry.key, []).append(entry)
        for spec_key, variants in grids.items():
            labels = {e.label for e in variants}
            trials = [t for t in plan.trials if (t.variant or t.method) in labels]
            over = ", ".join(dict.fromkeys(k for e in variants for k, _ in e.grid))
            hours = f", {sum(cost.by_trial[t.trial_id] for t in trials):.1f} GPU-hours" if spec.resources.gpu else ""
            lines.append(f"grid {key}.{spec_key} over {over}: {len(variants)} variants, {len(trials)} trials{hours}: "
                         + ", ".join(e.label for e in variants))
    return lines


def _size(count: float) -> str:
    return f"{count / GiB:.1f} GiB" if count >= GiB else f"{count / 2**20:.1f} MiB"


def _listed(hours: dict[str, float], shown: int = 9) -> str:
    items = [f"{name} {value:.1f}" for name, value in list(hours.items())[:shown]]
    return ", ".join(items) + (f", ... ({len(hours) - shown} more)" if len(hours) > shown else "") if items else "-"


def print_summary(summary, spec_path: str) -> None:
    """How `ribray sweep` reports its end."""
    ran = summary.done - summary.already_done
    click.echo(f"\nsweep: {summary.done}/{summary.planned} trials done "
               f"({ran} this run, {summary.already_done} before) in {summary.seconds:.0f}s")
    by_error: dict[str, list[str]] = {}  # a full disk stops every trial with one cause: one line
    for trial_id, error in summary.failed.items():
        by_error.setdefault(error, []).append(trial_id)
    for error, ids in by_error.items():
        who = ids[0] if len(ids) == 1 else f"{len(ids)} trials ({', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''})"
        click.secho(f"  failed {who}: {error}", fg="red")
    if summary.not_run:
        click.secho(f"  {len(summary.not_run)} trial(s) not run: {', '.join(summary.not_run[:10])}"
                    + (" ..." if len(summary.not_run) > 10 else ""), fg="yellow")
    if summary.complete:
        click.secho("complete.", fg="green")
    elif summary.failed:
        click.echo(f"fix the failures, then `ribray sweep {spec_path}` runs only what is missing.")
    else:
        click.echo(resume_hint(spec_path))


def resume_hint(spec_path: str) -> str:
    return f"interrupted: `ribray sweep {spec_path} --resume` continues from the checkpoints."


def status_table(found, show_all: bool = False) -> str:
    """`ribray status`: the counts, by kind, the latest Tune run, then failed and running trials
    (every trial with `show_all`)."""
    from ribray.results.status import FAILED, RUNNING

    counts = found.counts()
    order = ("done", "running", "failed", "waiting", "blocked")
    lines = [f"{found.sweep}: {len(found.trials)} trials: "
             + ", ".join(f"{counts[s]} {s}" for s in order if counts[s] or s in ("done", "failed"))]
    for kind in sorted({t.kind for t in found.trials}):
        mine = [t for t in found.trials if t.kind == kind]
        lines.append(f"  {kind}: {sum(t.state == 'done' for t in mine)}/{len(mine)} done")
    if found.run:
        lines.append(f"latest Tune run: {found.run} (its saved state; running trials of a killed driver "
                     "show as running until `--resume`)")
    for trial in found.trials:
        if show_all or trial.state in (FAILED, RUNNING):
            line = f"  {trial.state:<8} {trial.trial_id}  {trial.label}"
            if trial.state == FAILED:
                line += f"\n           {trial.error}" + (f"\n           ({trial.error_file})" if trial.error_file else "")
            lines.append(line)
    return "\n".join(lines)


def watch_status(layout: SweepLayout, table, interval: float) -> None:
    """Show `table()` every `interval` seconds while a sweep holds the folder's lock, then once
    more. In a terminal the table is redrawn in place; elsewhere (a log, a pipe) a table is
    printed each time it changes, under the time. Ctrl-C stops watching (exit code 0)."""
    import shutil

    from ribray.results.lock import is_locked

    tty, shown, drawn, refreshes = _terminal(), None, 0, 0
    try:
        while True:
            running = is_locked(layout.root)  # before reading: the last table is read after the sweep ended
            text, stamp = table(), time.strftime("%H:%M:%S")
            if tty:
                rows = shutil.get_terminal_size().lines
                # back to the last table's first line and clear below (the whole screen if it scrolled away)
                redraw = "" if not drawn else f"\x1b[{drawn}F\x1b[J" if drawn < rows else "\x1b[H\x1b[2J"
                click.echo(f"{redraw}ribray status, every {interval:g}s (Ctrl-C stops watching), {stamp}\n{text}")
                drawn = text.count("\n") + 2
            elif text != shown:
                click.echo(f"-- {stamp} --\n{text}")
            shown, refreshes = text, refreshes + 1
            if not running:
                click.echo("no sweep of this folder is running: nothing to watch" if refreshes == 1 else
                           "the sweep is no longer running: stopped watching")
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("\nstopped watching (a running sweep goes on)")


def _terminal() -> bool:
    return sys.stdout.isatty()
