"""PlanSearcher: hands Ray Tune the plan's trials as their dependencies finish."""

from __future__ import annotations

import json
from pathlib import Path

from ray.tune.search import Searcher

from ribray.plan import Trial

METRIC = "trial_finished"  # Tune reserves "done" for itself


class PlanSearcher(Searcher):
    """Suggests ready trials (every dependency done) in plan order, interpolations first.

    The plan orders trials cell by cell (the fine-tunes an interpolation reads, then the
    interpolation), so the first WiSE-FT/soup trials start while the grid is still running,
    and a ready trial of an `early` kind (interpolations) jumps the queue. With estimated
    `hours` per trial, once the first early trial has started the longest ready trial goes
    next, so long fine-tunes do not leave GPUs idle at the end of the sweep.
    Trials whose dependency failed for good are never suggested; they are reported as skipped.
    """

    def __init__(self, trials: list[Trial], done: set[str] = frozenset(),
                 hours: dict[str, float] | None = None, failed: set[str] = frozenset()):
        super().__init__(metric=METRIC, mode="max")
        self.hours = dict(hours or {})  # estimated GPU-hours per plan id: longest ready first
        self.trials = {t.trial_id: t for t in trials}
        self.order = [t.trial_id for t in trials if t.trial_id not in done | failed]
        self.done: set[str] = set(done)
        self.failed: set[str] = set(failed)  # failed for good earlier: not run again
        self.running: dict[str, str] = {}  # Tune's trial id -> plan trial id

    def __setstate__(self, state: dict) -> None:
        # A searcher pickled by ribray 0.1 (tuner.pkl of an interrupted run) held a cost
        # function; its saved state (restore, below) replaces what it held right after.
        state.setdefault("hours", {})
        state.pop("cost", None)
        self.__dict__.update(state)

    # -- Tune's Searcher interface -------------------------------------------------------
    def suggest(self, trial_id: str) -> dict | str | None:
        ready = self._next_ready()
        if ready is None:
            return Searcher.FINISHED if not self.running and not self._waiting() else None
        self.order.remove(ready)
        self.running[trial_id] = ready
        return self.trials[ready].to_config()

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        plan_id = self.running.pop(trial_id, None)
        if plan_id is None:
            return
        if error or not result or not result.get(METRIC):
            self.failed.add(plan_id)
        else:
            self.done.add(plan_id)

    def save(self, checkpoint_path: str) -> None:
        Path(checkpoint_path).write_text(json.dumps(self.get_state()))

    def restore(self, checkpoint_path: str) -> None:
        self.set_state(json.loads(Path(checkpoint_path).read_text()))

    def get_state(self) -> dict:
        return {"trials": [t.to_config() for t in self.trials.values()], "order": self.order,
                "done": sorted(self.done), "failed": sorted(self.failed), "running": self.running,
                "hours": self.hours}

    def set_state(self, state: dict) -> None:
        """Also reads the state ribray 0.1 saved (its trial configs, no hours)."""
        self.trials = {c["trial_id"]: Trial.from_config(c) for c in state["trials"]}
        self.order, self.running = list(state["order"]), dict(state["running"])
        self.done, self.failed = set(state["done"]), set(state["failed"])
        if "hours" in state:
            self.hours = dict(state["hours"])
        else:  # ribray 0.1 kept a cost function instead: estimate from the packaged rates
            from ribray.plan.estimate import load_throughput, trial_hours

            throughput = load_throughput()
            self.hours = {i: trial_hours(t, throughput) for i, t in self.trials.items()}

    # -- plan bookkeeping ----------------------------------------------------------------
    def _next_ready(self) -> str | None:
        ready = [i for i in self.order if self._deps_done(i)]
        if not ready:
            return None
        early = [i for i in ready if self.trials[i].early]
        if early or not self.hours or not self.first_early_started():
            return (early or ready)[0]
        # Then the longest ready trial (LPT): the big sets' fine-tunes do not trail at the end
        # of the sweep while GPUs idle; ties keep plan order.
        return max(ready, key=lambda i: self.hours.get(i, 0.0))

    def first_early_started(self) -> bool:
        """Until then plan order, so the first cell's interpolations become ready early."""
        handed_out = self.done | self.failed | set(self.running.values())
        return any(self.trials[i].early for i in handed_out)

    def _deps_done(self, plan_id: str) -> bool:
        return all(d in self.done for d in self.trials[plan_id].depends_on)

    def _waiting(self) -> bool:
        """True while some unsuggested trial can still become ready."""
        return any(not self._blocked(i) for i in self.order)

    def _blocked(self, plan_id: str) -> bool:
        """A dependency failed for good (directly or further up), so it can never run."""
        return any(d in self.failed or (d in self.order and self._blocked(d))
                   for d in self.trials[plan_id].depends_on)

    def runnable(self) -> list[str]:
        """Plan ids still to run that no failed dependency blocks."""
        return [i for i in self.order if not self._blocked(i)]

    def skipped(self) -> list[str]:
        """Plan ids never run because a dependency failed."""
        return [i for i in self.order if self._blocked(i)]
