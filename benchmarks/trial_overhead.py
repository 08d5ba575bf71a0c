"""Ray Tune's per-trial overhead on a warm cluster: for a sequence of trivial trials on one
lane, the dead time from one trial's last line to the next trial's first useful line (Tune's
bookkeeping, actor start or reuse, and importing what a ribray trial imports)."""

from __future__ import annotations

import itertools
import os
import statistics
import time

from benchmarks.results import Check, Section
from benchmarks.sizes import Sizes

TARGET_S = 5.0


def _trivial_trial(config: dict) -> None:
    """Records when it starts, imports ribray's trial code (free once the process has it)."""
    first_line = time.time()
    from ray import tune

    started = time.perf_counter()
    import ribray.trials  # noqa: F401 - what every ribray trial imports
    import_s = time.perf_counter() - started
    tune.report({"first_line": first_line, "import_s": import_s, "pid": os.getpid(),
                 "last_line": time.time()})


def overheads(results: list[dict]) -> list[float]:
    """Seconds from each trial's last line to the next one's first useful line."""
    ordered = sorted(results, key=lambda r: r["first_line"])
    return [later["first_line"] + later["import_s"] - earlier["last_line"]
            for earlier, later in itertools.pairwise(ordered)]


def sequence(trials: int, reuse_actors: bool) -> dict:
    """Run `trials` trivial trials one after another; their overheads and process count."""
    from benchmarks.tune_runner import run_trials

    started = time.time()
    results = run_trials(_trivial_trial, {"cpu": 1}, num_samples=trials, max_concurrent=1,
                         reuse_actors=reuse_actors)
    gaps = overheads(results)
    return {"trials": len(results), "processes": len({r["pid"] for r in results}),
            "median_overhead_s": statistics.median(gaps), "max_overhead_s": max(gaps),
            "first_trial_start_s": min(r["first_line"] for r in results) - started,
            "import_s": max(r["import_s"] for r in results)}


def measure(sizes: Sizes) -> Section:
    """With actor reuse (the target) and without (what a fresh process per trial costs)."""
    reused = sequence(sizes.overhead_trials, reuse_actors=True)
    fresh = sequence(sizes.overhead_trials, reuse_actors=False)
    return Section("trial_overhead", numbers={"reuse_actors": reused, "fresh_actors": fresh},
                   checks=[Check("ray: per-trial overhead, actor reuse (s)",
                                 reused["median_overhead_s"], TARGET_S, at_least=False,
                                 note=f"fresh actors: {fresh['median_overhead_s']:.2f} s")])
