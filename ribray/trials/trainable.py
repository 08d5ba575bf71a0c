"""The Ray Tune trainable: run one planned trial, write its shard, log its MLflow run."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from ray import tune

from ribray.context import SweepContext
from ribray.plan import Trial
from ribray.results.store import shard_name, write_shard
from ribray.tracking import TrialRun

# Ray logs every epoch checkpoint of every trial at INFO; ribray's progress line says enough.
logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)


def run_trial(config: dict, context: SweepContext) -> None:
    """Entry point Tune calls in the trial's worker process."""
    from ribray.trials import KINDS
    from ribray.trials.common import now, result_rows

    trial = Trial.from_config(config)
    if context.results.child(shard_name(trial.trial_id)).exists():
        tune.report({"trial_finished": 1, "skipped": 1})  # finished before an interruption: never twice
        return
    run_log = TrialRun(context.tracking, trial.trial_id, trial.label)
    run_log.start(_params(trial))
    started = now()
    try:
        outcome = KINDS.get(trial.kind)(trial, context, run_log)
    except BaseException:
        run_log.finish({}, None, status="FAILED")  # a retry sets it RUNNING again
        raise
    rows = result_rows(trial, context, outcome, started, now())
    location = write_shard(context.results, trial.trial_id, rows)
    run_log.finish(_final_metrics(rows), _local_copy(location, context))
    tune.report({"trial_finished": 1, **_final_metrics(rows)})


def _params(trial: Trial) -> dict[str, object]:
    """The trial's resolved config, flattened to MLflow params (no credentials in it)."""
    flat = {"trial_id": trial.trial_id, "kind": trial.kind, "model": trial.model,
            "method": trial.method, "downstream": trial.downstream, "seed": trial.seed}
    for key, value in trial.config.items():
        if isinstance(value, dict):
            flat |= {f"{key}.{k}": json.dumps(v) if isinstance(v, (dict, list)) else v
                     for k, v in value.items()}
        else:
            flat[key] = json.dumps(value) if isinstance(value, list) else value
    return flat


def _final_metrics(rows: list[dict]) -> dict[str, float]:
    metrics = {}
    for row in rows:
        if row["final"] and row.get("top1") is not None:  # analysis rows carry `value` instead
            metrics[f"top1/{row['eval_set']}"] = row["top1"]
            metrics |= {f"top1/{row['eval_set']}/{p['part']}": p["top1"] for p in row["parts"] or []}
    return metrics


def _local_copy(location, context: SweepContext) -> str | None:
    """A local path of the shard for MLflow to upload (the shard may live in S3)."""
    if location.is_local:
        return location.path
    folder = Path(tempfile.mkdtemp(dir=context.scratch or None))
    path = folder / os.path.basename(location.path)
    path.write_bytes(location.read_bytes())
    return str(path)
