"""The Ray Tune trainable: run one planned trial, write its shard, log its MLflow run."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

from ray import tune

from ribray.errors import PermanentError
from ribray.plan import Trial
from ribray.results.store import shard_name, write_shard
from ribray.results.tracking import TrialRun, final_metrics
from ribray.storage import StorageError, refuse_if_full
from ribray.trials.context import SweepContext, TrialContext

# Ray logs every epoch checkpoint of every trial at INFO; ribray's progress line says enough.
logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)


def run_trial(config: dict, context: SweepContext, fault: dict[str, str] | None = None) -> None:
    """Entry point Tune calls in the trial's worker process, with the trial's config (its
    `to_config()`), the sweep's settings and, in ribray's own fault tests, a fault to inject."""
    from ribray.trials import RUNNERS
    from ribray.trials.common import now, result_rows

    trial = Trial.from_config(config)
    if context.results.child(shard_name(trial.trial_id)).exists():
        tune.report({"trial_finished": 1, "skipped": 1})  # finished before an interruption: never twice
        return
    failed_for_good = context.layout.failed.child(f"{trial.trial_id}.txt")
    if failed_for_good.exists():  # Tune retries every error; this one would only repeat
        raise PermanentError(failed_for_good.read_bytes().decode())
    refuse_if_full(context.layout.root, "the trial")
    ctx = TrialContext(context, TrialRun(context.tracking, trial.trial_id, trial.label), fault)
    ctx.run_log.start(_params(trial))
    started = now()
    try:
        outcome = RUNNERS.get(trial.kind)(trial, ctx)
        rows = result_rows(trial, ctx, outcome, started, now())  # checks the data it read is unchanged
    except PermanentError as error:
        with contextlib.suppress(StorageError):  # a full disk: the error itself says so
            failed_for_good.write_bytes(str(error).encode())
        ctx.run_log.finish({}, None, status="FAILED")
        raise
    except BaseException:
        ctx.run_log.finish({}, None, status="FAILED")  # a retry sets it RUNNING again
        raise
    location = write_shard(context.results, trial.trial_id, rows)
    metrics = final_metrics(rows)
    ctx.run_log.finish(metrics, _local_copy(location, context), step=outcome.epochs)
    tune.report({"trial_finished": 1, **metrics})


def _params(trial: Trial) -> dict[str, object]:
    """The trial's typed parameters, flattened to MLflow params (no credentials in them)."""
    flat: dict[str, object] = {"label": trial.label}
    for key, value in trial.to_config().items():
        if isinstance(value, dict):
            flat |= {f"{key}.{k}": json.dumps(v) if isinstance(v, (dict, list)) else v
                     for k, v in value.items()}
        else:
            flat[key] = json.dumps(value) if isinstance(value, list) else value
    return flat | {"model": trial.model.name}


def _local_copy(location, context: SweepContext) -> str | None:
    """A local path of the shard for MLflow to upload (the shard may live in S3)."""
    if location.is_local:
        return location.path
    folder = Path(tempfile.mkdtemp(dir=context.scratch or None))
    path = folder / os.path.basename(location.path)
    path.write_bytes(location.read_bytes())
    return str(path)
