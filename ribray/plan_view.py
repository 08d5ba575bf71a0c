"""How `ribray plan` shows a plan: a table for people, JSON for scripts."""

from __future__ import annotations

import json

from ribray.estimate import load_throughput, plan_hours
from ribray.plan import Plan
from ribray.spec import Spec


def plan_json(spec: Spec, plan: Plan, throughput_file: str | None = None) -> str:
    hours = plan_hours(plan, load_throughput(throughput_file))
    trials = [t.to_config() | {"label": t.label, "gpu_hours": round(hours[t.trial_id], 4)}
              for t in plan.trials]
    return json.dumps({"sweep": spec.name, "spec_hash": plan.spec_hash, "trials": trials,
                       "gpu_hours": round(sum(hours.values()), 3)}, indent=2)


def plan_table(spec: Spec, plan: Plan, throughput_file: str | None = None) -> str:
    throughput = load_throughput(throughput_file)
    hours = plan_hours(plan, throughput)
    header = f"{'id':<12}  {'kind':<11}  {'model':<28}  {'method':<12}  {'downstream':<17}  {'seed':>4}  {'gpu-h':>6}  after"
    lines = [header, "-" * len(header)]
    for t in plan.trials:
        method = t.method + (f"({t.config['alpha']:g})" if t.config.get("alpha") is not None else "")
        seed = "" if t.seed is None else str(t.seed)
        lines.append(f"{t.trial_id:<12}  {t.kind:<11}  {t.model:<28}  {method:<12}  "
                     f"{t.downstream or '-':<17}  {seed:>4}  {hours[t.trial_id]:>6.2f}  {','.join(t.depends_on)}")
    kinds = {k: sum(1 for t in plan.trials if t.kind == k) for k in dict.fromkeys(t.kind for t in plan.trials)}
    lines.append("")
    lines.append(f"{len(plan)} trials ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
                 f"estimated {sum(hours.values()):.1f} GPU-hours on {throughput.device} "
                 f"at full dataset sizes, {spec.resources.gpu:g} GPU per trial")
    return "\n".join(lines)
