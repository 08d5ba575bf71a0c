"""A live progress line for the driver: done / running / waiting / failed, and an ETA."""

from __future__ import annotations

import sys
import time

from ray.tune import Callback

from ribray.plan import Trial
from ribray.trials.trainable import FAILED_FOR_GOOD


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class Progress(Callback):
    """Prints one line per trial event (works in a terminal and in `ray job` logs).

    `planned` and `results` let it count, when Tune starts (also in a resumed run, which
    brings back the callback pickled when it began), the planned trials whose shard exists."""

    def __init__(self, total: int, already_done: int, planned: list[str] | None = None,
                 results: str | None = None):
        self.total, self.done = total, already_done
        self.planned, self.results = planned, results
        self.failed = 0
        self.failed_ids: list[str] = []  # plan trial ids, for the summary if Tune itself fails
        self.running: dict[str, float] = {}
        self.durations: list[float] = []
        self.started = time.monotonic()

    def setup(self, **info) -> None:
        self.started, self.running, self.failed = time.monotonic(), {}, 0
        planned, results = getattr(self, "planned", None), getattr(self, "results", None)
        if planned is not None and results is not None:
            from ribray.results.store import done_trial_ids
            from ribray.storage import Location

            self.done = len(done_trial_ids(Location(results)) & set(planned))

    def on_trial_start(self, iteration, trials, trial, **info):
        self.running[trial.trial_id] = time.monotonic()
        self._print(f"started  {_label(trial)}")

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._finish(trial)
        if (trial.last_result or {}).get(FAILED_FOR_GOOD):  # ended without an error: not retried
            self.failed += 1
            self.failed_ids.append((trial.config or {}).get("trial_id", trial.trial_id))
            self._print(f"FAILED   {_label(trial)} (for good, not retried; see the summary)")
            return
        self.done += 1
        self._print(f"finished {_label(trial)}")

    def on_trial_error(self, iteration, trials, trial, **info):
        self._finish(trial)
        if self._has_shard(trial):  # finished before an interruption; Tune, restoring it, finds
            self._print(f"finished {_label(trial)} (before the interruption)")  # its checkpoint gone
            return
        self.failed += 1
        self.failed_ids.append((trial.config or {}).get("trial_id", trial.trial_id))
        self._print(f"FAILED   {_label(trial)} (after retries; see the summary)")

    def on_trial_recover(self, iteration, trials, trial, **info):
        self._print(f"retrying {_label(trial)} from its last checkpoint")

    def _finish(self, trial) -> None:
        start = self.running.pop(trial.trial_id, None)
        if start is not None:
            self.durations.append(time.monotonic() - start)

    def _has_shard(self, trial) -> bool:
        results = getattr(self, "results", None)
        trial_id = (trial.config or {}).get("trial_id")
        if results is None or trial_id is None:
            return False
        from ribray.results.store import shard_name
        from ribray.storage import Location

        return Location(results).child(shard_name(trial_id)).exists()

    def _print(self, event: str) -> None:
        waiting = self.total - self.done - self.failed - len(self.running)
        line = (f"[ribray {_duration(time.monotonic() - self.started)}] {self.done}/{self.total} done, "
                f"{len(self.running)} running, {waiting} waiting, {self.failed} failed"
                f"{self._eta(waiting)} | {event}")
        print(line, file=sys.stdout, flush=True)  # looked up per call: the callback is pickled

    def _eta(self, waiting: int) -> str:
        if not self.durations:
            return ""
        mean = sum(self.durations) / len(self.durations)
        lanes = max(1, len(self.running))
        return f", ETA {_duration(mean * (waiting + len(self.running)) / lanes)}"


def _label(trial) -> str:
    try:
        return f"{Trial.from_config(trial.config).label} [{trial.config['trial_id']}]"
    except (KeyError, TypeError, ValueError):
        return str(trial)
