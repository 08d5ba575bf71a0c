"""MLflow: one parent run per sweep (driver), one child run per trial (in the trial).

Trials log through MlflowClient with explicit run ids (no global active run), and a
tracking server that stops answering never stops a trial: logging is switched off with a
warning and `ribray mlflow sync` back-fills the runs from the Parquet shards later.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ribray.errors import RibrayError
from ribray.secrets import redact

if TYPE_CHECKING:
    from ribray.plan import Plan
    from ribray.results.layout import SweepLayout
    from ribray.results.row import ResultRow
    from ribray.spec import Spec

log = logging.getLogger("ribray.tracking")

ROLE_TAG, SWEEP_TAG, TRIAL_TAG = "ribray.role", "ribray.sweep", "ribray.trial_id"
# MLflow 3's UI opens an experiment of this kind on its runs (not on the GenAI overview)
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
# MLflow 3.17's runs page loads a view (its columns, unfolded runs) from the experiment tag
# `mlflow.sharedViewState.<key>` when its URL has `viewStateShareKey=<key>` (its "share" links);
# `ribray ui`'s link opens this one: a column per eval set's final accuracy
VIEW_KEY = "ribray"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"

# MLflow's defaults retry a dead server for minutes per call; a trial should notice in seconds
# and carry on (the shards are the source of truth). The user's own settings win.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


def tracking_failure(tracking_uri: str, error: BaseException) -> RibrayError:
    """A failed contact with the tracking store in one line: the server's address and the
    socket's own words when it could not be reached (MLflow's message is a page of URLs and
    retries), else MLflow's first line."""
    from ribray.errors import first_line

    text = redact(first_line(error))
    reason = _SOCKET_REASON.search(text)
    if reason or "Max retries exceeded" in text:
        return RibrayError(f"cannot reach the MLflow tracking server at {redact(tracking_uri)}: "
                           f"{reason.group(0) if reason else text}")
    return RibrayError(f"MLflow at {redact(tracking_uri)}: {text}")


_SOCKET_REASON = re.compile(r"\[Errno -?\d+\] [^'\")]+")  # "[Errno 111] Connection refused"


def _client(tracking_uri: str):
    import os

    from mlflow.tracking import MlflowClient

    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # "🏃 View run ... at: <tracking URI>/#/..." on stdout after every run, driver and trials
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    # "Creating initial MLflow database tables..." when a sweep's SQLite store is first made
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    return MlflowClient(tracking_uri)


@dataclass(frozen=True)
class TrackingInfo:
    """What a trial needs to log its child run."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str


def _sweep_run(sweep: str) -> str:
    """MLflow's filter for a sweep's parent run."""
    return f"tags.`{ROLE_TAG}` = 'sweep' and tags.`{SWEEP_TAG}` = '{sweep}'"


def start_sweep(tracking_uri: str, experiment: str, sweep: str, artifact_root: str | None,
                tags: dict[str, str]) -> TrackingInfo:
    """Create (once) the experiment and the sweep's parent run; reuse both on re-runs."""
    client = _client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        experiment_id = client.create_experiment(experiment, artifact_location=artifact_root, tags=EXPERIMENT_KIND)
    else:
        experiment_id = found.experiment_id
        for key, value in EXPERIMENT_KIND.items():
            client.set_experiment_tag(experiment_id, key, value)
    runs = client.search_runs([experiment_id], _sweep_run(sweep), max_results=1)
    if runs:
        parent = runs[0].info.run_id
        client.update_run(parent, status="RUNNING")
    else:
        parent = client.create_run(experiment_id, run_name=sweep,
                                   tags={ROLE_TAG: "sweep", SWEEP_TAG: sweep}).info.run_id
    for key, value in tags.items():
        client.set_tag(parent, key, value)
    return TrackingInfo(tracking_uri, experiment_id, parent)


def describe_sweep(info: TrackingInfo, params: dict[str, object], artifacts: dict[str, str],
                   eval_sets: list[str]) -> None:
    """The sweep's parent run: what it runs (params) and its spec (artifacts: name -> text); the
    experiment's view: a column per eval set's final accuracy."""
    import tempfile
    from pathlib import Path

    from mlflow.entities import Param

    client = _client(info.tracking_uri)
    logged = client.get_run(info.parent_run_id).data.params
    fresh = [Param(k, str(v)[:6000]) for k, v in sorted(params.items()) if logged.get(k) != str(v)[:6000]]
    changed = [p.key for p in fresh if p.key in logged]  # MLflow params are immutable: say it as a tag
    if fresh and not changed:
        client.log_batch(info.parent_run_id, params=fresh)
    for key in changed:
        client.set_tag(info.parent_run_id, f"ribray.now.{key}", str(params[key])[:5000])
    store_view(info, eval_sets)
    with tempfile.TemporaryDirectory() as folder:
        for name, text in artifacts.items():
            (Path(folder) / name).write_text(text)
            client.log_artifact(info.parent_run_id, str(Path(folder) / name))


def store_view(info: TrackingInfo, eval_sets: list[str]) -> None:
    """Store the experiment's view of the headline metrics (`headline_view`), which
    `ribray ui`'s link opens."""
    _client(info.tracking_uri).set_experiment_tag(info.experiment_id, VIEW_TAG, headline_view(eval_sets))


def headline_view(eval_sets: list[str]) -> str:
    """The runs page's view as MLflow stores it: a column per eval set's final accuracy
    (`metrics.`top1 R``, MLflow's column keys), the trials grouped by their pretrained model
    (param `model`). Grouped, MLflow 3.17 lists every trial with its values at once, under a
    group row of their averages; ungrouped, it folds them under the sweep's run, and a shared
    view cannot unfold it (the view's `runsExpanded` is dropped when shared). The sweep's own
    run lands in the folded "Additional runs" group."""
    import json

    columns = [f"metrics.`{top1_metric(name)}`" for name in eval_sets]
    group = {"aggregateFunction": "average", "groupByKeys": [{"mode": "param", "groupByData": "model"}]}
    return json.dumps({"selectedColumns": columns, "groupBy": group})


def sweep_tags(spec: Spec, layout: SweepLayout) -> dict[str, str]:
    """The parent run's tags: what ran it (MLflow's source tags, the git commit) and where."""
    import ribray
    from ribray.results.provenance import git_sha

    tags = {"ribray.spec_hash": spec.spec_hash(), "ribray.storage": redact(layout.root.uri),
            "ribray.version": ribray.__version__, "mlflow.source.name": "ribray sweep",
            "mlflow.source.type": "LOCAL"}
    commit = git_sha()
    return tags | ({"mlflow.source.git.commit": commit} if commit else {})


def sweep_params(spec: Spec, plan: Plan) -> dict[str, object]:
    """A few params that say what the sweep runs (the whole spec is the spec.yaml artifact)."""
    from collections import Counter

    kinds = Counter(t.kind for t in plan.trials)
    return {"models": ", ".join(m.resolved_label for m in spec.models), "methods": ", ".join(spec.methods),
            "interpolations": ", ".join(spec.interpolations) or "-", "downstream": ", ".join(spec.downstream),
            "eval_sets": ", ".join(spec.resolved_eval_sets()), "seeds": ", ".join(map(str, spec.seeds)),
            "trials": len(plan), **{f"trials.{kind}": n for kind, n in sorted(kinds.items())},
            **({"overrides": redact(" ".join(o.text for o in spec._overrides))} if spec._overrides else {})}


def spec_text(spec: Spec) -> str:
    """The resolved spec as YAML, with any user:password@ in its URIs redacted."""
    import yaml

    dumped = spec.model_dump(mode="json")
    dumped["storage"] = redact(dumped["storage"])
    if dumped["mlflow"]["tracking_uri"]:
        dumped["mlflow"]["tracking_uri"] = redact(dumped["mlflow"]["tracking_uri"])
    return yaml.safe_dump(dumped, sort_keys=False)


def log_report(tracking_uri: str, experiment: str, sweep: str, folder,
               metrics: dict[str, float] | None = None) -> str | None:
    """Log a written report folder as `report/` artifacts of the sweep's parent run, and its
    headline numbers as the run's metrics, if the tracking store and the run exist (a local
    SQLite store is never created here)."""
    found = find_sweep_run(tracking_uri, experiment, sweep)
    if found is None:
        return None
    client, run_id = _client(tracking_uri), found[1]
    client.log_artifacts(run_id, str(folder), artifact_path="report")
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, _metric_key(key), value)
    return run_id


def find_sweep_run(tracking_uri: str, experiment: str, sweep: str) -> tuple[str, str] | None:
    """(experiment id, run id) of the sweep's parent run, if the tracking store and the run exist
    (a local SQLite store is never created here)."""
    from pathlib import Path

    if not tracking_uri or (tracking_uri.startswith("sqlite:///")
                            and not Path(tracking_uri[len("sqlite:///"):]).is_file()):
        return None
    client = _client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    runs = [] if found is None else client.search_runs([found.experiment_id], _sweep_run(sweep), max_results=1)
    return (found.experiment_id, runs[0].info.run_id) if runs else None


def run_link(tracking_uri: str, experiment_id: str, run_id: str) -> str | None:
    """The run's page in the MLflow UI when the store is a server (http/https); None for a
    local store, which `ribray ui` serves."""
    if not tracking_uri.startswith(("http://", "https://")):
        return None
    return f"{redact(tracking_uri).rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"


def experiment_link(tracking_uri: str, experiment: str, base_url: str) -> str:
    """The experiment's runs page in the MLflow UI, in its model-training view (MLflow 3.17
    takes the view from the URL's `workflowType`, else from what the browser last chose,
    GenAI by default; the experiment's kind tag does not decide it) and, when the sweep wrote
    one, in ribray's view of the headline metrics."""
    found = _client(tracking_uri).get_experiment_by_name(experiment)
    where = f"#/experiments/{found.experiment_id}/runs" if found is not None else "#/experiments"
    view = f"&viewStateShareKey={VIEW_KEY}" if found is not None and VIEW_TAG in found.tags else ""
    return f"{base_url.rstrip('/')}/{where}?workflowType=machine_learning{view}"


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

    def finish(self, metrics: dict[str, float], artifact: str | None, status: str = "FINISHED",
               step: int = 0) -> None:
        """End the run; final metrics at `step`, the last epoch (beside its curve points)."""
        self._guard(self._finish, metrics, artifact, status, step)

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

    def _finish(self, metrics: dict[str, float], artifact: str | None, status: str, step: int) -> None:
        if metrics:
            self._log_metrics(metrics, step)
        if artifact:
            self.client.log_artifact(self.run_id, artifact)
        self.client.set_terminated(self.run_id, status=status)


def find_trial_run(client, experiment_id: str, trial_id: str) -> str | None:
    """The child run already made for this trial (a retry continues it, never duplicates)."""
    runs = client.search_runs([experiment_id], f"tags.`{TRIAL_TAG}` = '{trial_id}'", max_results=1)
    return runs[0].info.run_id if runs else None


def top1_metric(eval_set: str, part: str = "") -> str:
    """`top1 R`, `top1 C/fog/5`: a final (or, prefixed `curve`, learning-curve) accuracy."""
    from ribray.data import short_name  # R, Sketch, IN-1K: MLflow's narrow columns tell them apart

    return f"top1 {short_name(eval_set)}" + (f"/{part}" if part else "")


def final_metrics(rows: list[ResultRow]) -> dict[str, float]:
    """A trial's final accuracies as MLflow metrics (`top1 <set>`, and per part), from its
    result rows; analysis rows (CKA, OTDD) carry `value`, not top1, and give none."""
    metrics = {}
    for row in rows:
        if row["final"] and row.get("top1") is not None:
            metrics[top1_metric(row["eval_set"])] = row["top1"]
            metrics |= {top1_metric(row["eval_set"], p["part"]): p["top1"] for p in row.get("parts") or []}
    return metrics


def _metric_key(name: str) -> str:
    """MLflow metric names allow letters, digits, _ - . / and spaces: "mRI wise_ft(0.5)" is
    logged as "mRI wise_ft 0.5"."""
    return re.sub(r"\s+", " ", re.sub(r"[^A-Za-z0-9_\-./ ]", " ", name)).strip()
