"""`ribray sweep`: validate, plan, skip what is done, run the rest as Ray Tune trials."""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ribray import faults
from ribray.context import SweepContext
from ribray.errors import RibrayError
from ribray.plan import Plan, make_plan
from ribray.results.store import done_trial_ids
from ribray.spec import Spec
from ribray.storage import Location
from ribray.sweep_target import sweep_dir
from ribray.tracking import TrackingInfo, default_tracking_uri, end_sweep, redact, start_sweep
from ribray.validate import check_spec

TUNE_DIR = "tune"
RUN_TRIALS_FILE = "ribray-trials.json"  # in each Tune run's folder: the plan ids it was started with


@dataclass
class SweepSummary:
    """How a sweep ended, measured against the plan (never assumed from Tune's return)."""

    planned: int
    already_done: int
    done: int
    failed: dict[str, str] = field(default_factory=dict)  # trial id -> error
    not_run: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.done == self.planned


def run_sweep(spec: Spec, *, resume: bool = False, address: str | None = None,
              max_concurrent: int | None = None, echo=print) -> SweepSummary:
    """Run every planned trial not yet done; return how the sweep ended."""
    started = time.monotonic()
    check_spec(spec)
    plan = make_plan(spec)
    root = sweep_dir(spec)
    results = root.child("results")
    finished = done_trial_ids(results)
    done = finished & set(plan.by_id())
    previous = _latest_experiment(root)
    if resume and previous is None:
        raise RibrayError(f"--resume: no previous sweep of {spec.name!r} under {root.uri}/{TUNE_DIR}")
    todo = [t for t in plan.trials if t.trial_id not in done]
    echo(f"plan: {len(plan)} trials, {len(done)} already done, {len(todo)} to run")
    if not todo:
        echo("nothing to do: every trial of this spec is already done")
        return SweepSummary(len(plan), len(done), len(done))
    if resume:
        _check_still_planned(Location(previous), plan, finished)
    context = _context(spec, root)
    _start_ray(address)
    if previous is not None and not resume:
        echo(f"note: an earlier run is in {previous}; pass --resume to continue its trials from their checkpoints")
    grid, stopped = _fit(spec, plan, _Pass(done, previous if resume else None), context, root, max_concurrent)
    if resume and not stopped:
        more, stopped = _run_new_trials(spec, plan, Location(previous), grid, context, root,
                                        max_concurrent, echo)
        grid += more
    summary = _summarize(plan, done, results, grid, time.monotonic() - started)
    summary.failed |= stopped
    summary.not_run = [t for t in summary.not_run if t not in summary.failed]
    _close_tracking(context.tracking, summary)
    return summary


@dataclass
class _Pass:
    """What one Tuner runs: the plan minus `done` and `failed`, or the restored run `previous`."""

    done: set[str]
    previous: str | None = None
    failed: set[str] = field(default_factory=set)


def _fit(spec: Spec, plan: Plan, run: _Pass, context: SweepContext, root: Location,
         max_concurrent: int | None) -> tuple[list, dict[str, str]]:
    """Run one Tuner: its results, and {trial id: cause} if Ray Tune itself stopped."""
    tuner, progress = _tuner(spec, plan, run, context, root, max_concurrent)
    try:
        return list(tuner.fit()), {}
    except Exception as error:  # noqa: BLE001 - Tune's own bookkeeping failed (e.g. a full disk)
        done = done_trial_ids(root.child("results"))
        unfinished = [t.trial_id for t in plan.trials if t.trial_id not in done]
        return [], _driver_failure(root, error, (progress and progress.failed_ids) or unfinished)


def _run_new_trials(spec: Spec, plan: Plan, resumed: Location, resumed_grid: list,
                    context: SweepContext, root: Location, max_concurrent: int | None,
                    echo) -> tuple[list, dict[str, str]]:
    """After a resumed run has finished its own trials (not after a Ctrl-C): the trials the
    spec gained since that run was started, if any."""
    from ribray.searcher import PlanSearcher

    done = done_trial_ids(root.child("results")) & set(plan.by_id())
    errored = {(r.config or {}).get("trial_id") for r in resumed_grid if r.error is not None} - done
    runnable = PlanSearcher(list(plan.trials), done=done, failed=errored).runnable()
    recorded = _recorded_trials(resumed)
    if not runnable or recorded is None or recorded & set(runnable):
        return [], {}  # nothing new, or the resumed run was interrupted before its own end
    echo(f"the resumed run is finished; running the {len(runnable)} trial(s) the spec gained since it started")
    return _fit(spec, plan, _Pass(done, failed=errored), context, root, max_concurrent)


def _context(spec: Spec, root: Location) -> SweepContext:
    root.makedirs()
    tracking_uri = spec.mlflow.tracking_uri or default_tracking_uri(root.path)
    artifacts = f"{root.path}/mlartifacts" if root.is_local and not spec.mlflow.tracking_uri else None
    tags = {"ribray.spec_hash": spec.spec_hash(), "ribray.storage": root.uri}
    try:
        tracking = start_sweep(tracking_uri, spec.mlflow.experiment or spec.name, spec.name,
                               artifacts, tags)
    except Exception as error:  # noqa: BLE001 - the sweep runs without MLflow, with a warning
        print(f"warning: MLflow at {redact(tracking_uri)} is unavailable ({redact(str(error))}); "
              "results still go to Parquet; run `ribray mlflow sync` later")
        tracking = None
    scratch = root.child("scratch").path if root.is_local else ""
    return SweepContext(sweep=spec.name, spec_hash=spec.spec_hash(), sweep_dir=root.uri,
                        data_root=spec.data.root, data_folders=dict(spec.data.folders),
                        eval=spec.eval, tracking=tracking, scratch=scratch,
                        fault=faults.parse(os.environ.get(faults.ENV)))


def _start_ray(address: str | None) -> None:
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # Parquet + MLflow instead
    # one small snapshot per epoch checkpoint is what we ask for: not a bottleneck worth a warning
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # ...so Tune's result grid finds no result.json per trial; that is expected, not a warning
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=True)
    else:
        # address="local": a new embedded Ray, never some other cluster this machine knows of
        ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1")


def _tuner(spec: Spec, plan: Plan, run: _Pass, context: SweepContext, root: Location,
           max_concurrent: int | None):
    from ray import tune

    from ribray.estimate import load_throughput, trial_hours
    from ribray.progress import Progress
    from ribray.searcher import PlanSearcher
    from ribray.trials import run_trial

    trainable = tune.with_resources(tune.with_parameters(run_trial, context=context),
                                    {"cpu": spec.resources.cpu, "gpu": spec.resources.gpu})
    progress = Progress(total=len(plan), already_done=len(run.done))
    run_config = tune.RunConfig(
        name=f"run-{time.strftime('%Y%m%d-%H%M%S')}", storage_path=root.child(TUNE_DIR).uri,
        failure_config=tune.FailureConfig(max_failures=spec.retries),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        callbacks=[progress], verbose=0)
    if run.previous is not None:  # the restored run brings its own (unpickled) callbacks
        return tune.Tuner.restore(run.previous, trainable, resume_unfinished=True, resume_errored=True), None
    _record_trials(Location(run_config.storage_path).child(run_config.name), plan)
    cost = functools.partial(trial_hours, throughput=load_throughput())
    searcher = PlanSearcher(list(plan.trials), done=run.done, cost=cost, failed=run.failed)
    concurrency = max_concurrent or _default_concurrency(spec)
    tune_config = tune.TuneConfig(search_alg=searcher, num_samples=-1,
                                  max_concurrent_trials=concurrency, reuse_actors=True,
                                  trial_name_creator=_trial_name, trial_dirname_creator=_trial_name)
    return tune.Tuner(trainable, tune_config=tune_config, run_config=run_config), progress


def _record_trials(run_dir: Location, plan: Plan) -> None:
    run_dir.child(RUN_TRIALS_FILE).write_bytes(json.dumps(sorted(plan.by_id())).encode())


def _recorded_trials(run_dir: Location) -> set[str] | None:
    """The plan ids a Tune run was started with (None for runs of older ribray versions)."""
    recorded = run_dir.child(RUN_TRIALS_FILE)
    return set(json.loads(recorded.read_bytes())) if recorded.exists() else None


def _check_still_planned(run_dir: Location, plan: Plan, finished: set[str]) -> None:
    """Refuse to resume trials the spec no longer has: they would spend GPU time for nothing."""
    gone = sorted((_recorded_trials(run_dir) or set()) - set(plan.by_id()) - finished)
    if gone:
        raise RibrayError(
            f"--resume: {len(gone)} unfinished trial(s) of the interrupted run {run_dir.uri} are no "
            f"longer in the spec (the spec changed what they run), e.g. {gone[0]}; run "
            "`ribray sweep SPEC` without --resume to run the spec as it is now (finished trials are kept)")


def _trial_name(tune_trial) -> str:
    """Tune's trial folders are named by the plan's trial id (not by the whole config)."""
    config = tune_trial.config or {}
    return f"{config.get('kind', 'trial')}-{config.get('trial_id', tune_trial.trial_id)}-{tune_trial.trial_id}"


def _default_concurrency(spec: Spec) -> int:
    """As many trials as the cluster fits now; on a cluster that is still scaling up from
    zero GPUs, enough pending trials for the autoscaler to see the demand."""
    import ray

    resources = ray.cluster_resources()
    key, need = ("GPU", spec.resources.gpu) if spec.resources.gpu else ("CPU", spec.resources.cpu)
    fits = int(resources.get(key, 0) // need) if need else 0
    return fits if fits > 0 else 16


def _latest_experiment(root: Location) -> str | None:
    """The newest restorable Tune experiment of this sweep, if any."""
    from ray import tune

    tune_dir = root.child(TUNE_DIR)
    if root.is_local:
        if not Path(tune_dir.path).is_dir():
            return None
        names = sorted(p.name for p in Path(tune_dir.path).iterdir() if p.name.startswith("run-"))
    else:
        import pyarrow.fs as pafs

        infos = tune_dir.fs.get_file_info(pafs.FileSelector(tune_dir.path, allow_not_found=True))
        names = sorted(Path(i.path).name for i in infos if Path(i.path).name.startswith("run-"))
    for name in reversed(names):
        path = tune_dir.child(name).uri
        if tune.Tuner.can_restore(path):
            return path
    return None


def _summarize(plan: Plan, already: set[str], results: Location, grid, seconds: float) -> SweepSummary:
    done = done_trial_ids(results) & set(plan.by_id())
    failed = {}
    for result in grid:
        trial_id = (result.config or {}).get("trial_id")
        if result.error is not None and trial_id and trial_id not in done:
            failed[trial_id] = f"{type(result.error).__name__}: {str(result.error).strip().splitlines()[-1][:300]}"
    not_run = [t.trial_id for t in plan.trials if t.trial_id not in done and t.trial_id not in failed]
    return SweepSummary(len(plan), len(already), len(done), failed, not_run, seconds)


def _driver_failure(root: Location, error: Exception, trial_ids: list[str]) -> dict[str, str]:
    """Name the likely cause when Ray Tune stops with an error of its own."""
    cause = f"{type(error).__name__}: {error}"
    if root.is_local:
        import shutil

        free = shutil.disk_usage(root.path).free
        if free < 16 * 2**20:
            cause = f"storage {root.path} is full ({free / 2**20:.1f} MiB free): No space left on device ({cause})"
    return {trial_id: f"Ray Tune stopped: {cause}" for trial_id in trial_ids}


def _close_tracking(tracking: TrackingInfo | None, summary: SweepSummary) -> None:
    if tracking is None:
        return
    status = "FINISHED" if summary.complete else ("FAILED" if summary.failed else "KILLED")
    try:
        end_sweep(tracking, status, {"trials_done": summary.done, "trials_failed": len(summary.failed),
                                     "trials_planned": summary.planned})
    except Exception as error:  # noqa: BLE001
        print(f"warning: could not close the MLflow sweep run: {error}")
