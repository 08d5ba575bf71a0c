"""`ribray mlflow sync`: back-fill MLflow from the Parquet shards (idempotent).

The shards are the source of truth; MLflow is a view of them. When the tracking server was
unreachable during a sweep, the trials kept writing shards; this adds the child runs that are
missing or unfinished, and leaves finished ones alone, so running it twice changes nothing.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ribray.plan import method_label, trial_label
from ribray.results.layout import shard_in, shard_name
from ribray.results.store import read_results
from ribray.results.tracking import (
    TrackingInfo,
    TrialRun,
    final_metrics,
    find_trial_run,
    start_sweep,
    store_view,
    top1_metric,
    tracking_failure,
)
from ribray.storage import Location

if TYPE_CHECKING:
    from ribray.results.row import ResultRow

PARAM_COLUMNS = ("trial_id", "kind", "model", "model_name", "method", "method_label", "downstream", "seed", "alpha",
                 "ingredients", "train_subset", "spec_hash")


@dataclass
class SyncReport:
    created: int = 0
    completed: int = 0
    unchanged: int = 0


def sync_results(results: Location, tracking_uri: str, experiment: str, sweep: str,
                 artifact_root: str | None = None) -> SyncReport:
    """Make sure every trial with a shard has one finished child run under the sweep's parent;
    a tracking store that fails is a RibrayError in one line (nothing is written locally)."""
    from mlflow.exceptions import MlflowException

    by_trial = _rows_by_trial(results)  # before any contact: a results folder that is not one fails first
    try:
        return _sync(by_trial, results, tracking_uri, experiment, sweep, artifact_root)
    except MlflowException as error:
        raise tracking_failure(tracking_uri, error) from None


def _sync(by_trial: dict[str, list[ResultRow]], results: Location, tracking_uri: str, experiment: str, sweep: str,
          artifact_root: str | None) -> SyncReport:
    from mlflow.tracking import MlflowClient

    info = start_sweep(tracking_uri, experiment, sweep, artifact_root, {})
    store_view(info, list(dict.fromkeys(row["eval_set"] for rows in by_trial.values() for row in rows)))
    client = MlflowClient(tracking_uri)
    report = SyncReport()
    for trial_id, rows in by_trial.items():
        run_id = find_trial_run(client, info.experiment_id, trial_id)
        if run_id and client.get_run(run_id).info.status == "FINISHED":
            report.unchanged += 1
            continue
        _log_trial(info, results, trial_id, rows)
        if run_id:
            report.completed += 1
        else:
            report.created += 1
    client.set_terminated(info.parent_run_id, status="FINISHED")
    return report


def _rows_by_trial(results: Location) -> dict[str, list[ResultRow]]:
    grouped: dict[str, list[ResultRow]] = defaultdict(list)
    for row in read_results(results).to_pylist():
        grouped[row["trial_id"]].append(row)
    return dict(grouped)


def _log_trial(info: TrackingInfo, results: Location, trial_id: str, rows: list[ResultRow]) -> None:
    first = rows[0]
    name = first["label"] or trial_label(first["model"], method_label(first["method"], first["alpha"]),
                                         downstream=first["downstream"], seed=first["seed"],
                                         train_subset=first["train_subset"])  # shards of ribray 0.1
    run = TrialRun(info, trial_id, name)
    run.start({c: first[c] for c in PARAM_COLUMNS if first[c] is not None})
    for row in rows:
        if not row["final"] and row.get("top1") is not None:
            run.log_metrics({f"curve {top1_metric(row['eval_set'])}": row["top1"]}, step=row["epoch"])
    last_epoch = max((row["epoch"] or 0 for row in rows if row["final"]), default=0)
    with tempfile.TemporaryDirectory() as folder:
        shard = Path(folder) / shard_name(trial_id)
        shard.write_bytes(shard_in(results, trial_id).read_bytes())
        run.finish(final_metrics(rows), str(shard), step=last_epoch)
