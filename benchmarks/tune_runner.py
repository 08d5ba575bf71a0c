"""Run trainables as real Ray Tune trials and collect what they report."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

from ray import tune


class _Collect(tune.Callback):
    """Every result the trials report, in the driver (no result files needed)."""

    def __init__(self):
        self.results: list[dict] = []

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.results.append(dict(result))


def ensure_ray(num_gpus: int | None = None, num_cpus: int | None = None) -> bool:
    """Start a local Ray on 127.0.0.1 unless one is running; True if this call started it."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return False
    # address="local": a new instance, never a cluster that `ray start` left on this machine
    ray.init(address="local", num_gpus=num_gpus, num_cpus=num_cpus, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False)
    return True


def restart_ray(num_gpus: int) -> None:
    """A fresh local Ray advertising `num_gpus` GPUs (fake ones where the machine has fewer)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    ensure_ray(num_gpus=num_gpus, num_cpus=max(num_gpus, os.cpu_count() or 1))


def run_trials(trainable: Callable, resources: dict, *, num_samples: int = 1,
               param_space: dict | None = None, search_alg=None, max_concurrent: int | None = None,
               reuse_actors: bool = False) -> list[dict]:
    """Run `trainable` as Tune trials (Ray must be up); return every reported result.

    Raises the first trial error: a benchmark that silently lost a trial would be wrong.
    """
    collect = _Collect()
    storage = tempfile.mkdtemp(prefix="ribray-bench-tune-")
    try:
        tuner = tune.Tuner(
            tune.with_resources(trainable, resources), param_space=param_space or {},
            tune_config=tune.TuneConfig(num_samples=num_samples, search_alg=search_alg,
                                        max_concurrent_trials=max_concurrent,
                                        reuse_actors=reuse_actors),
            run_config=tune.RunConfig(storage_path=storage, callbacks=[collect], verbose=0))
        grid = tuner.fit()
        if grid.errors:
            raise RuntimeError(f"a benchmark trial failed: {grid.errors[0]}") from grid.errors[0]
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    return collect.results
