"""The engine at 1x, 10x and 100x the paper's grid: how each per-trial operation grows.

The paper's main grid (sweeps/full.yaml) is 511 trials a seed; seed lists of 10 and 100 make
5,047 and 50,407. For each plan this times, on the driver's one thread (no Ray, no GPU):

- `plan`: make_plan from the parsed spec;
- `handout`: the PlanSearcher's every suggest until FINISHED, 8 trials running (the oldest
  completes whenever 8 run or nothing is ready), with the plan's GPU-hour estimates;
- `searcher_half_done`: a PlanSearcher built for a re-launched sweep, half of it done;
- `searcher_save` / `searcher_restore`: Tune's experiment checkpoint of the searcher, halfway
  (`searcher_unpickle`: loading the searcher that tuner.pkl holds, once per resume);
- `startup_checks`: every finished shard's footer read and checked (whole? computed on this
  data and this code?) on synthetic shards of the whole plan, as a sweep does before Ray starts
  the first time; `startup_checks_indexed`: the same on a re-run, when the sweep's shard index
  (`shard_index_written`) has seen every shard;
- `status_fresh` / `status_done`: `ribray status`'s table of the plan, before any shard and
  with every shard written;
- `report_tables`: `ribray report`'s tables and pages (`--figures none`) from those shards.

`baseline_dict` (a dict of the plan's trials by id) is the bare baseline: how the machine
itself slows as the working set outgrows its caches. Each plan is measured in a fresh
process; each time is the best of a few repeats, and each operation's growth is the least-squares
slope of log(time) over log(trials): 1 is linear, 2 quadratic. `python -m benchmarks.run
--only engine` writes it all to the results JSON.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import pickle
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml
from ray.tune.search import Searcher

from benchmarks.results import Check, Section
from ribray.engine.searcher import METRIC, PlanSearcher
from ribray.plan import Plan, make_plan
from ribray.spec import parse_spec

SPEC = Path(__file__).resolve().parent.parent / "sweeps" / "full.yaml"
RUNNING = 8  # trials running at once while the searcher hands out
MAX_EXPONENT = 1.5  # linear, with room for a loaded machine (unpickling fit 1.31 at load 10); quadratic fits ~2
FIT_FLOOR_S = 0.01  # an operation faster than this on the largest plan has no measurable growth
SEED_COUNTS = {"full": (1, 10, 100), "quick": (1, 3, 9)}  # 511, 5,047, 50,407 trials; or 511 .. 4,591


def spec_of(seeds: int, storage: Path) -> object:
    """sweeps/full.yaml with `seeds` seeds, its results under `storage`."""
    raw = yaml.safe_load(SPEC.read_text())
    raw |= {"seeds": list(range(seeds)), "storage": str(storage), "name": f"scale-{seeds}"}
    return parse_spec(raw)


def timed(operation: Callable[[], object], repeats: int, at_least_s: float = 0.2) -> float:
    """The best CPU time of this process (all its threads) in `operation` (seconds) over `repeats`
    runs, and more runs of a fast one until `at_least_s` have passed (a sub-millisecond time is
    noise on its own). CPU time, not wall time: other work on the machine (CI runs tests beside
    this one) does not enter it; every operation here is CPU-bound on a local disk."""
    best, spent, runs = math.inf, 0.0, 0
    while runs < repeats or (spent < at_least_s and repeats > 1):
        started = time.process_time()
        operation()
        took = time.process_time() - started
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def hand_out(plan: Plan, hours: dict[str, float]) -> int:
    """Drive a PlanSearcher as Tune does until FINISHED; returns the trials handed out."""
    searcher = PlanSearcher(list(plan.trials), hours=hours)
    running: list[str] = []
    handed = 0
    while True:
        config = searcher.suggest(f"tune-{handed}")
        if config == Searcher.FINISHED:
            return handed
        if config is not None:
            running.append(f"tune-{handed}")
            handed += 1
        if config is None or len(running) >= RUNNING:
            searcher.on_trial_complete(running.pop(0), {METRIC: 1})


def half_done(plan: Plan) -> set[str]:
    return {t.trial_id for t in plan.trials[: len(plan) // 2]}


def operations(plan: Plan, spec, layout, fingerprints: dict[str, str], results_written: Callable[[], None]):
    """(name, operation, repeats) of one plan, in the order they must run (the results are
    written between the fresh and the done status)."""
    from ribray.plan.estimate import load_throughput, plan_hours
    from ribray.plan.schedule import on_gpus
    from ribray.plugins import identities
    from ribray.results.checks import identity_changes, verified_done
    from ribray.results.status import sweep_status

    hours = plan_hours(plan, load_throughput())
    halfway = PlanSearcher(list(plan.trials), done=half_done(plan), hours=hours)
    state_file = layout.root.path + "-searcher.json"
    pickled = pickle.dumps(halfway)
    unpickled = pickle.loads(pickled)

    def startup_checks():
        shards = verified_done(layout.results)
        changed = identity_changes(shards, fingerprints, identities(), set(shards))
        assert len(shards) == len(plan) and changed == ({}, {}), "synthetic shards are whole and unchanged"

    def startup_checks_indexed():  # a re-run: the sweep's shard index has seen every shard
        shards = verified_done(layout.results, index=layout.shard_index)
        assert len(shards) == len(plan) and identity_changes(shards, fingerprints, identities(), set(shards)) == ({}, {})

    def report_tables():
        from ribray.report import run_report

        run_report(layout.results.uri, out=layout.root.path + "-report", figures="none")

    repeats = 3 if len(plan) < 10_000 else 1
    return [
        ("baseline_dict", lambda: {t.trial_id: t for t in plan.trials}, repeats),  # the machine's own growth
        ("plan", lambda: make_plan(spec), repeats),
        ("handout", lambda: hand_out(plan, hours), repeats),
        ("plan_schedule", lambda: on_gpus(list(plan.trials), 8, 1.0, hours), repeats),  # ribray plan --gpus 8
        ("searcher_half_done", lambda: PlanSearcher(list(plan.trials), done=half_done(plan), hours=hours), repeats),
        ("searcher_save", lambda: halfway.save(state_file), repeats),
        ("searcher_unpickle", lambda: pickle.loads(pickled), repeats),  # Tune's tuner.pkl, once a resume
        ("searcher_restore", lambda: unpickled.restore(state_file), repeats),
        ("status_fresh", lambda: sweep_status(layout, plan), repeats),
        ("write_results", results_written, 1),  # not an engine operation: the synthetic shards
        ("startup_checks", startup_checks, repeats),
        ("shard_index_written", lambda: verified_done(layout.results, index=layout.shard_index), 1),
        ("startup_checks_indexed", startup_checks_indexed, repeats),
        ("status_done", lambda: sweep_status(layout, plan), repeats),
        ("report_tables", report_tables, 1),
    ]


def measure_plan(seeds: int, folder: Path) -> dict:
    """Every operation's seconds on the plan of `seeds` seeds, and the sizes involved."""
    from benchmarks.engine_data import synthetic_results
    from ribray.results.layout import SweepLayout

    spec = spec_of(seeds, folder / f"seeds-{seeds}")
    plan = make_plan(spec)
    layout = SweepLayout.of(spec)
    layout.root.makedirs()
    layout.mark(spec.name, spec.name, spec.spec_hash())
    fingerprints = {name: f"{100 + i}:{i:012x}" for i, name in enumerate(sorted(spec.datasets_read()))}
    found: dict = {"trials": len(plan), "seconds": {}}

    def results_written():
        found["rows"] = synthetic_results(spec, plan, layout.results, fingerprints=fingerprints)

    for name, operation, repeats in operations(plan, spec, layout, fingerprints, results_written):
        found["seconds"][name] = timed(operation, repeats)
    found["searcher_state_bytes"] = Path(layout.root.path + "-searcher.json").stat().st_size
    return found


def exponent(sizes: list[int], seconds: list[float]) -> float | None:
    """The least-squares slope of log(seconds) over log(sizes); None if a time is 0."""
    if len(sizes) < 2 or min(seconds) <= 0:
        return None
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def growth(plans: list[dict]) -> dict[str, float | None]:
    """Each operation's exponent; None for one that takes under FIT_FLOOR_S on the largest plan
    (microseconds a trial: timer noise, not growth, would decide its slope)."""
    sizes = [p["trials"] for p in plans]
    return {name: exponent(sizes, [p["seconds"][name] for p in plans])
            if plans[-1]["seconds"][name] >= FIT_FLOOR_S else None for name in plans[0]["seconds"]}


# reported, not checked: the machine's own growth, the synthetic shards and their index, and
# `ribray plan --gpus`'s simulation, which runs once per command and is n log n (heaps of ready
# trials): it fits ~1.3 at the quick sizes on a loaded 2-core machine
NOT_ENGINE = ("baseline_dict", "write_results", "shard_index_written", "plan_schedule")


def measure(quick: bool, seed_counts: tuple[int, ...] | None = None) -> Section:
    """Each plan in a fresh process (a heap left by the previous plan would slow the next)."""
    seed_counts = seed_counts or SEED_COUNTS["quick" if quick else "full"]
    with tempfile.TemporaryDirectory(prefix="ribray-engine-scale-") as folder:
        plans = []
        for seeds in seed_counts:
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as fresh:
                plans.append(fresh.submit(measure_plan, seeds, Path(folder)).result())
            print(f"engine: {plans[-1]['trials']} trials: "
                  + ", ".join(f"{k} {v:.3f}s" for k, v in plans[-1]["seconds"].items()), flush=True)
    exponents = growth(plans)
    largest = plans[-1]
    checks = [Check(f"engine growth exponent: {name}", value, MAX_EXPONENT, at_least=False,
                    note="" if value is not None else
                    f"{largest['seconds'][name] * 1e3:.1f} ms at {largest['trials']} trials: too fast to fit")
              for name, value in exponents.items() if name not in NOT_ENGINE]
    return Section("engine", {"plans": plans, "exponents": exponents}, checks)


if __name__ == "__main__":
    print(json.dumps(measure(quick=True).to_dict(), indent=2))
