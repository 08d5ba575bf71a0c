"""`ribray sweep`: validate, plan, skip what is done, run the rest as Ray Tune trials."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ribray.engine.cluster import CONNECT_TIMEOUT_S, RayAddress
from ribray.engine.inputs import rerun_producers_of_broken_weights
from ribray.engine.tune_run import (
    Pass,
    check_resources_fit,
    check_still_planned,
    embedded_ray_answers,
    latest_experiment,
    make_tuner,
    recorded_trials,
    start_ray,
)
from ribray.errors import RibrayError
from ribray.plan import Plan, make_plan
from ribray.results.checks import ShardIndex, verified_done
from ribray.results.identity import ShardIdentity
from ribray.results.layout import SweepLayout, artifact_root_for, sweep_dir
from ribray.results.lock import sweep_lock
from ribray.results.store import done_trial_ids
from ribray.results.tracking import (
    TrackingInfo,
    describe_sweep,
    end_sweep,
    spec_text,
    start_sweep,
    sweep_params,
    sweep_tags,
    tracking_failure,
)
from ribray.secrets import redact
from ribray.signals import lifeline, sigint_restored
from ribray.spec.validate import check_spec
from ribray.storage import Location, full_message, is_full
from ribray.trials import faults
from ribray.trials.context import SweepContext
from ribray.trials.trainable import FAILED_FOR_GOOD

if TYPE_CHECKING:
    from ribray.spec import Spec

__all__ = ["SweepSummary", "run_sweep", "sweep_dir"]


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


@dataclass(frozen=True)
class Reruns:
    """Which finished trials whose inputs changed a sweep runs again (else it refuses them)."""

    data: bool = False  # computed on other data (--rerun-changed-data)
    plugins: bool = False  # computed with other plugin code (--rerun-changed-plugins)


def run_sweep(spec: Spec, *, resume: bool = False, address: str | None = None,
              connect_timeout_s: float = CONNECT_TIMEOUT_S, max_concurrent: int | None = None,
              rerun_changed_data: bool = False, rerun_changed_plugins: bool = False, echo=print) -> SweepSummary:
    """Run every planned trial not yet done (on the embedded Ray, or on the cluster at
    `address`, waited for at most `connect_timeout_s` seconds); return how the sweep ended."""
    started = time.monotonic()
    spec.activate()
    check_spec(spec)
    plan = make_plan(spec)
    layout = SweepLayout.of(spec)
    ray_address = RayAddress(address, connect_timeout_s)
    with sweep_lock(layout.root):
        return _run(spec, plan, layout, started, resume, ray_address, max_concurrent,
                    Reruns(rerun_changed_data, rerun_changed_plugins), echo)


def _run(spec: Spec, plan: Plan, layout: SweepLayout, started: float, resume: bool, ray_address: RayAddress,
         max_concurrent: int | None, reruns: Reruns, echo) -> SweepSummary:
    shards = verified_done(layout.results, echo, layout.shard_index)
    finished = set(shards)
    fingerprints = _fingerprints(spec, plan, echo)
    rerun = _changed_inputs(plan, layout, fingerprints, shards, reruns, echo)
    finished -= rerun
    finished -= rerun_producers_of_broken_weights(plan, layout, finished & set(plan.by_id()), echo)
    done = finished & set(plan.by_id())
    previous = latest_experiment(layout)
    if resume and previous is None:
        raise RibrayError(f"--resume: no previous sweep of {spec.name!r} under {layout.tune.uri}")
    todo = [t for t in plan.trials if t.trial_id not in done]
    echo(f"plan: {len(plan)} trials, {len(done)} already done, {len(todo)} to run")
    if not todo:
        echo("nothing to do: every trial of this spec is already done")
        return SweepSummary(len(plan), len(done), len(done))
    if resume:
        check_still_planned(Location(previous), plan, finished)
    for note in layout.failed_notes():  # failed for good in an earlier run: try again now
        note.delete()
    start_ray(ray_address.address, ray_address.connect_timeout_s)
    check_resources_fit(spec.resources, embedded=ray_address.address is None, echo=echo)  # before anything is written
    run = _Run(spec, plan, layout, _context(spec, layout, plan, fingerprints, echo), max_concurrent,
               faults.from_environment())
    if previous is not None and not resume:
        _suggest_resume(Location(previous), finished | rerun, echo)
    with lifeline(embedded_ray_answers()):  # a SIGTERM to the process group stops it too
        grid, stopped = run.fit(Pass(done, previous if resume else None))
        if resume and not stopped:
            more, stopped = _run_new_trials(run, Location(previous), grid, echo)
            grid += more
    summary = _summarize(plan, done, layout, grid, time.monotonic() - started)
    summary.failed |= stopped
    summary.not_run = [t for t in summary.not_run if t not in summary.failed]
    _prune_checkpoints(layout, echo)
    ShardIndex(layout.shard_index, echo).scan(layout.results)  # this run's shards: the next start reads none
    _close_tracking(run.context.tracking, summary, echo)
    return summary


@dataclass
class _Run:
    """Everything one sweep command hands each of its Tuners."""

    spec: Spec
    plan: Plan
    layout: SweepLayout
    context: SweepContext
    max_concurrent: int | None
    fault: dict[str, str] | None

    def fit(self, run: Pass) -> tuple[list, dict[str, str]]:
        """Run one Tuner: its results, and {trial id: cause} if Ray Tune itself stopped (an
        error of its own, or a full storage: see StopWhenStorageFull)."""
        tuner, progress = make_tuner(self.spec, self.plan, run, self.context, self.layout,
                                     self.max_concurrent, self.fault)
        try:
            with sigint_restored():  # Tune leaves its SIGINT handler behind when no signal came
                grid = list(tuner.fit())
        except Exception as error:  # noqa: BLE001 - Tune's own bookkeeping failed (e.g. a full disk)
            blamed = (progress and progress.failed_ids) or self._not_done([])
            return [], _driver_failure(self.layout.root, error, blamed)
        if is_full(self.layout.root):  # the failed trials keep their own errors
            return grid, _driver_failure(self.layout.root, None, self._not_done(grid))
        return grid, {}

    def _not_done(self, grid: list) -> list[str]:
        """The planned trials without a shard, and without an error of their own in `grid`."""
        done = done_trial_ids(self.layout.results)
        errored = {(r.config or {}).get("trial_id") for r in grid
                   if r.error is not None or (r.metrics or {}).get(FAILED_FOR_GOOD)}
        return [t.trial_id for t in self.plan.trials if t.trial_id not in done and t.trial_id not in errored]


def _suggest_resume(previous: Location, finished: set[str], echo) -> None:
    """Point at --resume only when the latest run left trials unfinished (after a completed
    run there is nothing to continue)."""
    recorded = recorded_trials(previous)
    if recorded is None:  # a run of ribray 0.1: what it planned is not recorded
        echo(f"note: an earlier run is in {previous.uri}; pass --resume to continue its trials from their checkpoints")
    elif unfinished := recorded - finished:
        echo(f"note: the earlier run {previous.uri} left {len(unfinished)} trial(s) unfinished; pass --resume "
             "to continue them from their checkpoints (this run starts them afresh)")


def _run_new_trials(run: _Run, resumed: Location, resumed_grid: list, echo) -> tuple[list, dict[str, str]]:
    """After a resumed run has ended on its own (not after a Ctrl-C): the trials it could not
    run, in a fresh Tune run. Those are the trials the spec gained since it was started, and
    trials that waited on one of its trials that failed and, retried now, finished (its
    searcher had given them up, and a restored Tune run asks its searcher for nothing more)."""
    from ribray.engine.searcher import METRIC, PlanSearcher

    if not all(_ended(r) for r in resumed_grid):
        return [], {}  # a trial neither finished nor failed: the resumed run was stopped midway
    done = done_trial_ids(run.layout.results) & set(run.plan.by_id())
    errored = {(r.config or {}).get("trial_id") for r in resumed_grid if _ended(r) and not (r.metrics or {}).get(METRIC)}
    errored -= done
    runnable = PlanSearcher(list(run.plan.trials), done=done, failed=errored).runnable()
    if not runnable:
        return [], {}
    recorded = recorded_trials(resumed) or set()
    gained, waited = set(runnable) - recorded, set(runnable) & recorded
    what = []
    if gained:
        what.append(f"the {len(gained)} trial(s) the spec gained since it started")
    if waited:
        what.append(f"{len(waited)} trial(s) that waited on trials it retried")
    echo(f"the resumed run is finished; running {' and '.join(what)}")
    return run.fit(Pass(done, failed=errored))


def _ended(result) -> bool:
    """A Tune result of a trial that finished, failed, or failed for good (not one stopped midway)."""
    from ribray.engine.searcher import METRIC

    metrics = result.metrics or {}
    return result.error is not None or bool(metrics.get(METRIC)) or bool(metrics.get(FAILED_FOR_GOOD))


def _dataset_folders(spec: Spec) -> dict[str, Path]:
    """Every dataset the spec reads, and its folder."""
    from ribray.data import dataset_folder

    return {n: dataset_folder(spec.data.root, n, dict(spec.data.folders)) for n in sorted(spec.datasets_read())}


def _fingerprints(spec: Spec, plan: Plan, echo) -> dict[str, str]:
    """Every dataset the plan reads, fingerprinted (its listing) before any trial runs."""
    from ribray.data.fingerprint import fingerprints

    folders = _dataset_folders(spec)
    echo(f"data: listing {len(folders)} dataset folder(s) to fingerprint them")
    return fingerprints(folders)


# what changed, the flag that reruns such trials, and the other way out
CHANGED = {"data": ("were computed on other data than the spec's data now", "--rerun-changed-data",
                    "or point data.root back at the old data"),
           "plugins": ("were computed with other plugin code than the spec's plugins now (or declared datasets "
                       "declared otherwise)", "--rerun-changed-plugins", "or restore the plugin's code")}


def _changed_inputs(plan: Plan, layout: SweepLayout, fingerprints: dict[str, str],
                    shards: dict[str, ShardIdentity | None], reruns: Reruns, echo) -> set[str]:
    """Finished trials computed on other data, or with other plugin code, than the spec's now:
    refused, or (reruns) their shards and fine-tuned weights set aside so that they run again."""
    from ribray.plugins import identities
    from ribray.results.checks import identity_changes, set_aside

    by_id = plan.by_id()
    data, code = identity_changes(shards, fingerprints, identities(), set(shards) & set(by_id))
    rerun: set[str] = set()
    for what, changed, allowed in (("data", data, reruns.data), ("plugins", code, reruns.plugins)):
        changed = {t: why for t, why in changed.items() if t not in rerun}
        if not changed:
            continue
        summary, flag, other_way = CHANGED[what]
        shown = "\n  ".join(f"{by_id[t].label} [{t}]: {why}" for t, why in list(changed.items())[:10])
        more = f"\n  ... and {len(changed) - 10} more" if len(changed) > 10 else ""
        if not allowed:
            raise RibrayError(f"{len(changed)} finished trial(s) {summary}:\n  {shown}{more}\nTheir results are not "
                              f"reused as if they were this {'data' if what == 'data' else 'code'}'s: pass {flag} to "
                              "run them again (their shards and weights are moved to .set-aside/ folders, not "
                              f"deleted), {other_way}")
        for trial_id in changed:
            set_aside(layout.shard(trial_id))
            key = by_id[trial_id].weights_key
            weights = layout.weights_file(key) if key else None
            if weights is not None and weights.exists():
                set_aside(weights)
        echo(f"{len(changed)} trial(s) run again ({flag}: their old results are in .set-aside/):\n  {shown}{more}")
        rerun |= set(changed)
    return rerun


def _context(spec: Spec, layout: SweepLayout, plan: Plan, fingerprints: dict[str, str], echo) -> SweepContext:
    from ribray.data.fake import generated_sets

    layout.root.makedirs()
    layout.mark(spec.name, spec.mlflow.experiment or spec.name, spec.spec_hash())
    tracking_uri = spec.mlflow.tracking_uri or layout.default_tracking_uri
    artifacts = artifact_root_for(tracking_uri)
    try:
        tracking = start_sweep(tracking_uri, spec.mlflow.experiment or spec.name, spec.name,
                               artifacts, sweep_tags(spec, layout))
        describe_sweep(tracking, sweep_params(spec, plan), {"spec.yaml": spec_text(spec)}, spec.resolved_eval_sets())
    except Exception as error:  # noqa: BLE001 - the sweep runs without MLflow, with a warning
        echo(f"warning: {tracking_failure(tracking_uri, error)}; results still go to Parquet; "
             "run `ribray mlflow sync` later")
        tracking = None
    return SweepContext(sweep=spec.name, spec_hash=spec.spec_hash(), sweep_dir=layout.root.uri,
                        data_root=spec.data.root, data_folders=dict(spec.data.folders),
                        eval=spec.eval, tracking=tracking, scratch=layout.scratch,
                        data_fingerprints=fingerprints, generated=generated_sets(_dataset_folders(spec)),
                        plugins=spec._plugins,
                        declared={f"datasets.{name}": d for name, d in spec.datasets.items()})


def _summarize(plan: Plan, already: set[str], layout: SweepLayout, grid, seconds: float) -> SweepSummary:
    done = done_trial_ids(layout.results) & set(plan.by_id())
    failed = {}
    for result in grid:
        trial_id = (result.config or {}).get("trial_id")
        if trial_id in done or not trial_id:
            continue
        if result.error is not None:
            failed[trial_id] = trial_error_text(result.error)
        elif (result.metrics or {}).get(FAILED_FOR_GOOD):
            failed[trial_id] = f"failed for good (not retried): {result.metrics[FAILED_FOR_GOOD]}"
    not_run = [t.trial_id for t in plan.trials if t.trial_id not in done and t.trial_id not in failed]
    return SweepSummary(len(plan), len(already), len(done), failed, not_run, seconds)


def trial_error_text(error: BaseException, limit: int = 1000) -> str:
    """A failed trial's error as the summary shows it: the trial's own exception (Ray wraps it
    in a RayTaskError whose text is a traceback) with its whole message, file names included."""
    cause = getattr(error, "cause", None) or error
    text = str(cause).strip()
    if cause is error and "Traceback" in text:
        text = text.splitlines()[-1]
    text = " ".join(text.split())
    return f"{type(cause).__name__}: {text[:limit] + ('...' if len(text) > limit else '')}"


def _driver_failure(root: Location, error: Exception | None, trial_ids: list[str]) -> dict[str, str]:
    """Name the likely cause when Ray Tune stops with an error of its own (None: it stopped
    because the storage is full)."""
    cause = f"{type(error).__name__}: {error}" if error is not None else ""
    if is_full(root):
        cause = full_message(root.path) + (f" ({cause})" if cause else "")
    return {trial_id: f"Ray Tune stopped: {cause}" for trial_id in trial_ids}


def _prune_checkpoints(layout: SweepLayout, echo) -> None:
    """Trials empty their checkpoints as they finish; a driver killed in between leaves some
    behind (its next run restores those trials, or finds them done): clean those up too."""
    from ribray.results.reclaim import prune_checkpoints

    try:
        prune_checkpoints(layout)
    except (OSError, RibrayError) as error:  # storage trouble: the results stand; `ribray prune` later
        echo(f"warning: could not delete finished trials' checkpoints under {layout.tune.uri} "
             f"({redact(str(error))}); `ribray prune` does it later")


def _close_tracking(tracking: TrackingInfo | None, summary: SweepSummary, echo) -> None:
    if tracking is None:
        return
    status = "FINISHED" if summary.complete else ("FAILED" if summary.failed else "KILLED")
    try:
        end_sweep(tracking, status, {"trials_done": summary.done, "trials_failed": len(summary.failed),
                                     "trials_planned": summary.planned})
    except Exception as error:  # noqa: BLE001
        echo(f"warning: could not close the MLflow sweep run: {redact(str(error))}")
