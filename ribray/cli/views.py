"""How the CLI shows a plan (a table for people, JSON for scripts) and a sweep's end."""

from __future__ import annotations

import json

import click

GiB = 2**30


def plan_json(spec, plan, throughput_file: str | None = None, done: set[str] = frozenset()) -> str:
    from ribray.plan.estimate import breakdown, load_throughput

    throughput = load_throughput(throughput_file)
    cost = breakdown(plan, throughput)
    trials = [t.to_config() | {"label": t.label, "gpu_hours": round(cost.by_trial[t.trial_id], 4),
                               "done": t.trial_id in done} for t in plan.trials]
    return json.dumps({"sweep": spec.name, "spec_hash": plan.spec_hash, "trials": trials,
                       "gpu_hours": round(cost.total, 3), "gpu_hours_by_kind": _rounded(cost.by_kind),
                       "gpu_hours_by_downstream": _rounded(cost.by_downstream),
                       "gpu_hours_by_eval_set": _rounded(cost.by_eval_set),
                       "throughput": throughput.source(), "done": len(done & set(plan.by_id()))}, indent=2)


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


def plan_table(spec, plan, throughput_file: str | None = None, done: set[str] = frozenset(),
               model_bytes: dict[str, float | None] | None = None, summary_only: bool = False) -> str:
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
    return "\n".join(lines + plan_summary(spec, plan, throughput, cost, done, model_bytes or {}))


def plan_summary(spec, plan, throughput, cost, done: set[str], model_bytes: dict[str, float | None]) -> list[str]:
    from ribray.plan.estimate import storage

    kinds = {k: sum(1 for t in plan.trials if t.kind == k) for k in dict.fromkeys(t.kind for t in plan.trials)}
    finished = len(done & set(plan.by_id()))
    lines = [f"{len(plan)} trials ({', '.join(f'{n} {k}' for k, n in kinds.items())}); {finished} done, "
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


def grid_lines(spec, plan, cost) -> list[str]:
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
