"""MLflow: one parent run per sweep (driver), one child run per trial (in the trial).

Trials log through MlflowClient with explicit run ids (no global active run), and a
tracking server that stops answering never stops a trial: logging is switched off with a
warning and `ribray mlflow sync` back-fills the runs from the Parquet shards later.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

log = logging.getLogger("ribray.tracking")

ROLE_TAG, SWEEP_TAG, TRIAL_TAG = "ribray.role", "ribray.sweep", "ribray.trial_id"

# MLflow's defaults retry a dead server for minutes per call; a trial should notice in seconds
# and carry on (the shards are the source of truth). The user's own settings win.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


def _client(tracking_uri: str):
    import os

    from mlflow.tracking import MlflowClient

    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    return MlflowClient(tracking_uri)


@dataclass(frozen=True)
class TrackingInfo:
    """What a trial needs to log its child run."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str


def redact(uri: str) -> str:
    """The URI without a user:password@ part, for messages and logs."""
    return re.sub(r"//[^/@]+@", "//***@", uri)


def start_sweep(tracking_uri: str, experiment: str, sweep: str, artifact_root: str | None,
                tags: dict[str, str]) -> TrackingInfo:
    """Create (once) the experiment and the sweep's parent run; reuse both on re-runs."""
    client = _client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        experiment_id = client.create_experiment(experiment, artifact_location=artifact_root)
    else:
        experiment_id = found.experiment_id
    runs = client.search_runs([experiment_id], f"tags.`{ROLE_TAG}` = 'sweep' and tags.`{SWEEP_TAG}` = '{sweep}'",
                              max_results=1)
    if runs:
        parent = runs[0].info.run_id
        client.update_run(parent, status="RUNNING")
    else:
        parent = client.create_run(experiment_id, run_name=sweep,
                                   tags={ROLE_TAG: "sweep", SWEEP_TAG: sweep}).info.run_id
    for key, value in tags.items():
        client.set_tag(parent, key, value)
    return TrackingInfo(tracking_uri, experiment_id, parent)


def end_sweep(info: TrackingInfo, status: str, summary: dict[str, float]) -> None:
    client = _client(info.tracking_uri)
    for key, value in summary.items():
        client.log_metric(info.parent_run_id, key, value)
    client.set_terminated(info.parent_run_id, status=status)


class TrialRun:
    """A trial's child run. Every call is guarded: tracking failures only warn."""

    def __init__(self, info: TrackingInfo | None, trial_id: str, name: str):
        self.info, self.trial_id, self.name = info, trial_id, name
        self.run_id: str | None = None
        self.client = None

    def start(self, params: dict[str, object]) -> None:
        self._guard(self._start, params)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self._guard(self._log_metrics, metrics, step)

    def finish(self, metrics: dict[str, float], artifact: str | None, status: str = "FINISHED") -> None:
        self._guard(self._finish, metrics, artifact, status)

    # -- guarded bodies --------------------------------------------------------------
    def _guard(self, action, *args) -> None:
        if self.info is None or (self.client is None and action != self._start):
            return
        try:
            action(*args)
        except Exception as error:  # noqa: BLE001 - any tracking failure must not kill a trial
            log.warning("MLflow logging switched off for trial %s (%s): %s; "
                        "run `ribray mlflow sync` later to back-fill it",
                        self.trial_id, redact(self.info.tracking_uri), error)
            self.info = None

    def _start(self, params: dict[str, object]) -> None:
        self.client = _client(self.info.tracking_uri)
        self.run_id = find_trial_run(self.client, self.info.experiment_id, self.trial_id)
        if self.run_id is None:
            tags = {"mlflow.parentRunId": self.info.parent_run_id, TRIAL_TAG: self.trial_id,
                    ROLE_TAG: "trial"}
            run = self.client.create_run(self.info.experiment_id, run_name=self.name, tags=tags)
            self.run_id = run.info.run_id
            self._log_params(params)
        else:
            self.client.update_run(self.run_id, status="RUNNING")

    def _log_params(self, params: dict[str, object]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)[:6000]) for k, v in sorted(params.items())]
        for start in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[start:start + 100])

    def _log_metrics(self, metrics: dict[str, float], step: int | None) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(_metric_key(k), float(v), now, step or 0) for k, v in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def _finish(self, metrics: dict[str, float], artifact: str | None, status: str) -> None:
        if metrics:
            self._log_metrics(metrics, None)
        if artifact:
            self.client.log_artifact(self.run_id, artifact)
        self.client.set_terminated(self.run_id, status=status)


def find_trial_run(client, experiment_id: str, trial_id: str) -> str | None:
    """The child run already made for this trial (a retry continues it, never duplicates)."""
    runs = client.search_runs([experiment_id], f"tags.`{TRIAL_TAG}` = '{trial_id}'", max_results=1)
    return runs[0].info.run_id if runs else None


def final_metrics(rows: list[dict]) -> dict[str, float]:
    """A trial's final accuracies as MLflow metrics (`top1/<set>`, and per part), from its
    result rows; analysis rows (CKA, OTDD) carry `value`, not top1, and give none."""
    metrics = {}
    for row in rows:
        if row["final"] and row.get("top1") is not None:
            metrics[f"top1/{row['eval_set']}"] = row["top1"]
            metrics |= {f"top1/{row['eval_set']}/{p['part']}": p["top1"] for p in row.get("parts") or []}
    return metrics


def _metric_key(name: str) -> str:
    """MLflow metric names allow letters, digits, _ - . / and spaces."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", name)
