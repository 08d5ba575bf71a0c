"""A live progress line for the driver: done / running / waiting / failed, and an ETA."""

from __future__ import annotations

import sys
import time

from ray.tune import Callback

from ribray.compat.legacy_config import read_trial
from ribray.trials.trainable import FAILED_FOR_GOOD


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class Progress(Callback):
    """Prints one line per trial event (works in a terminal and in `ray job` logs).

    Trials are counted by their plan id, so none is counted twice: `planned` and `results` let
    it find, when Tune starts (also in a resumed run, which brings back the callback pickled
    when it began), the planned trials whose shard exists; a restored trial that finds its
    shard then completes without being counted again.

    The ETA is the plan's estimated work still to do (`hours` per plan id, the costs `ribray
    plan` shows), less what the running trials have done, at the rate measured so far (seconds
    per estimated hour over the trials timed this run), spread over the most trials seen
    running at once (and never less than the longest running trial has left). Before the first
    trial is timed there is no ETA."""

    def __init__(self, total: int, already_done: int, planned: list[str] | None = None,
                 results: str | None = None, hours: dict[str, float] | None = None):
        self.total, self.already_done = total, already_done
        self.planned, self.results = planned, results
        self.hours = dict(hours or {})
        self.timed_hours = 0.0  # estimated hours of the trials in `durations`
        self.lanes = 0  # the most trials seen running at once
        self.finished: set[str] = set()
        self.failed_ids: list[str] = []  # plan trial ids, for the summary if Tune itself fails
        self.running: dict[str, float] = {}  # plan trial id -> when it started
        self.durations: list[float] = []
        self.started = time.monotonic()

    def __setstate__(self, state: dict) -> None:
        """A restored run's callback, pickled when the run began: an older ribray's lacks attributes."""
        from ribray.compat.pickles import progress_attributes

        self.__dict__.update(progress_attributes(state))

    def setup(self, **info) -> None:
        self.started, self.running, self.failed_ids, self.finished = time.monotonic(), {}, [], set()
        planned, results = self.planned, self.results
        if planned is not None and results is not None:  # else (ribray 0.1's): it counts on from already_done
            from ribray.results.store import done_trial_ids
            from ribray.storage import Location

            self.finished, self.already_done = done_trial_ids(Location(results)) & set(planned), 0
        # the estimated hours of the trials not finished or failed, kept as they settle: O(1) per event
        self.settled = set(self.finished)
        self.left_hours = (sum(self._estimate(i) for i in planned if i not in self.settled) if planned else
                           self._estimate("") * max(0, self.total - self.done))

    def _settle(self, plan_id: str) -> None:
        """`plan_id` finished or failed: its work is no longer left to do."""
        if plan_id not in self.settled:
            self.settled.add(plan_id)
            self.left_hours = max(0.0, self.left_hours - self._estimate(plan_id))

    @property
    def done(self) -> int:
        return min(self.total, self.already_done + len(self.finished))  # never past the plan

    @property
    def failed(self) -> int:
        return len(set(self.failed_ids) - self.finished)

    def on_trial_start(self, iteration, trials, trial, **info):
        self.running[_plan_id(trial)] = time.monotonic()
        self.lanes = max(self.lanes, len(set(self.running) - self.finished))
        self._print(f"started  {_label(trial)}")

    def on_trial_complete(self, iteration, trials, trial, **info):
        if (getattr(trial, "last_result", None) or {}).get(FAILED_FOR_GOOD):  # ended without an error: not retried
            self._finish(trial)
            self.failed_ids.append(_plan_id(trial))
            self._print(f"FAILED   {_label(trial)} (for good, not retried; see the summary)")
            return
        before = _plan_id(trial) in self.finished  # restored, it found its shard: counted already
        self._finish(trial, timed=not before)
        self.finished.add(_plan_id(trial))
        self._print(f"finished {_label(trial)}" + (" (before the interruption)" if before else ""))

    def on_trial_error(self, iteration, trials, trial, **info):
        if self._has_shard(trial):  # finished before an interruption; Tune, restoring it, finds
            self._finish(trial, timed=False)  # its checkpoint gone
            self.finished.add(_plan_id(trial))
            self._print(f"finished {_label(trial)} (before the interruption)")
            return
        self._finish(trial)
        self.failed_ids.append(_plan_id(trial))
        self._print(f"FAILED   {_label(trial)} (after retries; see the summary)")

    def on_trial_recover(self, iteration, trials, trial, **info):
        self._print(f"retrying {_label(trial)} from its last checkpoint")

    def _finish(self, trial, timed: bool = True) -> None:
        """No longer running, its work no longer left to do; `timed`: its duration counts for the ETA."""
        self._settle(_plan_id(trial))
        start = self.running.pop(_plan_id(trial), None)
        if start is not None and timed:
            self.durations.append(time.monotonic() - start)
            self.timed_hours += self._estimate(_plan_id(trial))

    def _has_shard(self, trial) -> bool:
        results = self.results
        trial_id = (trial.config or {}).get("trial_id")
        if results is None or trial_id is None:
            return False
        from ribray.results.layout import shard_in
        from ribray.storage import Location

        return shard_in(Location(results), trial_id).exists()

    def _print(self, event: str) -> None:
        running = len(set(self.running) - self.finished)  # a restored trial that finds its shard: done
        waiting = max(0, self.total - self.done - self.failed - running)
        line = (f"[ribray {_duration(time.monotonic() - self.started)}] {self.done}/{self.total} done, "
                f"{running} running, {waiting} waiting, {self.failed} failed"
                f"{self._eta(waiting, running)} | {event}")
        print(line, file=sys.stdout, flush=True)  # looked up per call: the callback is pickled

    def _eta(self, waiting: int, running: int) -> str:
        if not self.durations:
            return ""
        return f", ETA {_duration(self.remaining_seconds())}"

    def _estimate(self, plan_id: str) -> float:
        """A trial's estimated hours; without estimates (a run pickled by an older ribray) each
        trial counts as one unit."""
        return self.hours.get(plan_id, 0.0) if self.hours else 1.0

    def remaining_seconds(self) -> float:
        """Estimated seconds until every trial not yet finished or failed is done (see the class)."""
        timed = self.timed_hours or len(self.durations)
        rate = sum(self.durations) / timed if timed else 0.0  # seconds per estimated hour
        now, finished = time.monotonic(), self.finished
        running = {i: now - start for i, start in self.running.items() if i not in finished}  # -> seconds so far
        spent = sum(min(elapsed, rate * self._estimate(i)) for i, elapsed in running.items())
        lanes = max(1, self.lanes, len(running))
        longest = max((rate * self._estimate(i) - elapsed for i, elapsed in running.items()), default=0.0)
        return max(0.0, (rate * self.left_hours - spent) / lanes, longest)  # the last trial does not split


def _plan_id(trial) -> str:
    return (trial.config or {}).get("trial_id", trial.trial_id)


def _label(trial) -> str:
    try:
        return f"{read_trial(trial.config).label} [{trial.config['trial_id']}]"
    except (KeyError, TypeError, ValueError):
        return str(trial)
