"""The layering that `lint-imports` checks statically (pyproject.toml), checked at run time:
planning a sweep and building its report load no torch, Ray or MLflow."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "ray", "mlflow", "timm", "torchvision")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])


def test_planning_and_estimating_a_sweep_loads_no_gpu_stack():
    code = """
from ribray.spec import parse_spec
from ribray.plan import make_plan
from ribray.plan.estimate import load_throughput, plan_hours
spec = parse_spec({"name": "a", "data": {"root": "/data"}, "models": ["tiny_vit"],
                   "downstream": ["imagenet_r", "imagenet_a"], "methods": {"ft": {}, "lora": {}, "lp_ft": {}},
                   "interpolations": {"wise_ft": {}}, "analyses": {"cka": {}, "otdd": {}}})
assert len(plan_hours(make_plan(spec), load_throughput())) == 20
"""
    assert _loaded_after(code) == []


def test_building_a_report_loads_no_gpu_stack():
    code = """
from ribray.report import build_report
rows = [{"kind": "pretrained", "model": "m", "method": "pretrained", "eval_set": s, "top1": 50.0}
        for s in ("imagenet_r", "imagenet_a")]
rows += [{"kind": "finetune", "model": "m", "method": "ft", "downstream": d, "seed": 0, "eval_set": s,
          "top1": 60.0, "final": True} for d in ("imagenet_r", "imagenet_a") for s in ("imagenet_r", "imagenet_a")]
assert build_report(rows).mri[("m", "ft")].mean == 10.0
"""
    assert _loaded_after(code) == []
