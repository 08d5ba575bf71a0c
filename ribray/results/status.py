"""`ribray status`: where every trial of a sweep stands, from its results shards and the state
Ray Tune saved of its runs (no Ray needed): done, running, failed (with the error), waiting,
or blocked by a dependency that failed."""

from __future__ import annotations

import json
import posixpath
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow.fs as pafs

from ribray.results.layout import TUNE_RUN_PREFIX, SweepLayout
from ribray.results.store import done_trial_ids

if TYPE_CHECKING:
    from ribray.plan import Plan

DONE, RUNNING, FAILED, WAITING, BLOCKED = "done", "running", "failed", "waiting", "blocked"
TUNE_STATES = {"RUNNING": RUNNING, "ERROR": FAILED, "PENDING": WAITING, "PAUSED": WAITING}


@dataclass
class TrialStatus:
    trial_id: str
    label: str
    kind: str
    state: str
    error: str = ""  # the error's last line, for failed trials
    error_file: str = ""
    failures: int = 0


@dataclass
class SweepStatus:
    sweep: str
    trials: list[TrialStatus]
    run: str | None = None  # the newest Tune run folder
    notes: list[str] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(t.state for t in self.trials)


def sweep_status(layout: SweepLayout, plan: Plan) -> SweepStatus:
    """Every planned trial's state: its shard, else what the newest Tune run that had it says."""
    done = done_trial_ids(layout.results)
    seen, run = _tune_states(layout)
    found = []
    for trial in plan.trials:
        state, error, error_file, failures = DONE, "", "", 0
        if trial.trial_id not in done:
            state, error, error_file, failures = seen.get(trial.trial_id, (WAITING, "", "", 0))
        found.append(TrialStatus(trial.trial_id, trial.label, trial.kind, state, error, error_file, failures))
    blocked = _blocked({t.trial_id for t in found if t.state == FAILED}, plan.trials)
    for status in found:
        if status.state == WAITING and status.trial_id in blocked:
            status.state = BLOCKED
    return SweepStatus(layout.root.name, found, run)


def _blocked(failed: set[str], trials) -> set[str]:
    """Ids of the trials that wait, directly or further down, on a failed trial (in one pass
    over the plan's dependencies)."""
    dependents: dict[str, list[str]] = {}
    for trial in trials:
        for dependency in trial.depends_on:
            dependents.setdefault(dependency, []).append(trial.trial_id)
    blocked: set[str] = set()
    queue = list(failed)
    while queue:
        for dependent in dependents.get(queue.pop(), ()):
            if dependent not in blocked:
                blocked.add(dependent)
                queue.append(dependent)
    return blocked


def _tune_states(layout: SweepLayout) -> tuple[dict[str, tuple], str | None]:
    """Plan trial id -> (state, error, error file, failures), from the newest run first."""
    fs, root = layout.tune.fs, layout.tune.path
    runs = sorted((i.path for i in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
                   if i.type == pafs.FileType.Directory and posixpath.basename(i.path).startswith(TUNE_RUN_PREFIX)),
                  reverse=True)
    seen: dict[str, tuple] = {}
    for run in runs:
        for trial, metadata in _experiment_trials(fs, run):
            trial_id = (trial.get("config") or {}).get("trial_id")
            if not trial_id or trial_id in seen:
                continue
            state = TUNE_STATES.get(trial.get("status"), WAITING)
            error, error_file = "", ""
            if state == FAILED:
                error_file = _error_file(fs, run, trial, metadata)
                error = _last_line(fs, error_file) if error_file else "(no error file)"
            seen[trial_id] = (state, error, error_file, int(metadata.get("num_failures") or 0))
    return seen, runs[0] if runs else None


def _experiment_trials(fs: pafs.FileSystem, run: str, tries: int = 5) -> list[tuple[dict, dict]]:
    """The trials of Tune's newest saved state of `run`. Tune rewrites that file in place while
    it runs (a copy from its staging folder, not a rename), so a read can meet it half written:
    read it again; if it never parses, the run's trials count as waiting."""
    states = sorted(i.path for i in fs.get_file_info(pafs.FileSelector(run, allow_not_found=True))
                    if posixpath.basename(i.path).startswith("experiment_state") and i.path.endswith(".json"))
    if not states:
        return []
    for attempt in range(tries):
        try:
            with fs.open_input_stream(states[-1]) as stream:
                data = json.loads(stream.read())
            return [(json.loads(trial), json.loads(metadata)) for trial, metadata in data.get("trial_data", [])]
        except (ValueError, FileNotFoundError):
            if attempt < tries - 1:
                time.sleep(0.2)
    return []


def _error_file(fs: pafs.FileSystem, run: str, trial: dict, metadata: dict) -> str:
    name = metadata.get("error_filename") or "error.txt"
    folder = trial.get("relative_logdir") or ""
    path = posixpath.join(run, folder, name)
    return path if fs.get_file_info(path).type == pafs.FileType.File else ""


def _last_line(fs: pafs.FileSystem, path: str) -> str:
    with fs.open_input_stream(path) as stream:
        lines = [line for line in stream.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
