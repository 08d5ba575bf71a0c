"""The layering that `lint-imports` checks statically (pyproject.toml), checked at run time:
planning a sweep and building its report load no torch, Ray or MLflow."""

from __future__ import annotations

from conftest import loaded_after

HEAVY = ("torch", "ray", "mlflow", "timm", "torchvision")


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
    assert loaded_after(code, HEAVY) == []


def test_building_a_report_loads_no_gpu_stack():
    code = """
from ribray.report import build_report
rows = [{"kind": "pretrained", "model": "m", "method": "pretrained", "eval_set": s, "top1": 50.0}
        for s in ("imagenet_r", "imagenet_a")]
rows += [{"kind": "finetune", "model": "m", "method": "ft", "downstream": d, "seed": 0, "eval_set": s,
          "top1": 60.0, "final": True} for d in ("imagenet_r", "imagenet_a") for s in ("imagenet_r", "imagenet_a")]
assert build_report(rows).mri[("m", "ft")].mean == 10.0
"""
    assert loaded_after(code, HEAVY) == []
