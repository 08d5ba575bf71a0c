"""The Ray Tune trainable: run one planned trial, write its shard, log its MLflow run.
Ray is imported where a trial reports to it: the driver imports this module (for
FAILED_FOR_GOOD) before `ribray sweep` prints its plan, and Ray's import can come after."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from ribray.errors import PermanentError, RibrayError, first_line
from ribray.plan import Trial
from ribray.results.store import write_shard
from ribray.results.tracking import TrialRun, final_metrics
from ribray.storage import StorageError, refuse_if_full
from ribray.trials import faults
from ribray.trials.context import SweepContext, TrialContext

# Ray logs every epoch checkpoint of every trial at INFO; ribray's progress line says enough.
logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)


FAILED_FOR_GOOD = "failed_for_good"  # reported by a trial that failed for good: its error


def run_trial(config: dict, context: SweepContext, fault: dict[str, str] | None = None,
              read: Callable[[dict], Trial] = Trial.from_config) -> None:
    """Entry point Tune calls in the trial's worker process, with the trial's config (its
    `to_config()`), the sweep's settings and, in ribray's own fault tests, a fault to inject;
    `read` types the config (a restored run's reads older versions' configs too).

    A trial that fails for good (a PermanentError: a retry would fail alike) ends without
    raising, reporting its error as `failed_for_good`: Tune retries every exception, and this one
    would only repeat. The sweep counts such a trial as failed, with that error."""
    from ray import tune

    sigterm_exits_quietly()
    failed_for_good = context.layout.failed_note(config.get("trial_id"))
    try:
        if failed_for_good.exists():  # failed for good in this run already (a restored run retries it)
            raise PermanentError(failed_for_good.read_bytes().decode())
        _run_trial(_read_trial(config, context, read), context, fault)
    except PermanentError as error:
        with contextlib.suppress(StorageError):  # a full disk: the error itself says so
            failed_for_good.write_bytes(str(error).encode())
        tune.report({"trial_finished": 0, FAILED_FOR_GOOD: str(error)})


def sigterm_exits_quietly() -> None:
    """A sweep that stops (Ctrl-C, SIGTERM, its end) has Ray send SIGTERM to the trials'
    workers, whose handler raises SystemExit wherever Python is. Landing in a finalizer (a
    weakref's callback, a `__del__`), it cannot propagate: Python prints it to the sweep's
    terminal as "Exception ignored in ... Traceback" and the worker goes on until Ray kills it.
    From now on such an exit is carried out, quietly. Other unraisable errors print as before."""
    previous = sys.unraisablehook
    if getattr(previous, "ribray_quiet_exit", False):
        return

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, SystemExit):
            code = unraisable.exc_value.code
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code if isinstance(code, int) else 1)
        previous(unraisable)

    hook.ribray_quiet_exit = True
    sys.unraisablehook = hook


def _run_trial(trial: Trial, context: SweepContext, fault: dict[str, str] | None) -> None:
    from ray import tune

    from ribray.trials import runner
    from ribray.trials.common import now, result_rows, trial_plugins

    if context.layout.shard(trial.trial_id).exists():
        tune.report({"trial_finished": 1, "skipped": 1})  # finished before an interruption: never twice
        return
    refuse_if_full(context.layout.root, "the trial")
    ctx = TrialContext(context, TrialRun(context.tracking, trial.trial_id, trial.label))
    ctx.run_log.start(_params(trial))
    started = now()
    try:
        ctx.plugins = trial_plugins(trial, context)
        with faults.injected(fault):
            outcome = runner(trial)(trial, ctx)
        rows = result_rows(trial, ctx, outcome, started, now())  # checks the data it read is unchanged
    except BaseException:
        ctx.run_log.finish({}, None, status="FAILED")  # a retry sets it RUNNING again
        raise
    location = write_shard(context.results, trial.trial_id, rows)
    metrics = final_metrics(rows)
    ctx.run_log.finish(metrics, _local_copy(location, context), step=outcome.epochs)
    tune.report({"trial_finished": 1, **metrics})


def _read_trial(config: dict, context: SweepContext, read: Callable[[dict], Trial]) -> Trial:
    """The typed trial, after the sweep's plugins are this worker's. What fails here (a plugin
    that does not import, an unknown name, bad options) fails alike on every retry: the trial
    fails for good, at once, with that error's first line."""
    try:
        context.activate()
        return read(config)
    except PermanentError:
        raise
    except (RibrayError, ValidationError, ValueError) as error:
        raise PermanentError(f"trial {config.get('trial_id')} cannot be read in this worker: "
                             f"{first_line(error)}") from None


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
