"""benchmarks/engine_scale.py: the engine's per-trial operations grow linearly with the plan
(an exponent of log(time) over log(trials), not a timing threshold), measured by the same
command a user runs, at small sizes (511 to 4,543 trials)."""

from __future__ import annotations

import json

import pytest

from benchmarks import run
from benchmarks.engine_scale import MAX_EXPONENT, exponent

OPERATIONS = {"baseline_dict", "plan", "handout", "plan_schedule", "searcher_half_done", "searcher_save", "searcher_unpickle",
              "searcher_restore", "status_fresh",
              "write_results", "startup_checks", "shard_index_written", "startup_checks_indexed", "status_done",
              "report_tables"}


def test_the_fit_tells_linear_from_quadratic():
    sizes = [500, 1500, 4500]
    assert exponent(sizes, [n * 1e-5 for n in sizes]) == pytest.approx(1.0)
    assert exponent(sizes, [(n * 1e-3) ** 2 for n in sizes]) == pytest.approx(2.0)
    assert exponent(sizes, [n * 1e-5 for n in sizes[:1]] * 3) == pytest.approx(0.0)


def test_no_engine_operation_grows_faster_than_linear(tmp_path):
    out = tmp_path / "engine.json"
    assert run.main(["--only", "engine", "--quick", "--device", "cpu", "--out", str(out)]) == 0

    engine = json.loads(out.read_text())["measurements"]["engine"]
    plans = engine["numbers"]["plans"]
    assert [p["trials"] for p in plans] == [511, 1519, 4543]
    assert all(set(p["seconds"]) == OPERATIONS for p in plans)
    assert plans[-1]["rows"] >= 4543  # every trial has its shard, with a row at least
    too_fast = {c["name"] for c in engine["checks"] if c["value"] is None}
    assert all("too fast to fit" in c["note"] for c in engine["checks"] if c["value"] is None)
    slow = {c["name"]: c["value"] for c in engine["checks"] if c["value"] is not None and c["value"] > MAX_EXPONENT}
    assert not slow, f"superlinear engine operations: {slow} (too fast to fit: {sorted(too_fast)})"
    assert {"engine growth exponent: handout", "engine growth exponent: startup_checks"}.isdisjoint(too_fast)
