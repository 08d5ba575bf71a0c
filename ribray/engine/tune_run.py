"""One Ray Tune run of a sweep: the embedded or joined Ray, a new Tuner for the plan's
remaining trials or the restored Tuner of an interrupted run, and the runs on disk."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ribray.engine.cluster import CONNECT_TIMEOUT_S, surely_closed, wait_for_cluster
from ribray.errors import RibrayError
from ribray.plan import Plan
from ribray.results.layout import RUN_TRIALS_FILE, SweepLayout, tune_trial_folder
from ribray.signals import sigterm_stays_an_interrupt
from ribray.storage import Location
from ribray.trials.context import SweepContext

if TYPE_CHECKING:
    from ribray.spec import Spec


@dataclass
class Pass:
    """What one Tuner runs: the plan minus `done` and `failed`, or the restored run `previous`."""

    done: set[str]
    previous: str | None = None
    failed: set[str] = field(default_factory=set)


def start_ray(address: str | None, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Start the embedded Ray (`address` None), or join the cluster at `address`, waiting for
    it at most `connect_timeout_s` seconds (engine/cluster.py)."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # Parquet + MLflow instead
    # one small snapshot per epoch checkpoint is what we ask for: not a bottleneck worth a warning
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # ...so Tune's result grid finds no result.json per trial; that is expected, not a warning
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    _quiet_tune()
    _keep_credentials_out_of_runtime_envs()
    if address:  # first: an address that does not answer is an error even where Ray runs already
        wait_for_cluster(address, connect_timeout_s)
    if ray.is_initialized():
        return
    if not address:
        stop_orphaned_ray_processes()
    with sigterm_stays_an_interrupt():  # ray.init installs Ray's own SIGTERM handlers
        if address:
            ray.init(address=address, log_to_driver=True)
        else:
            # address="local": a new embedded Ray, never some other cluster this machine knows of;
            # its "Started a local Ray instance" is ribray's business, not the user's
            ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1",
                     logging_level=logging.WARNING)


def embedded_ray_answers() -> Callable[[], bool] | None:
    """For the Ray this process started (None when it joined a cluster): a check that it is still
    up, False only when it is surely not: its GCS or raylet exited, or the GCS refuses
    connections (a GCS sent SIGTERM closes its port at once; its process lingers for seconds).
    A slow answer on a loaded machine is an answer."""
    import psutil
    import ray

    processes = [p for p in psutil.Process().children() if p.name() in ("gcs_server", "raylet")]
    if not processes:
        return None
    host, _, port = ray.get_runtime_context().gcs_address.rpartition(":")

    def answers() -> bool:
        try:
            if any(p.status() == psutil.STATUS_ZOMBIE for p in processes):
                return False
        except psutil.NoSuchProcess:
            return False
        return not surely_closed(host, int(port), timeout_s=1.0)

    return answers


def stop_orphaned_ray_processes(echo=print) -> int:
    """Ray's agents and workers ("ray::DashboardAgent", "ray::IDLE", ...) are children of a
    raylet; a driver killed with SIGKILL takes its raylet down but leaves them running (one
    listening on a port). Stop this user's such processes whose raylet is gone. Raylets and
    GCS servers are never touched (`ray start` runs them without a parent on purpose)."""
    import psutil

    me, stopped = os.getuid(), []
    for process in psutil.process_iter(["name", "uids", "ppid", "status"]):
        try:
            if not (process.info["name"] or "").startswith("ray::") or process.info["uids"].real != me \
                    or process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if _has_live_raylet_parent(process.info["ppid"]):
                continue
            process.terminate()
            stopped.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    _, alive = psutil.wait_procs(stopped, timeout=5)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    if stopped:
        echo(f"stopped {len(stopped)} Ray process(es) left running by a killed sweep")
    return len(stopped)


def _has_live_raylet_parent(ppid: int) -> bool:
    import psutil

    try:
        parent = psutil.Process(ppid)
        return ppid > 1 and parent.name() == "raylet" and parent.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # the raylet has just gone
        return False


def check_resources_fit(resources, embedded: bool, echo=print) -> None:
    """Each trial must fit on one node. The embedded Ray never grows: a request no node meets
    would wait forever, so it is an error, with the numbers. A cluster may add nodes (its
    autoscaler), so there it is a warning."""
    import ray

    need = {name: amount for name, amount in (("GPU", resources.gpu), ("CPU", resources.cpu)) if amount}
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    if any(all(node.get(name, 0) >= amount for name, amount in need.items()) for node in nodes):
        return
    asked = ", ".join(f"{amount:g} {name}" for name, amount in need.items())
    largest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
    has = f"{largest.get('GPU', 0):g} GPU, {largest.get('CPU', 0):g} CPU"
    if embedded:
        raise RibrayError(f"each trial asks for {asked} (resources: in the spec), but this machine's Ray has "
                          f"{has}; lower resources.gpu / resources.cpu (gpu: 0 trains on the CPU), or run on "
                          "a cluster with --address")
    echo(f"warning: each trial asks for {asked}, but no node of the cluster has that much now (the largest: "
         f"{has}); trials wait until the autoscaler adds such a node (`ray status` shows the request)")


def _keep_credentials_out_of_runtime_envs() -> None:
    """Ray Tune copies the driver's AWS_* credentials into every trial's runtime environment,
    which Ray's runtime-env agent then writes, in plain text, to its log. ribray's trials take
    cloud credentials from their own environment instead: the embedded Ray's workers inherit
    the driver's, and a cluster's nodes have their own (instance roles, or their environment)."""
    from ray.tune.execution import class_cache

    propagated = getattr(class_cache, "ENV_VARS_TO_PROPAGATE", None)
    if propagated is not None:
        class_cache.ENV_VARS_TO_PROPAGATE = {name for name in propagated if not name.startswith("AWS_")}


def _quiet_tune() -> None:
    """ribray prints its own progress (engine/progress.py). Tune's new console output prints a
    banner whatever `verbose` says ("Number of trials 9223372036854775807" for an open-ended
    searcher, box-drawn even into a pipe) and a "View detailed results" pointer to folders
    that hold no results; the legacy output at verbose=0 prints nothing."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    logging.getLogger("ray.tune.tune").setLevel(logging.WARNING)  # "Wrote the latest version of..."
    # "Token authentication is enabled for this Ray cluster": Ray's default, which ribray keeps
    # (the local cluster is token-protected); only the notice on every run goes. A cluster
    # started with authentication disabled is still warned about (a separate message).
    logging.getLogger("ray._private.authentication.authentication_token_setup").addFilter(
        lambda record: "Token authentication is enabled" not in record.getMessage())
    for name in ("ray.tune.execution.tune_controller", "ray.tune.execution.experiment_state"):
        if _one_line_for_known_failures not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_one_line_for_known_failures)


def _one_line_for_known_failures(record: logging.LogRecord) -> bool:
    """A trial's PermanentError (ribray's message for the user: a loss that is not finite, a
    full disk) and a full disk under Tune's own writes are logged as one line, not as a
    traceback per retry and per save of Tune's state; the summary keeps the whole error."""
    from ribray.errors import PermanentError, first_line
    from ribray.storage import is_full_error

    error = record.exc_info[1] if record.exc_info else None
    cause = getattr(error, "cause", None) or error
    if isinstance(cause, PermanentError) or is_full_error(cause):
        said = record.getMessage().rstrip()
        record.msg = f"{said}{' ' if said.endswith(':') else ': '}{type(cause).__name__}: {first_line(cause)}"
        record.args = ()
        record.exc_info, record.exc_text = None, None
    return True


def make_tuner(spec: Spec, plan: Plan, run: Pass, context: SweepContext, layout: SweepLayout,
               max_concurrent: int | None, fault: dict[str, str] | None):
    """A Tuner for `run` and its progress callback (None when a run is restored: it brings
    back its own, pickled when it began)."""
    from ray import tune

    from ribray.engine.finished_checkpoints import CheckpointPruner
    from ribray.engine.progress import Progress
    from ribray.engine.searcher import PlanSearcher
    from ribray.engine.stopper import StopWhenStorageFull
    from ribray.plan.estimate import load_throughput, plan_hours

    parameters = {"context": context} | ({"fault": fault} if fault else {})
    if run.previous is not None:
        return _restored_tuner(run.previous, spec, parameters), None
    trainable = _trainable(spec, parameters)
    hours = plan_hours(plan, load_throughput())  # the searcher orders by them, the ETA counts work in them
    progress = Progress(total=len(plan), already_done=len(run.done), planned=sorted(plan.by_id()),
                        results=layout.results.uri, hours=hours)
    storage_path, storage_filesystem = layout.tune.for_ray()
    run_config = tune.RunConfig(
        name=f"run-{time.strftime('%Y%m%d-%H%M%S')}", storage_path=storage_path,
        storage_filesystem=storage_filesystem,
        failure_config=tune.FailureConfig(max_failures=spec.retries),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1), stop=StopWhenStorageFull(layout.root.uri),
        callbacks=[progress, CheckpointPruner()], verbose=0)
    record_trials(layout.tune.child(run_config.name), plan)
    searcher = PlanSearcher(list(plan.trials), done=run.done, failed=run.failed, hours=hours)
    concurrency = max_concurrent or _default_concurrency(spec)
    tune_config = tune.TuneConfig(search_alg=searcher, num_samples=-1,
                                  max_concurrent_trials=concurrency, reuse_actors=True,
                                  trial_name_creator=trial_name, trial_dirname_creator=trial_name)
    return tune.Tuner(trainable, tune_config=tune_config, run_config=run_config), progress


def _trainable(spec, parameters: dict):
    """`run_trial` with the sweep's parameters and each trial's resources."""
    from ray import tune

    from ribray.trials import run_trial

    return tune.with_resources(tune.with_parameters(run_trial, **parameters),
                               {"cpu": spec.resources.cpu, "gpu": spec.resources.gpu})


def _restored_tuner(previous: str, spec, parameters: dict):
    """The interrupted Tune run `previous`, restored. A run of an older ribray pickled what its
    modules were then and Tune configs of their format: the module hook answers ribray 0.1's
    paths (saying so when it does) and its trials read such configs (ribray/compat/)."""
    from ray import tune

    from ribray.compat import moved
    from ribray.compat.legacy_config import read_trial

    moved.install()
    path, filesystem = Location(previous).for_ray()
    return tune.Tuner.restore(path, _trainable(spec, parameters | {"read": read_trial}), resume_unfinished=True,
                              resume_errored=True, storage_filesystem=filesystem)


def record_trials(run_dir: Location, plan: Plan) -> None:
    run_dir.child(RUN_TRIALS_FILE).write_bytes(json.dumps(sorted(plan.by_id())).encode())


def recorded_trials(run_dir: Location) -> set[str] | None:
    """The plan ids a Tune run was started with (None for runs of older ribray versions)."""
    recorded = run_dir.child(RUN_TRIALS_FILE)
    return set(json.loads(recorded.read_bytes())) if recorded.exists() else None


def check_still_planned(run_dir: Location, plan: Plan, finished: set[str]) -> None:
    """Refuse to resume trials the spec no longer has: they would spend GPU time for nothing."""
    gone = sorted((recorded_trials(run_dir) or set()) - set(plan.by_id()) - finished)
    if gone:
        raise RibrayError(
            f"--resume: {len(gone)} unfinished trial(s) of the interrupted run {run_dir.uri} are no "
            f"longer in the spec (the spec changed what they run), e.g. {gone[0]}; run "
            "`ribray sweep SPEC` without --resume to run the spec as it is now (finished trials are kept)")


def trial_name(tune_trial) -> str:
    """Tune's trial folders are named by the plan's trial id (not by the whole config)."""
    config = tune_trial.config or {}
    return tune_trial_folder(config.get("kind", "trial"), config.get("trial_id", tune_trial.trial_id),
                             tune_trial.trial_id)


def _default_concurrency(spec: Spec) -> int:
    """As many trials as the cluster fits now; on a cluster that is still scaling up from
    zero GPUs, enough pending trials for the autoscaler to see the demand."""
    import ray

    resources = ray.cluster_resources()
    key, need = ("GPU", spec.resources.gpu) if spec.resources.gpu else ("CPU", spec.resources.cpu)
    fits = int(resources.get(key, 0) // need) if need else 0
    return fits if fits > 0 else 16


def latest_experiment(layout: SweepLayout) -> str | None:
    """The newest restorable Tune experiment of this sweep, if any (Ray is imported only when
    there is a run to look at: a first sweep prints its plan before importing Ray)."""
    tune_dir = layout.tune
    if tune_dir.is_local:
        if not Path(tune_dir.path).is_dir():
            return None
        names = sorted(p.name for p in Path(tune_dir.path).iterdir() if p.name.startswith("run-"))
    else:
        import pyarrow.fs as pafs

        infos = tune_dir.fs.get_file_info(pafs.FileSelector(tune_dir.path, allow_not_found=True))
        names = sorted(Path(i.path).name for i in infos if Path(i.path).name.startswith("run-"))
    if not names:
        return None
    from ray import tune

    for name in reversed(names):
        run_dir = tune_dir.child(name)
        path, filesystem = run_dir.for_ray()
        if tune.Tuner.can_restore(path, storage_filesystem=filesystem):
            return run_dir.uri
    return None
