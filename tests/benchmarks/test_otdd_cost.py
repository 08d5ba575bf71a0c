"""`python -m benchmarks.otdd_cost` writes a run per estimator and size, saved as it goes."""

import json

from benchmarks import otdd_cost


def test_it_times_both_estimators_at_each_size_and_writes_them(tmp_path):
    out = tmp_path / "otdd.json"
    otdd_cost.main(["--out", str(out), "--sizes", "40", "60", "--classes", "4", "--width", "8"])
    found = json.loads(out.read_text())
    assert [(r["images_per_set"], r["estimator"]) for r in found["runs"]] == [
        (40, "exact"), (40, "debiased_sinkhorn"), (60, "exact"), (60, "debiased_sinkhorn")]
    assert all(r["seconds"] >= 0 and r["value"] > 0 for r in found["runs"])
    assert found["command"].startswith("python -m benchmarks.otdd_cost --out")
